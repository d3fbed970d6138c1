// SPS parsing (H.264 §7.3.2.1.1, H.265 §7.3.2.2.1) on parameter sets from real encoders, the
// exp-Golomb reader (H.264 §9.1) on hand-made bit strings, and bounds on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbspReader, unescapeRbsp } from './bit-reader.ts';
import { parseH264Sps } from './h264.ts';
import { parseH265Sps } from './h265.ts';
import { H264_SPS_1080P, H265_SPS_1080P, hex } from './fixtures.ts';

test('exp-Golomb: ue(v) and se(v) of H.264 Table 9-2/9-3', () => {
  // bits: 1 | 010 | 011 | 00100 | 00101 | 00110 | 0001000 → ue 0,1,2,3 then se(4)=−2, se(5)=3, ue 7
  const r = new RbspReader(hex('a6 42 98 40'));
  assert.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.se(), r.se(), r.ue()], [0, 1, 2, 3, -2, 3, 7]);
});

test('exp-Golomb: reads past the end and over-long codes are coded errors', () => {
  assert.throws(() => new RbspReader(hex('00')).ue(), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => new RbspReader(hex('0000000000')).ue(), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => new RbspReader(hex('ff')).u(9), { code: 'VIGIL_MP4_MALFORMED' });
});

test('emulation prevention bytes are removed (H.264 §7.4.1)', () => {
  assert.deepEqual(Array.from(unescapeRbsp(hex('00 00 03 01 00 00 03 00 03'))), [0, 0, 1, 0, 0, 0, 3]);
});

test('H.264 SPS from x264: 1920x1080 (1088 coded, cropped), High profile, level 4.0', () => {
  const sps = parseH264Sps(H264_SPS_1080P);
  assert.deepEqual(
    { w: sps.width, h: sps.height, p: sps.profile, l: sps.level, c: sps.chromaFormat, d: sps.bitDepthLuma, s: sps.codecString },
    { w: 1920, h: 1080, p: 100, l: 40, c: 1, d: 8, s: 'avc1.640028' },
  );
});

test('H.264 Baseline SPS without chroma fields: 640x480 (hand-assembled, no cropping)', () => {
  // 67 | profile 66 | constraints c0 | level 1e | ue sps_id 0, log2_max_frame_num−4 0, poc type 2 (011),
  // max_num_ref 1 (010), gaps 0, width_mbs−1 39, height_map_units−1 29, frame_mbs_only 1, direct8x8 1, crop 0, vui 0
  // bit string: 1 1 011 010 0 00000101000 000011110 1 1 0 0 1(stop) → see below
  const bits = '1' + '1' + '011' + '010' + '0' + '00000101000' + '000011110' + '1' + '1' + '0' + '0' + '1';
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  const body = Buffer.from(padded.match(/.{8}/g)?.map((b) => parseInt(b, 2)) ?? []);
  const sps = parseH264Sps(Uint8Array.from(Buffer.concat([Buffer.from('6742c01e', 'hex'), body])));
  assert.deepEqual({ w: sps.width, h: sps.height, p: sps.profile, l: sps.level, s: sps.codecString }, { w: 640, h: 480, p: 66, l: 30, s: 'avc1.42c01e' });
});

test('H.265 SPS from x265: 1920x1080, Main profile, level 4 (120), codec string', () => {
  const sps = parseH265Sps(H265_SPS_1080P);
  assert.deepEqual(
    { w: sps.width, h: sps.height, p: sps.profile, l: sps.level, c: sps.chromaFormat, s: sps.codecString, layers: sps.maxSubLayers },
    { w: 1920, h: 1080, p: 1, l: 120, c: 1, s: 'hvc1.1.6.L120.90', layers: 1 },
  );
});

test('truncated, wrong-type and oversized SPS are coded errors, never a generic throw', () => {
  // The fields we read end in byte 11 (H.264) / 25 (H.265); VUI and later fields are not parsed.
  for (let n = 0; n < 11; n++) {
    assert.throws(() => parseH264Sps(H264_SPS_1080P.subarray(0, n)), (e: unknown) => (e as { code?: string }).code === 'VIGIL_MP4_MALFORMED', `h264 cut at ${String(n)}`);
  }
  assert.equal(parseH264Sps(H264_SPS_1080P.subarray(0, 11)).height, 1080);
  for (let n = 0; n < 25; n++) {
    assert.throws(() => parseH265Sps(H265_SPS_1080P.subarray(0, n)), (e: unknown) => (e as { code?: string }).code === 'VIGIL_MP4_MALFORMED', `h265 cut at ${String(n)}`);
  }
  assert.throws(() => parseH264Sps(hex('68ebc3cb22c0')), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => parseH264Sps(new Uint8Array(10_000).fill(0x67, 0, 1)), { code: 'VIGIL_MP4_TOO_LARGE' });
  // width_mbs−1 as a 31-zero-bit exp-Golomb code: out of range, not a 2^31-wide picture
  assert.throws(() => parseH264Sps(hex('6742c01e f8 0000000180')), { code: 'VIGIL_MP4_MALFORMED' });
});
