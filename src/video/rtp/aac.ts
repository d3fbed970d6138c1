// AAC over RTP, RFC 3640 mode AAC-hbr (§3.3.6): sizeLength=13, indexLength=3,
// indexDeltaLength=3 (other sizes accepted from the fmtp line, within bounds).
//
//  +---------+-----------+-----------+---------------+
//  | AU-headers-length (16 bits, in bits) | AU-header(1) ... AU-header(n) | padding to byte | AU(1) ... AU(n) |
//  AU-header = AU-size (sizeLength bits) + AU-Index / AU-Index-delta (index[Delta]Length bits)
//
// Several AUs per packet, or one AU fragmented over packets with the same timestamp, the marker
// on the last fragment (§3.2.3). Interleaving (a non-zero index delta) is not supported.
import { VigilError } from '../../core/errors.ts';
import { sequenceDelta, type RtpPacket } from './rtp-packet.ts';

export const AAC_MAX_FRAME_BYTES = 8192;
const MAX_AU_HEADERS = 64;

export interface AacHbrConfig {
  sizeLength?: number;
  indexLength?: number;
  indexDeltaLength?: number;
  /** Samples per AAC frame (RFC 3640 constantDuration; 1024 for AAC-LC). */
  frameDuration?: number;
  maxFrameBytes?: number;
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTP_MALFORMED', message);
}

function readBits(data: Uint8Array, bitOffset: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i += 1) {
    const bit = bitOffset + i;
    value = value * 2 + (((data[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
  }
  return value;
}

export class AacDepacketizer {
  readonly stats = { packets: 0, lostPackets: 0, frames: 0, droppedFrames: 0 };
  private readonly sizeLength: number;
  private readonly indexLength: number;
  private readonly indexDeltaLength: number;
  private readonly frameDuration: number;
  private readonly fragment: Buffer;
  private fragmentLength = 0;
  private fragmentSize = -1;
  private fragmentTimestamp = 0;
  private lastSequence = -1;

  constructor(config: AacHbrConfig = {}) {
    this.sizeLength = config.sizeLength ?? 13;
    this.indexLength = config.indexLength ?? 3;
    this.indexDeltaLength = config.indexDeltaLength ?? 3;
    this.frameDuration = config.frameDuration ?? 1024;
    const max = config.maxFrameBytes ?? AAC_MAX_FRAME_BYTES;
    for (const n of [this.sizeLength, this.indexLength, this.indexDeltaLength]) {
      if (!Number.isInteger(n) || n < 0 || n > 16) throw malformed('AAC-hbr field lengths are 0..16 bits');
    }
    if (this.sizeLength === 0) throw malformed('AAC-hbr needs a sizeLength');
    if (!Number.isInteger(max) || max < 1 || max > 1 << 20) throw malformed('maxFrameBytes out of range');
    this.fragment = Buffer.allocUnsafe(max);
  }

  /** Calls emit(frame, timestamp) per AAC frame; `frame` is a view valid during the call only. */
  push(packet: RtpPacket, emit: (frame: Uint8Array, timestamp: number) => void): void {
    this.stats.packets += 1;
    if (this.lastSequence >= 0) {
      const delta = sequenceDelta(this.lastSequence, packet.sequenceNumber);
      if (delta <= 0) return;
      if (delta > 1) {
        this.stats.lostPackets += delta - 1;
        this.dropFragment();
      }
    }
    this.lastSequence = packet.sequenceNumber;
    const data = packet.data;
    const start = packet.payloadStart;
    const end = packet.payloadEnd;
    if (end - start < 2) throw malformed('AAC payload without AU-headers-length');
    const headerBits = ((data[start] ?? 0) << 8) | (data[start + 1] ?? 0);
    const headerBytes = (headerBits + 7) >> 3;
    const firstBits = this.sizeLength + this.indexLength;
    const nextBits = this.sizeLength + this.indexDeltaLength;
    if (headerBits < firstBits || (headerBits - firstBits) % nextBits !== 0) throw malformed('AU-headers-length does not fit whole AU headers');
    const count = 1 + (headerBits - firstBits) / nextBits;
    if (count > MAX_AU_HEADERS) throw malformed('too many AU headers in one packet');
    if (start + 2 + headerBytes > end) throw malformed('AU headers run past the packet');
    const headers = data.subarray(start + 2, start + 2 + headerBytes);
    let at = start + 2 + headerBytes;
    let bit = 0;
    for (let i = 0; i < count; i += 1) {
      const size = readBits(headers, bit, this.sizeLength);
      bit += this.sizeLength;
      const index = readBits(headers, bit, i === 0 ? this.indexLength : this.indexDeltaLength);
      bit += i === 0 ? this.indexLength : this.indexDeltaLength;
      if (i > 0 && index !== 0) throw malformed('interleaved AAC (AU-Index-delta ≠ 0) is not supported');
      if (size > this.fragment.length) throw new VigilError('VIGIL_RTP_LIMIT_EXCEEDED', 'AAC frame larger than the limit');
      if (count === 1 && at + size > end) {
        this.readFragment(packet, data.subarray(at, end), size, emit);
        return;
      }
      if (at + size > end) throw malformed('AAC AU runs past the packet');
      this.dropFragment();
      this.stats.frames += 1;
      emit(data.subarray(at, at + size), (packet.timestamp + i * this.frameDuration) >>> 0);
      at += size;
    }
  }

  private readFragment(packet: RtpPacket, piece: Uint8Array, size: number, emit: (frame: Uint8Array, timestamp: number) => void): void {
    if (this.fragmentSize < 0 || this.fragmentSize !== size || this.fragmentTimestamp !== packet.timestamp) {
      this.dropFragment();
      this.fragmentSize = size;
      this.fragmentTimestamp = packet.timestamp;
    }
    if (this.fragmentLength + piece.length > size) {
      this.dropFragment();
      throw malformed('AAC fragments exceed the AU size');
    }
    this.fragment.set(piece, this.fragmentLength);
    this.fragmentLength += piece.length;
    if (this.fragmentLength === size) {
      this.stats.frames += 1;
      this.fragmentSize = -1;
      this.fragmentLength = 0;
      emit(this.fragment.subarray(0, size), packet.timestamp);
    } else if (packet.marker) {
      this.dropFragment(); // its head was lost (or never sent): drop, as after a gap
    }
  }

  private dropFragment(): void {
    if (this.fragmentSize >= 0) this.stats.droppedFrames += 1;
    this.fragmentSize = -1;
    this.fragmentLength = 0;
  }
}
