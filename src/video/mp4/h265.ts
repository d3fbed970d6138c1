// H.265 sequence parameter set (ITU-T H.265 §7.3.2.2.1, profile_tier_level §7.3.3) — picture
// size, profile, tier, level — and the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1).
import { VigilError } from '../../core/errors.ts';
import { RbspReader, unescapeRbsp, MAX_PARAMETER_SET_BYTES } from './bit-reader.ts';
import { ByteWriter, copyOf } from './byte-writer.ts';
import { H265_NAL, nalType } from './nal.ts';
import type { VideoFormat } from './types.ts';

export interface H265Sps extends VideoFormat {
  readonly codec: 'h265';
  /** general_profile_space(2) tier(1) profile_idc(5), compat(32), constraints(48), level(8): 12 bytes. */
  readonly generalProfileTierLevel: Uint8Array;
  readonly maxSubLayers: number;
  readonly temporalIdNesting: boolean;
}

function reverseBits32(v: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = out * 2 + ((v >>> i) & 1);
  return out;
}

/** RFC 6381 codecs string per ISO/IEC 14496-15 Annex E.3, e.g. "hvc1.1.6.L120.90". */
function hevcCodecString(ptl: Uint8Array): string {
  const b0 = ptl[0] ?? 0;
  const space = ['', 'A', 'B', 'C'][b0 >>> 6] ?? '';
  const tier = (b0 & 0x20) !== 0 ? 'H' : 'L';
  const compat = (((ptl[1] ?? 0) << 24) | ((ptl[2] ?? 0) << 16) | ((ptl[3] ?? 0) << 8) | (ptl[4] ?? 0)) >>> 0;
  const constraints = Array.from(ptl.subarray(5, 11));
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const tail = constraints.map((c) => `.${c.toString(16).toUpperCase()}`).join('');
  return `hvc1.${space}${String(b0 & 0x1f)}.${reverseBits32(compat).toString(16).toUpperCase()}.${tier}${String(ptl[11] ?? 0)}${tail}`;
}

/** profile_tier_level(1, maxSubLayersMinus1) after the 96 general bits (§7.3.3). */
function skipSubLayers(r: RbspReader, maxSubLayersMinus1: number): void {
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag());
    levelPresent.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1));
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i] === true) r.skip(88);
    if (levelPresent[i] === true) r.skip(8);
  }
}

/** Parse an SPS NAL unit (with its 2-byte header, no start code). */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  if (nal.length < 16 || nalType('h265', nal[0] ?? 0) !== H265_NAL.SPS) {
    throw new VigilError('VIGIL_MP4_MALFORMED', 'not an H.265 SPS NAL unit');
  }
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new RbspReader(rbsp);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  if (maxSubLayersMinus1 > 6) throw new VigilError('VIGIL_MP4_MALFORMED', 'sps_max_sub_layers_minus1 out of range');
  const temporalIdNesting = r.flag();
  const generalProfileTierLevel = copyOf(rbsp, 1, 13);
  r.skip(96);
  skipSubLayers(r, maxSubLayersMinus1);
  r.ueMax(15, 'sps_seq_parameter_set_id');
  const chromaFormat = r.ueMax(3, 'chroma_format_idc');
  const separateColourPlane = chromaFormat === 3 ? r.flag() : false;
  let width = r.ueMax(65535, 'pic_width_in_luma_samples');
  let height = r.ueMax(65535, 'pic_height_in_luma_samples');
  // Conformance window in chroma units (§7.4.3.2.1, Table 6-1).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormat;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  if (r.flag()) {
    const left = r.ueMax(65535, 'conf_win_left_offset');
    const right = r.ueMax(65535, 'conf_win_right_offset');
    const top = r.ueMax(65535, 'conf_win_top_offset');
    const bottom = r.ueMax(65535, 'conf_win_bottom_offset');
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
  }
  if (width <= 0 || height <= 0) throw new VigilError('VIGIL_MP4_MALFORMED', 'SPS picture size invalid');
  const bitDepthLuma = r.ueMax(8, 'bit_depth_luma_minus8') + 8;
  const bitDepthChroma = r.ueMax(8, 'bit_depth_chroma_minus8') + 8;
  const b0 = generalProfileTierLevel[0] ?? 0;
  return {
    codec: 'h265', width, height, profile: b0 & 0x1f, level: generalProfileTierLevel[11] ?? 0,
    chromaFormat, bitDepthLuma, bitDepthChroma, generalProfileTierLevel,
    maxSubLayers: maxSubLayersMinus1 + 1, temporalIdNesting, codecString: hevcCodecString(generalProfileTierLevel),
  };
}

/**
 * HEVCDecoderConfigurationRecord, 14496-15 §8.3.3.1.2:
 *   u8 configurationVersion=1, 12 bytes general profile/tier/level (as in the SPS),
 *   4b '1' + 12b min_spatial_segmentation_idc, 6b '1' + 2b parallelismType,
 *   6b '1' + 2b chromaFormat, 5b '1' + 3b bitDepthLumaMinus8, 5b '1' + 3b bitDepthChromaMinus8,
 *   u16 avgFrameRate, 2b constantFrameRate 3b numTemporalLayers 1b temporalIdNested 2b lengthSizeMinusOne,
 *   u8 numOfArrays, { 1b array_completeness 1b 0 6b NAL_unit_type, u16 numNalus, { u16 len, NAL }* }*
 * For 'hvc1' every array is complete (§8.4.1.1): parameter sets live here, not in samples.
 */
export function buildHvcC(vps: readonly Uint8Array[], sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  const arrays: [number, readonly Uint8Array[]][] = [[H265_NAL.VPS, vps], [H265_NAL.SPS, sps], [H265_NAL.PPS, pps]];
  let size = 23;
  for (const [, sets] of arrays) {
    if (sets.length === 0 || sets.length > 16) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'need 1..16 VPS, SPS and PPS');
    size += 3;
    for (const s of sets) {
      if (s.length === 0 || s.length > MAX_PARAMETER_SET_BYTES) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'parameter set size out of range');
      size += 2 + s.length;
    }
  }
  const first = sps[0];
  if (first === undefined) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'missing SPS');
  const info = parseH265Sps(first);
  const w = new ByteWriter(size);
  w.u8(1);
  w.raw(info.generalProfileTierLevel);
  w.u16(0xf000);
  w.u8(0xfc);
  w.u8(0xfc | info.chromaFormat);
  w.u8(0xf8 | (info.bitDepthLuma - 8));
  w.u8(0xf8 | (info.bitDepthChroma - 8));
  w.u16(0);
  w.u8((info.maxSubLayers << 3) | (info.temporalIdNesting ? 4 : 0) | 3);
  w.u8(arrays.length);
  for (const [type, sets] of arrays) {
    w.u8(0x80 | type);
    w.u16(sets.length);
    for (const s of sets) { w.u16(s.length); w.raw(s); }
  }
  return w.result();
}
