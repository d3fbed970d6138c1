// Split a raw H.264/H.265 Annex-B elementary stream (what `ffmpeg -f h264|hevc` writes) into
// access units, by the rules of H.264 §7.4.1.2.3 / H.265 §7.4.2.4.4: a new access unit starts at
// an AUD, at a parameter set or prefix SEI after a picture's slices, or at the first slice of a
// new picture (first_mb_in_slice == 0 / first_slice_segment_in_pic_flag == 1).
// Used by tests, the benchmark and file import; live cameras arrive as RTP access units instead.
import { VigilError } from '../../core/errors.ts';
import { copyOf } from './byte-writer.ts';
import { H264_NAL, H265_NAL, isKeyframeNal, isParameterSetNal, isVclNal, nalType, nextStartCode } from './nal.ts';
import type { VideoCodec } from './types.ts';

export interface ElementaryAccessUnit {
  /** Annex-B bytes of the access unit (a view into the stream). */
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

export interface ElementaryStream {
  /** First distinct parameter sets, in stream order (copies). */
  readonly parameterSets: Uint8Array[];
  readonly units: ElementaryAccessUnit[];
}

export const MAX_STREAM_UNITS = 1_000_000;
const MAX_PARAMETER_SETS = 64;

function startsPicture(codec: VideoCodec, bytes: Uint8Array, s: number, e: number): boolean {
  // first_mb_in_slice is ue(v) right after the 1-byte header: value 0 is the single bit '1'.
  if (codec === 'h264') return s + 1 < e && ((bytes[s + 1] ?? 0) & 0x80) !== 0;
  return s + 2 < e && ((bytes[s + 2] ?? 0) & 0x80) !== 0;
}

function opensNewUnit(codec: VideoCodec, type: number): boolean {
  if (codec === 'h264') return type === H264_NAL.AUD || type === H264_NAL.SEI || type === H264_NAL.SPS || type === H264_NAL.PPS;
  return type === H265_NAL.AUD || type === H265_NAL.PREFIX_SEI || (type >= H265_NAL.VPS && type <= H265_NAL.PPS);
}

export function splitElementaryStream(bytes: Uint8Array, codec: VideoCodec): ElementaryStream {
  const parameterSets: Uint8Array[] = [];
  const units: ElementaryAccessUnit[] = [];
  let unitStart = -1;
  let hasVcl = false;
  let keyframe = false;
  const close = (end: number): void => {
    if (unitStart >= 0 && hasVcl) {
      if (units.length >= MAX_STREAM_UNITS) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'elementary stream has too many access units');
      units.push({ data: bytes.subarray(unitStart, end), keyframe });
    }
  };
  let sc = nextStartCode(bytes, 0);
  while (sc >= 0) {
    const s = sc + 3;
    const next = nextStartCode(bytes, s);
    let e = next < 0 ? bytes.length : next;
    while (e > s && bytes[e - 1] === 0) e--;
    if (e > s) {
      const type = nalType(codec, bytes[s] ?? 0);
      const vcl = isVclNal(codec, type);
      if (hasVcl && (opensNewUnit(codec, type) || (vcl && startsPicture(codec, bytes, s, e)))) {
        close(sc);
        unitStart = -1;
        hasVcl = false;
        keyframe = false;
      }
      if (unitStart < 0) unitStart = sc;
      if (vcl) hasVcl = true;
      if (isKeyframeNal(codec, type)) keyframe = true;
      if (isParameterSetNal(codec, type)) addParameterSet(parameterSets, bytes.subarray(s, e));
    }
    sc = next;
  }
  close(bytes.length);
  return { parameterSets, units };
}

function addParameterSet(list: Uint8Array[], nal: Uint8Array): void {
  if (list.some((p) => p.length === nal.length && p.every((v, i) => v === nal[i]))) return;
  if (list.length >= MAX_PARAMETER_SETS) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'too many distinct parameter sets');
  list.push(copyOf(nal));
}
