// H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1) — just enough for the picture size,
// profile and level — and the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1).
import { VigilError } from '../../core/errors.ts';
import { RbspReader, unescapeRbsp, MAX_PARAMETER_SET_BYTES } from './bit-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { H264_NAL } from './nal.ts';
import type { VideoFormat } from './types.ts';

export interface H264Sps extends VideoFormat {
  readonly codec: 'h264';
  readonly constraintFlags: number;
}

/** Profiles whose SPS carries chroma_format_idc and friends (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
/** Profiles for which avcC carries the chroma/bit-depth extension (14496-15 §5.3.3.1.2). */
const AVCC_EXT_PROFILES = new Set([100, 110, 122, 144]);

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** scaling_list() of §7.3.2.1.1.1: only walked, values are not needed. */
function skipScalingList(r: RbspReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new VigilError('VIGIL_MP4_MALFORMED', 'SPS scaling list delta out of range');
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

interface ChromaInfo {
  chromaFormat: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

function readChroma(r: RbspReader, profile: number): ChromaInfo {
  if (!HIGH_PROFILES.has(profile)) return { chromaFormat: 1, separateColourPlane: false, bitDepthLuma: 8, bitDepthChroma: 8 };
  const chromaFormat = r.ueMax(3, 'chroma_format_idc');
  const separateColourPlane = chromaFormat === 3 ? r.flag() : false;
  const bitDepthLuma = r.ueMax(6, 'bit_depth_luma_minus8') + 8;
  const bitDepthChroma = r.ueMax(6, 'bit_depth_chroma_minus8') + 8;
  r.skip(1); // qpprime_y_zero_transform_bypass_flag
  if (r.flag()) {
    const lists = chromaFormat === 3 ? 12 : 8;
    for (let i = 0; i < lists; i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
  }
  return { chromaFormat, separateColourPlane, bitDepthLuma, bitDepthChroma };
}

function skipPicOrderCnt(r: RbspReader): void {
  r.ueMax(12, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(2, 'pic_order_cnt_type');
  if (pocType === 0) {
    r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ueMax(255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
}

/** Parse an SPS NAL unit (with its 1-byte header, no start code). */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  if (nal.length < 4 || ((nal[0] ?? 0) & 0x1f) !== H264_NAL.SPS) {
    throw new VigilError('VIGIL_MP4_MALFORMED', 'not an H.264 SPS NAL unit');
  }
  const r = new RbspReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.u(8);
  const constraintFlags = r.u(8);
  const level = r.u(8);
  r.ueMax(31, 'seq_parameter_set_id');
  const chroma = readChroma(r, profile);
  skipPicOrderCnt(r);
  r.ueMax(32, 'max_num_ref_frames');
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(1023, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(1023, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag() ? 1 : 0;
  if (frameMbsOnly === 0) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  // Cropping units, Table 6-1 and equations 7-19..7-22.
  const chromaArrayType = chroma.separateColourPlane ? 0 : chroma.chromaFormat;
  const subWidthC = chromaArrayType === 3 ? 1 : 2;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  let width = widthMbs * 16;
  let height = (2 - frameMbsOnly) * heightMapUnits * 16;
  if (r.flag()) {
    const left = r.ueMax(8192, 'frame_crop_left_offset');
    const right = r.ueMax(8192, 'frame_crop_right_offset');
    const top = r.ueMax(8192, 'frame_crop_top_offset');
    const bottom = r.ueMax(8192, 'frame_crop_bottom_offset');
    width -= cropX * (left + right);
    height -= cropY * (top + bottom);
  }
  if (width <= 0 || height <= 0) throw new VigilError('VIGIL_MP4_MALFORMED', 'SPS cropping leaves no picture');
  const codecString = `avc1.${hex2(profile)}${hex2(constraintFlags)}${hex2(level)}`;
  return {
    codec: 'h264', width, height, profile, level, constraintFlags, codecString,
    chromaFormat: chroma.chromaFormat, bitDepthLuma: chroma.bitDepthLuma, bitDepthChroma: chroma.bitDepthChroma,
  };
}

function checkSets(sets: readonly Uint8Array[], what: string, max: number): void {
  if (sets.length === 0 || sets.length > max) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', `need 1..${max} ${what}`);
  for (const s of sets) {
    if (s.length === 0 || s.length > MAX_PARAMETER_SET_BYTES) throw new VigilError('VIGIL_MP4_TOO_LARGE', `${what} size out of range`);
  }
}

/**
 * AVCDecoderConfigurationRecord, 14496-15 §5.3.3.1.2:
 *   u8 configurationVersion=1, u8 AVCProfileIndication, u8 profile_compatibility,
 *   u8 AVCLevelIndication, 6b '1' + 2b lengthSizeMinusOne(=3), 3b '1' + 5b numOfSPS,
 *   { u16 len, SPS }*, u8 numOfPPS, { u16 len, PPS }*,
 *   [high profiles: 6b '1'+2b chroma_format, 5b '1'+3b luma−8, 5b '1'+3b chroma−8, u8 numSPSExt=0]
 */
export function buildAvcC(sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  checkSets(sps, 'SPS', 31);
  checkSets(pps, 'PPS', 255);
  const first = sps[0];
  if (first === undefined) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'missing SPS');
  const info = parseH264Sps(first);
  let size = 7 + 4;
  for (const s of sps) size += 2 + s.length;
  for (const p of pps) size += 2 + p.length;
  const w = new ByteWriter(size);
  w.u8(1);
  w.u8(info.profile);
  w.u8(info.constraintFlags);
  w.u8(info.level);
  w.u8(0xfc | 3);
  w.u8(0xe0 | sps.length);
  for (const s of sps) { w.u16(s.length); w.raw(s); }
  w.u8(pps.length);
  for (const p of pps) { w.u16(p.length); w.raw(p); }
  if (AVCC_EXT_PROFILES.has(info.profile)) {
    w.u8(0xfc | info.chromaFormat);
    w.u8(0xf8 | (info.bitDepthLuma - 8));
    w.u8(0xf8 | (info.bitDepthChroma - 8));
    w.u8(0);
  }
  return w.result();
}
