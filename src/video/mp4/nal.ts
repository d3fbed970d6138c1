// NAL unit framing. Annex-B byte streams (H.264 Annex B / H.265 Annex B: 0x000001 or 0x00000001
// start codes) and the length-prefixed form used inside MP4 samples (ISO/IEC 14496-15 §5.3.2:
// each NAL unit preceded by a (lengthSizeMinusOne + 1)-byte big-endian length; we always use 4).
import { VigilError } from '../../core/errors.ts';
import type { VideoCodec } from './types.ts';

/** Index of the first byte of the next 0x000001 start code at or after `from`, or -1. */
export function nextStartCode(bytes: Uint8Array, from: number): number {
  // Find each 0x01 with the engine's native indexOf, then look back for the two zeros: in
  // compressed data a 0x01 is rare enough that this beats a byte-by-byte JS loop several times.
  let i = from + 2;
  while (i < bytes.length) {
    const one = bytes.indexOf(1, i);
    if (one < 0) return -1;
    if (bytes[one - 1] === 0 && bytes[one - 2] === 0) return one - 2;
    i = one + 1;
  }
  return -1;
}

/** End of a NAL unit that runs up to `end`, dropping trailing_zero_8bits / a 4-byte code's zero. */
function trimTrailingZeros(bytes: Uint8Array, start: number, end: number): number {
  let e = end;
  while (e > start && bytes[e - 1] === 0) e--;
  return e;
}

/**
 * Visit each NAL unit of an Annex-B buffer as [start, end) offsets. Bytes before the first start
 * code are ignored (H.264 B.2: leading_zero_8bits). Empty NAL units are skipped.
 */
export function forEachAnnexBNal(bytes: Uint8Array, visit: (start: number, end: number) => void): void {
  let sc = nextStartCode(bytes, 0);
  while (sc >= 0) {
    const start = sc + 3;
    const next = nextStartCode(bytes, start);
    const end = trimTrailingZeros(bytes, start, next < 0 ? bytes.length : next);
    if (end > start) visit(start, end);
    sc = next;
  }
}

/** Annex-B buffer → bare NAL units (views, no copy). For set-up and test paths, not per frame. */
export function splitAnnexB(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  forEachAnnexBNal(bytes, (s, e) => out.push(bytes.subarray(s, e)));
  return out;
}

/** 4-byte length-prefixed buffer → bare NAL units (views). Every length is checked. */
export function splitLengthPrefixed(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 4 > bytes.length) throw new VigilError('VIGIL_MP4_MALFORMED', 'NAL length prefix truncated', { details: { offset: p } });
    const len = ((bytes[p] ?? 0) * 0x1000000) + (((bytes[p + 1] ?? 0) << 16) | ((bytes[p + 2] ?? 0) << 8) | (bytes[p + 3] ?? 0));
    p += 4;
    if (len === 0 || len > bytes.length - p) throw new VigilError('VIGIL_MP4_MALFORMED', 'NAL length out of bounds', { details: { offset: p - 4, length: len } });
    out.push(bytes.subarray(p, p + len));
    p += len;
  }
  return out;
}

/** nal_unit_type: H.264 §7.3.1 (5 bits of byte 0), H.265 §7.3.1.2 (6 bits after the forbidden bit). */
export function nalType(codec: VideoCodec, firstByte: number): number {
  return codec === 'h264' ? firstByte & 0x1f : (firstByte >>> 1) & 0x3f;
}

export const H264_NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, FILLER: 12 } as const;
export const H265_NAL = { IRAP_FIRST: 16, IRAP_LAST: 23, VPS: 32, SPS: 33, PPS: 34, AUD: 35, FILLER: 38, PREFIX_SEI: 39 } as const;

/** Parameter sets, access unit delimiters and filler: kept out of samples (they live in avcC/hvcC). */
export function isOutOfBandNal(codec: VideoCodec, type: number): boolean {
  if (codec === 'h264') return type === H264_NAL.SPS || type === H264_NAL.PPS || type === H264_NAL.AUD || type === H264_NAL.FILLER;
  return type === H265_NAL.VPS || type === H265_NAL.SPS || type === H265_NAL.PPS || type === H265_NAL.AUD || type === H265_NAL.FILLER;
}

/** SPS/PPS (H.264) or VPS/SPS/PPS (H.265): must match the init segment when seen in-band. */
export function isParameterSetNal(codec: VideoCodec, type: number): boolean {
  if (codec === 'h264') return type === H264_NAL.SPS || type === H264_NAL.PPS;
  return type === H265_NAL.VPS || type === H265_NAL.SPS || type === H265_NAL.PPS;
}

export function isVclNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
}

export function isKeyframeNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === H264_NAL.IDR : type >= H265_NAL.IRAP_FIRST && type <= H265_NAL.IRAP_LAST;
}
