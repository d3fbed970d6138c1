// Access-unit assembly over RTP for the video payload formats (RFC 6184 §5.1 / RFC 7798 §4.1:
// an access unit is the packets of one RTP timestamp; the marker bit flags its last packet).
//
// NAL units are written straight into one reusable buffer, each prefixed by its 4-byte
// big-endian length (the ISO/IEC 14496-15 sample format the fMP4 muxer stores), so an FU
// fragment is copied once and no memory is allocated per frame in steady state.
// Sequence-gap rule (design §5): a gap damages the access unit in progress and the one the next
// packet belongs to; damaged units are dropped and so is everything until the next keyframe.
import { VigilError } from '../../core/errors.ts';
import { sequenceDelta, type RtpPacket } from './rtp-packet.ts';

export const DEFAULT_MAX_ACCESS_UNIT_BYTES = 8 * 1024 * 1024;
const INITIAL_CAPACITY = 64 * 1024;

/** A complete access unit. `data` is a view into the depacketizer's buffer, valid until its next push. */
export interface AccessUnit {
  timestamp: number;
  keyframe: boolean;
  nalCount: number;
  /** NAL units, each preceded by a 4-byte big-endian length. */
  data: Buffer;
}

/** Calls fn(start, end) for every NAL unit of length-prefixed data (e.g. AccessUnit.data). */
export function forEachNalUnit(data: Uint8Array, fn: (start: number, end: number) => void): void {
  let at = 0;
  while (at + 4 <= data.length) {
    const size = (((data[at] ?? 0) << 24) | ((data[at + 1] ?? 0) << 16) | ((data[at + 2] ?? 0) << 8) | (data[at + 3] ?? 0)) >>> 0;
    const start = at + 4;
    if (start + size > data.length) throw new VigilError('VIGIL_RTP_MALFORMED', 'NAL unit length runs past the access unit');
    fn(start, start + size);
    at = start + size;
  }
}

/** The writer a payload format appends NAL units to. */
export class AccessUnitWriter {
  readonly maxBytes: number;
  buffer: Buffer;
  length = 0;
  active = false;
  damaged = false;
  keyframe = false;
  nalCount = 0;
  timestamp = 0;
  private nalStart = -1;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    this.buffer = Buffer.allocUnsafe(Math.min(INITIAL_CAPACITY, maxBytes));
  }

  get nalOpen(): boolean {
    return this.nalStart >= 0;
  }

  begin(timestamp: number): void {
    this.active = true;
    this.damaged = false;
    this.keyframe = false;
    this.nalCount = 0;
    this.length = 0;
    this.nalStart = -1;
    this.timestamp = timestamp;
  }

  clear(): void {
    this.active = false;
    this.length = 0;
    this.nalStart = -1;
  }

  /** A whole NAL unit in one piece (single-NAL packets, aggregation units). */
  addNal(src: Uint8Array, start: number, end: number): void {
    this.beginNal();
    this.append(src, start, end);
    this.endNal();
  }

  /** Opens a NAL unit (a fragmented one is appended piece by piece, then ended). */
  beginNal(): void {
    if (this.nalStart >= 0) this.abortNal();
    this.reserve(4);
    this.nalStart = this.length;
    this.length += 4;
  }

  appendByte(value: number): void {
    this.reserve(1);
    this.buffer[this.length] = value;
    this.length += 1;
  }

  append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    this.buffer.set(src.subarray(start, end), this.length);
    this.length += n;
  }

  endNal(): void {
    if (this.nalStart < 0) return;
    const size = this.length - this.nalStart - 4;
    if (size === 0) {
      this.abortNal();
      return;
    }
    this.buffer.writeUInt32BE(size, this.nalStart);
    this.nalStart = -1;
    this.nalCount += 1;
  }

  /** Drops a NAL unit that lost fragments; the access unit is then damaged. */
  abortNal(): void {
    if (this.nalStart < 0) return;
    this.length = this.nalStart;
    this.nalStart = -1;
    this.damaged = true;
  }

  private reserve(n: number): void {
    const needed = this.length + n;
    if (needed <= this.buffer.length) return;
    if (needed > this.maxBytes) {
      throw new VigilError('VIGIL_RTP_LIMIT_EXCEEDED', `access unit larger than ${this.maxBytes} bytes`);
    }
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(Math.min(capacity, this.maxBytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

/** A codec's RTP payload format: reads one packet's payload into the access unit. */
export interface VideoPayloadFormat {
  readonly codec: 'H264' | 'H265';
  read(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void;
  /** Forgets fragment state (a fragmented NAL unit in progress is aborted by the writer). */
  reset(): void;
}

export interface DepacketizerStats {
  packets: number;
  lostPackets: number;
  latePackets: number;
  accessUnits: number;
  droppedAccessUnits: number;
}

export interface VideoDepacketizerOptions {
  maxAccessUnitBytes?: number;
}

export class VideoDepacketizer {
  readonly stats: DepacketizerStats = { packets: 0, lostPackets: 0, latePackets: 0, accessUnits: 0, droppedAccessUnits: 0 };
  private readonly format: VideoPayloadFormat;
  private readonly au: AccessUnitWriter;
  private readonly out: AccessUnit = { timestamp: 0, keyframe: false, nalCount: 0, data: Buffer.alloc(0) };
  private lastSequence = -1;
  private waitKeyframe = true;

  constructor(format: VideoPayloadFormat, options: VideoDepacketizerOptions = {}) {
    this.format = format;
    this.au = new AccessUnitWriter(options.maxAccessUnitBytes ?? DEFAULT_MAX_ACCESS_UNIT_BYTES);
  }

  get codec(): 'H264' | 'H265' {
    return this.format.codec;
  }

  /**
   * Feeds one parsed RTP packet; calls emit for each complete, undamaged access unit (the first
   * one and the first after any loss are keyframes). Throws VIGIL_RTP_MALFORMED /
   * VIGIL_RTP_LIMIT_EXCEEDED on a bad payload, after dropping the unit and resynchronising.
   */
  push(packet: RtpPacket, emit: (au: AccessUnit) => void): void {
    this.stats.packets += 1;
    let gap = false;
    if (this.lastSequence >= 0) {
      const delta = sequenceDelta(this.lastSequence, packet.sequenceNumber);
      if (delta <= 0) {
        this.stats.latePackets += 1; // duplicate or reordered: no jitter buffer, drop it
        return;
      }
      if (delta > 1) {
        gap = true;
        this.stats.lostPackets += delta - 1;
      }
    }
    this.lastSequence = packet.sequenceNumber;
    const au = this.au;
    if (gap && au.active) au.damaged = true;
    if (au.active && packet.timestamp !== au.timestamp) this.finish(emit);
    if (!au.active) au.begin(packet.timestamp);
    if (gap) this.resync();
    try {
      this.format.read(au, packet.data, packet.payloadStart, packet.payloadEnd);
    } catch (err) {
      this.resync(); // the unit stays open and damaged: its remaining packets are dropped with it
      throw err;
    }
    if (packet.marker) this.finish(emit);
  }

  /** Emits the unit in progress, if complete (call when the stream ends). */
  flush(emit: (au: AccessUnit) => void): void {
    this.finish(emit);
  }

  private resync(): void {
    this.au.abortNal();
    this.au.damaged = true;
    this.format.reset();
    this.waitKeyframe = true;
  }

  private finish(emit: (au: AccessUnit) => void): void {
    const au = this.au;
    if (!au.active) return;
    if (au.nalOpen) {
      au.abortNal();
      this.format.reset();
    }
    const usable = !au.damaged && au.nalCount > 0 && (!this.waitKeyframe || au.keyframe);
    if (au.damaged) this.waitKeyframe = true;
    if (!usable) {
      this.stats.droppedAccessUnits += 1;
      au.clear();
      return;
    }
    this.waitKeyframe = false;
    this.stats.accessUnits += 1;
    const out = this.out;
    out.timestamp = au.timestamp;
    out.keyframe = au.keyframe;
    out.nalCount = au.nalCount;
    out.data = au.buffer.subarray(0, au.length);
    au.clear();
    emit(out);
  }
}
