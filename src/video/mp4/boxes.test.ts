// Byte-exact checks of the boxes we write against bytes computed by hand from ISO/IEC 14496-12
// (§4.3 ftyp, §8.2.2 mvhd, §8.8.4–§8.8.12 moof/mfhd/traf/tfhd/tfdt/trun, §8.1.1 mdat),
// 14496-15 (avcC, hvcC) and 14496-3 (AudioSpecificConfig, ADTS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter } from './byte-writer.ts';
import { writeFtyp, writeMvhd } from './init-segment.ts';
import { FragmentMuxer } from './muxer.ts';
import { buildAvcC } from './h264.ts';
import { buildHvcC } from './h265.ts';
import { aacAudioSpecificConfig, parseAdtsHeader } from './aac.ts';
import { H264_PPS, H264_SPS_1080P, H265_PPS, H265_SPS_1080P, H265_VPS, hex } from './fixtures.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('ftyp: size, major brand isom, minor 0x200, compatible isom/iso6/mp41', () => {
  const w = new ByteWriter(64);
  writeFtyp(w);
  assert.equal(toHex(w.result()), toHex(hex('0000001c 66747970 69736f6d 00000200 69736f6d 69736f36 6d703431')));
});

test('mvhd v0: 108 bytes, timescale 1000, unity matrix, next_track_ID', () => {
  const w = new ByteWriter(200);
  writeMvhd(w, 2);
  const expected = hex(
    '0000006c 6d766864 00000000' + // size 108, 'mvhd', version 0 flags 0
    '00000000 00000000 000003e8 00000000' + // creation, modification, timescale 1000, duration 0
    '00010000 0100 0000 00000000 00000000' + // rate 1.0, volume 1.0, reserved
    '00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000' + // matrix
    '00000000 00000000 00000000 00000000 00000000 00000000' + // pre_defined
    '00000002', // next_track_ID
  );
  assert.equal(toHex(w.result()), toHex(expected));
});

test('avcC from the x264 SPS/PPS', () => {
  const expected = hex(
    '01 64 00 28 ff e1 001b' + toHex(H264_SPS_1080P) + // version, profile 100, compat 0, level 40, 4-byte lengths, 1 SPS
    '01 0006' + toHex(H264_PPS) + // 1 PPS
    'fd f8 f8 00', // High profile extension: chroma 4:2:0, 8-bit luma/chroma, no SPS ext
  );
  assert.equal(toHex(buildAvcC([H264_SPS_1080P], [H264_PPS])), toHex(expected));
});

test('hvcC from the x265 VPS/SPS/PPS', () => {
  const expected = hex(
    '01' + '01 60000000 900000000000 78' + // version; general profile/tier/level copied from the SPS
    'f000 fc fd f8 f8 0000' + // min_spatial_segmentation 0, parallelism 0, 4:2:0, 8-bit, 8-bit, avgFrameRate 0
    '0f' + // constantFrameRate 0, 1 temporal layer, temporalIdNested 1, lengthSizeMinusOne 3
    '03' + // three arrays, each complete
    'a0 0001 0018' + toHex(H265_VPS) +
    'a1 0001 002b' + toHex(H265_SPS_1080P) +
    'a2 0001 0007' + toHex(H265_PPS),
  );
  assert.equal(toHex(buildHvcC([H265_VPS], [H265_SPS_1080P], [H265_PPS])), toHex(expected));
});

test('media fragment: moof/mfhd/traf/tfhd/tfdt/trun + mdat, byte for byte', () => {
  const mux = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets: [H264_SPS_1080P, H264_PPS] }], { firstSequenceNumber: 1 });
  assert.equal(mux.push(0, { data: [hex('65aabb')], dts: 0, ctsOffset: 0, duration: 3000, keyframe: true }), undefined);
  assert.equal(mux.push(0, { data: [hex('41cc')], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }), undefined);
  const f = mux.flush();
  assert.ok(f);
  const expected = hex(
    '00000070 6d6f6f66' + // moof, 112 bytes
    '00000010 6d666864 00000000 00000001' + // mfhd, sequence 1
    '00000058 74726166' + // traf, 88 bytes
    '00000010 74666864 00020000 00000001' + // tfhd, default-base-is-moof, track 1
    '00000014 74666474 01000000 0000000000000000' + // tfdt v1, base 0
    '0000002c 7472756e 00000701 00000002 00000078' + // trun: offset|duration|size|flags, 2 samples, data at 120
    '00000bb8 00000007 02000000' + // 3000 ticks, 7 bytes, sync
    '00000bb8 00000006 01010000' + // 3000 ticks, 6 bytes, non-sync
    '00000015 6d646174' + // mdat, 21 bytes
    '00000003 65aabb 00000002 41cc', // 4-byte length-prefixed NAL units
  );
  assert.equal(toHex(f.bytes), toHex(expected));
  assert.deepEqual({ seq: f.sequenceNumber, base: f.baseDecodeTime, dur: f.duration, n: f.sampleCount, key: f.keyframe }, { seq: 1, base: 0, dur: 6000, n: 2, key: true });
});

test('trun v1 with signed composition offsets when one is negative; Annex-B input stripped of SPS/PPS/AUD', () => {
  const mux = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets: [H264_SPS_1080P, H264_PPS] }], { firstSequenceNumber: 7 });
  const annexB = hex('00000001 0910 00000001' + toHex(H264_SPS_1080P) + '000001' + toHex(H264_PPS) + '000001 65aabb 00');
  mux.push(0, { data: annexB, dts: 90000, ctsOffset: 3000, duration: 3000, keyframe: true });
  mux.push(0, { data: hex('000001 41cc'), dts: 93000, ctsOffset: -3000, duration: 3000, keyframe: false });
  const f = mux.flush();
  assert.ok(f);
  const trun = toHex(hex(
    '00000034 7472756e 01000f01 00000002 00000080' + // 52 bytes, v1, +composition offsets, data at 128
    '00000bb8 00000007 02000000 00000bb8' + // IDR only (SPS/PPS/AUD go to avcC), cts +3000
    '00000bb8 00000006 01010000 fffff448', // cts −3000
  ));
  assert.ok(toHex(f.bytes).includes(trun));
  assert.equal(toHex(f.bytes.subarray(f.bytes.length - 13)), '0000000365aabb0000000241cc');
  assert.equal(f.sequenceNumber, 7);
  assert.equal(f.baseDecodeTime, 90000);
});

test('AudioSpecificConfig and ADTS header (AAC-LC, 48 kHz, stereo)', () => {
  assert.equal(toHex(aacAudioSpecificConfig(2, 48000, 2)), '1190');
  const adts = hex('fff14c80017ffc 01020304');
  assert.deepEqual(parseAdtsHeader(adts, 0), { objectType: 2, sampleRate: 48000, channels: 2, headerBytes: 7, frameBytes: 11 });
  assert.throws(() => parseAdtsHeader(adts.subarray(0, 9), 0), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => aacAudioSpecificConfig(2, 12345, 2), { code: 'VIGIL_MP4_UNSUPPORTED' });
});
