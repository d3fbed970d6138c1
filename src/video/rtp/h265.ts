// H.265 over RTP, RFC 7798 (sprop-max-don-diff = 0: no DONL/DOND fields, §4.4.1–4.4.3).
//
// NAL unit header (§1.1.4):  |F|   Type    |  LayerId  | TID |   (2 bytes, F must be 0)
// Single NAL unit packet (§4.4.1): types 0–47.
// Aggregation packet (§4.4.2): [PayloadHdr type 48] ( [16-bit size][NAL unit] )+
// Fragmentation unit (§4.4.3): [PayloadHdr type 49 (2)] [FU header: S|E|FuType(6)] [fragment];
//   the NAL header is the PayloadHdr with Type replaced by FuType.
// PACI packets (type 50, §4.4.4) are not supported and rejected.
import { VigilError } from '../../core/errors.ts';
import { AccessUnitWriter, VideoDepacketizer, type VideoDepacketizerOptions, type VideoPayloadFormat } from './access-unit.ts';
import { RtpPacketizer, type RtpPacketizerOptions } from './packetizer.ts';

export const H265_NAL = { IDR_W_RADL: 19, IDR_N_LP: 20, CRA: 21, VPS: 32, SPS: 33, PPS: 34, AUD: 35, PREFIX_SEI: 39, AP: 48, FU: 49, PACI: 50 } as const;

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTP_MALFORMED', message);
}

/** IRAP pictures (BLA 16–18, IDR 19–20, CRA 21): a decoder can start there. */
export function isH265KeyframeNal(type: number): boolean {
  return type >= 16 && type <= 21;
}

export function h265NalType(firstHeaderByte: number): number {
  return (firstHeaderByte >> 1) & 0x3f;
}

export class H265PayloadFormat implements VideoPayloadFormat {
  readonly codec = 'H265' as const;
  private fragmenting = false;

  reset(): void {
    this.fragmenting = false;
  }

  read(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    if (end - start < 3) throw malformed('H.265 RTP payload shorter than a NAL header plus one byte');
    const header = data[start] ?? 0;
    if ((header & 0x80) !== 0) throw malformed('H.265 forbidden_zero_bit is set');
    const type = h265NalType(header);
    if (type <= 47) {
      this.interruptFragment(au);
      au.addNal(data, start, end);
      if (isH265KeyframeNal(type)) au.keyframe = true;
    } else if (type === H265_NAL.AP) {
      this.interruptFragment(au);
      this.readAggregation(au, data, start + 2, end);
    } else if (type === H265_NAL.FU) {
      this.readFragment(au, data, start, end);
    } else {
      throw malformed(`H.265 payload type ${type} is not supported`);
    }
  }

  private interruptFragment(au: AccessUnitWriter): void {
    if (!this.fragmenting) return;
    this.fragmenting = false;
    au.abortNal();
  }

  private readAggregation(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    let at = start;
    let count = 0;
    while (at < end) {
      if (at + 2 > end) throw malformed('AP NAL unit size runs past the packet');
      const size = ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
      at += 2;
      if (size < 2 || at + size > end) throw malformed('AP NAL unit size is invalid');
      const type = h265NalType(data[at] ?? 0);
      if (type > 47) throw malformed('AP carries a non-single NAL unit');
      au.addNal(data, at, at + size);
      if (isH265KeyframeNal(type)) au.keyframe = true;
      at += size;
      count += 1;
    }
    if (count < 2) throw malformed('an AP carries at least two NAL units (RFC 7798 §4.4.2)');
  }

  private readFragment(au: AccessUnitWriter, data: Uint8Array, start: number, end: number): void {
    if (end - start < 4) throw malformed('FU shorter than its headers plus one byte');
    const fu = data[start + 2] ?? 0;
    const isStart = (fu & 0x80) !== 0;
    const isEnd = (fu & 0x40) !== 0;
    const type = fu & 0x3f;
    if (isStart && isEnd) throw malformed('FU with both start and end bits');
    if (type > 47) throw malformed('FU fragments a non-single NAL unit');
    if (isStart) {
      this.interruptFragment(au);
      au.beginNal();
      au.appendByte(((data[start] ?? 0) & 0x81) | (type << 1));
      au.appendByte(data[start + 1] ?? 0);
      this.fragmenting = true;
      if (isH265KeyframeNal(type)) au.keyframe = true;
    } else if (!this.fragmenting) {
      au.damaged = true;
      return;
    }
    au.append(data, start + 3, end);
    if (isEnd) {
      au.endNal();
      this.fragmenting = false;
    }
  }
}

/** sprop-max-don-diff > 0 means DONL fields this depacketizer does not parse (RFC 7798 §7.1). */
export function createH265Depacketizer(options: VideoDepacketizerOptions & { spropMaxDonDiff?: number } = {}): VideoDepacketizer {
  if ((options.spropMaxDonDiff ?? 0) !== 0) throw new VigilError('VIGIL_RTSP_UNSUPPORTED', 'H.265 with sprop-max-don-diff > 0 is not supported');
  return new VideoDepacketizer(new H265PayloadFormat(), options);
}

/** H.265 packetizer: single NAL unit packets and FUs (RFC 7798 §4.4.1, §4.4.3). */
export function createH265Packetizer(options: RtpPacketizerOptions): RtpPacketizer {
  return new RtpPacketizer(options, {
    headerBytes: 2,
    fragmentHeaderBytes: 3,
    writeFragmentHeader(nal, target, at, isStart, isEnd) {
      const h0 = nal[0] ?? 0;
      target[at] = (h0 & 0x81) | (H265_NAL.FU << 1);
      target[at + 1] = nal[1] ?? 0;
      target[at + 2] = (isStart ? 0x80 : 0) | (isEnd ? 0x40 : 0) | h265NalType(h0);
    },
  });
}
