// H.264 over RTP, RFC 6184, packetization-mode 0 and 1 (non-interleaved).
//
// NAL unit header (§1.3):  |F|NRI|  Type   |      F must be 0.
// Single NAL unit packet (§5.6): types 1–23, the payload is the NAL unit.
// STAP-A (§5.7.1):  [STAP-A hdr: type 24] ( [16-bit size][NAL unit] )+
// FU-A (§5.8):      [FU indicator: F|NRI|28] [FU header: S|E|R|Type] [fragment]
//                   the NAL header is rebuilt as (indicator & 0xE0) | (FU header & 0x1F).
// STAP-B, MTAP16/24 and FU-B (types 25–27, 29) exist only in interleaved mode, which an RTSP
// source negotiated by us never uses: they are rejected as malformed.
import { VigilError } from '../../core/errors.ts';
import { AccessUnitWriter, VideoDepacketizer, type VideoDepacketizerOptions, type VideoPayloadFormat } from './access-unit.ts';
import { RtpPacketizer, type RtpPacketizerOptions } from './packetizer.ts';

export const H264_NAL = { NON_IDR: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, STAP_A: 24, FU_A: 28 } as const;

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTP_MALFORMED', message);
}

/** True for the NAL types of an IDR picture (the only safe start of an H.264 stream). */
export function isH264KeyframeNal(type: number): boolean {
  return type === H264_NAL.IDR;
}

export class H264PayloadFormat implements VideoPayloadFormat {
  readonly codec = 'H264' as const;
  private fragmenting = false;

  reset(): void {
    this.fragmenting = false;
  }

  read(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    if (end - start < 1) throw malformed('empty H.264 RTP payload');
    const header = data[start] ?? 0;
    if ((header & 0x80) !== 0) throw malformed('H.264 forbidden_zero_bit is set');
    const type = header & 0x1f;
    if (type >= 1 && type <= 23) {
      this.interruptFragment(au);
      au.addNal(data, start, end);
      if (isH264KeyframeNal(type)) au.keyframe = true;
    } else if (type === H264_NAL.STAP_A) {
      this.interruptFragment(au);
      this.readStapA(au, data, start + 1, end);
    } else if (type === H264_NAL.FU_A) {
      this.readFuA(au, data, start, end);
    } else {
      throw malformed(`H.264 NAL unit type ${type} is not allowed in non-interleaved mode`);
    }
  }

  private interruptFragment(au: AccessUnitWriter): void {
    if (!this.fragmenting) return;
    this.fragmenting = false;
    au.abortNal(); // FU-A without its end fragment (§5.8): the NAL unit is incomplete
  }

  private readStapA(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    let at = start;
    if (at >= end) throw malformed('STAP-A without NAL units');
    while (at < end) {
      if (at + 2 > end) throw malformed('STAP-A NAL unit size runs past the packet');
      const size = ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
      at += 2;
      if (size === 0 || at + size > end) throw malformed('STAP-A NAL unit size is invalid');
      const type = (data[at] ?? 0) & 0x1f;
      if (type === 0 || type > 23) throw malformed('STAP-A carries a non-single NAL unit');
      au.addNal(data, at, at + size);
      if (isH264KeyframeNal(type)) au.keyframe = true;
      at += size;
    }
  }

  private readFuA(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    if (end - start < 3) throw malformed('FU-A shorter than its headers plus one byte');
    const indicator = data[start] ?? 0;
    const fu = data[start + 1] ?? 0;
    const isStart = (fu & 0x80) !== 0;
    const isEnd = (fu & 0x40) !== 0;
    const type = fu & 0x1f;
    if (isStart && isEnd) throw malformed('FU-A with both start and end bits');
    if (type === 0 || type > 23) throw malformed('FU-A fragments a non-single NAL unit');
    if (isStart) {
      this.interruptFragment(au);
      au.beginNal();
      au.appendByte((indicator & 0xe0) | type);
      this.fragmenting = true;
      if (isH264KeyframeNal(type)) au.keyframe = true;
    } else if (!this.fragmenting) {
      au.damaged = true; // its start was lost: drop the fragment
      return;
    }
    au.append(data, start + 2, end);
    if (isEnd) {
      au.endNal();
      this.fragmenting = false;
    }
  }
}

export function createH264Depacketizer(options: VideoDepacketizerOptions = {}): VideoDepacketizer {
  return new VideoDepacketizer(new H264PayloadFormat(), options);
}

/**
 * Packetizes H.264 access units (RFC 6184 packetization-mode 1): a NAL unit that fits the MTU is
 * a single NAL unit packet, a larger one is split into FU-A fragments. Marker on the last packet.
 */
export function createH264Packetizer(options: RtpPacketizerOptions): RtpPacketizer {
  return new RtpPacketizer(options, {
    headerBytes: 1,
    fragmentHeaderBytes: 2,
    writeFragmentHeader(nal, target, at, isStart, isEnd) {
      const header = nal[0] ?? 0;
      target[at] = (header & 0xe0) | H264_NAL.FU_A;
      target[at + 1] = (isStart ? 0x80 : 0) | (isEnd ? 0x40 : 0) | (header & 0x1f);
    },
  });
}
