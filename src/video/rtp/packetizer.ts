// Generic NAL-unit packetizer shared by H.264 (RFC 6184 §5.6/§5.8) and H.265 (RFC 7798 §4.4.1/
// §4.4.3): a NAL unit that fits is sent whole; a larger one is split into fragmentation units
// whose headers the codec writes. The marker bit is set on the last packet of the access unit.
// Each emitted buffer is freshly allocated (it is retained by socket queues of many clients)
// with `headroom` free bytes in front, so the RTSP server can put its 4-byte interleaved header
// there and send one buffer.
import { VigilError } from '../../core/errors.ts';
import { RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.ts';

export const DEFAULT_RTP_MTU = 1400;

export interface RtpPacketizerOptions {
  payloadType: number;
  ssrc: number;
  initialSequence: number;
  /** Largest RTP packet (header + payload) in bytes; default 1400, range 64..65535. */
  mtu?: number;
  /** Free bytes before the RTP header in each emitted buffer (4 for RTSP interleaving). */
  headroom?: number;
}

export interface FragmentScheme {
  /** Size of the codec's NAL unit header (1 for H.264, 2 for H.265). */
  headerBytes: number;
  /** Bytes of FU headers in front of each fragment (2 for FU-A, 3 for H.265 FU). */
  fragmentHeaderBytes: number;
  writeFragmentHeader(nal: Uint8Array, target: Uint8Array, at: number, isStart: boolean, isEnd: boolean): void;
}

export class RtpPacketizer {
  private readonly payloadType: number;
  private readonly ssrc: number;
  private readonly maxPayload: number;
  private readonly headroom: number;
  private readonly scheme: FragmentScheme;
  private sequence: number;

  constructor(options: RtpPacketizerOptions, scheme: FragmentScheme) {
    const mtu = options.mtu ?? DEFAULT_RTP_MTU;
    if (!Number.isInteger(mtu) || mtu < 64 || mtu > 65_535) throw new VigilError('VIGIL_RTP_MALFORMED', 'MTU must be 64..65535');
    this.payloadType = options.payloadType;
    this.ssrc = options.ssrc;
    this.sequence = options.initialSequence & 0xffff;
    this.maxPayload = mtu - RTP_HEADER_BYTES;
    this.headroom = options.headroom ?? 0;
    this.scheme = scheme;
  }

  /** The sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.sequence;
  }

  /** Packetizes one access unit (its NAL units without start codes or length prefixes). */
  packetize(nals: readonly Uint8Array[], timestamp: number, emit: (packet: Buffer) => void): void {
    for (let i = 0; i < nals.length; i += 1) {
      const nal = nals[i];
      if (nal === undefined || nal.length <= this.scheme.headerBytes) throw new VigilError('VIGIL_RTP_MALFORMED', 'a NAL unit shorter than its header');
      const last = i === nals.length - 1;
      if (nal.length <= this.maxPayload) {
        const packet = this.allocate(nal.length, timestamp, last);
        packet.set(nal, this.headroom + RTP_HEADER_BYTES);
        emit(packet);
      } else {
        this.fragment(nal, timestamp, last, emit);
      }
    }
  }

  private fragment(nal: Uint8Array, timestamp: number, lastNal: boolean, emit: (packet: Buffer) => void): void {
    const { headerBytes, fragmentHeaderBytes } = this.scheme;
    const chunk = this.maxPayload - fragmentHeaderBytes;
    for (let at = headerBytes; at < nal.length; at += chunk) {
      const end = Math.min(at + chunk, nal.length);
      const isStart = at === headerBytes;
      const isEnd = end === nal.length;
      const packet = this.allocate(fragmentHeaderBytes + end - at, timestamp, lastNal && isEnd);
      const payloadAt = this.headroom + RTP_HEADER_BYTES;
      this.scheme.writeFragmentHeader(nal, packet, payloadAt, isStart, isEnd);
      packet.set(nal.subarray(at, end), payloadAt + fragmentHeaderBytes);
      emit(packet);
    }
  }

  private allocate(payloadBytes: number, timestamp: number, marker: boolean): Buffer {
    const packet = Buffer.allocUnsafe(this.headroom + RTP_HEADER_BYTES + payloadBytes);
    packet.fill(0, 0, this.headroom);
    writeRtpHeader(packet, this.headroom, { marker, payloadType: this.payloadType, sequenceNumber: this.sequence, timestamp, ssrc: this.ssrc });
    this.sequence = (this.sequence + 1) & 0xffff;
    return packet;
  }
}
