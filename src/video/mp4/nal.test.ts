// NAL framing (H.264 Annex B, ISO/IEC 14496-15 §5.3.2) and access unit splitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitAnnexB, splitLengthPrefixed } from './nal.ts';
import { splitElementaryStream } from './elementary-stream.ts';
import { H264_PPS, H264_SPS_1080P, hex } from './fixtures.ts';

const toHex = (list: Uint8Array[]): string[] => list.map((n) => Buffer.from(n).toString('hex'));

test('Annex-B: 3- and 4-byte start codes, leading and trailing zeros, empty NAL units', () => {
  assert.deepEqual(toHex(splitAnnexB(hex('0000 00000001 6742 000001 68ce 00000001 000001 65aa0000 00'))), ['6742', '68ce', '65aa']);
  assert.deepEqual(toHex(splitAnnexB(hex('6742 0001 02'))), []);
});

test('length-prefixed: lengths checked against the buffer', () => {
  assert.deepEqual(toHex(splitLengthPrefixed(hex('00000002 6742 00000001 68'))), ['6742', '68']);
  assert.throws(() => splitLengthPrefixed(hex('00000005 6742')), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => splitLengthPrefixed(hex('000000')), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => splitLengthPrefixed(hex('00000000')), { code: 'VIGIL_MP4_MALFORMED' });
});

test('access units: parameter sets open a unit, first_mb_in_slice == 0 starts a picture', () => {
  const sc = '00000001';
  const stream = hex(
    sc + Buffer.from(H264_SPS_1080P).toString('hex') + sc + Buffer.from(H264_PPS).toString('hex') +
    sc + '6588aa' + sc + '6500bb' + // IDR: two slices (second has first_mb_in_slice != 0)
    sc + '4188cc' + // P picture
    sc + '0910' + sc + '4188dd', // AUD then P picture
  );
  const es = splitElementaryStream(stream, 'h264');
  assert.deepEqual(es.units.map((u) => [toHex(splitAnnexB(u.data)).length, u.keyframe]), [[4, true], [1, false], [2, false]]);
  assert.deepEqual(toHex(es.parameterSets), toHex([H264_SPS_1080P, H264_PPS]));
});
