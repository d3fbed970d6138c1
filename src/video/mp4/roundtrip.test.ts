// Mux → demux round trips on synthetic access units (fixed-seed PRNG): every sample's bytes,
// duration, composition offset and sync flag come back; fragment policy, input validation,
// time-range cuts and concatenation behave as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FragmentMuxer, type MediaFragment, type MuxerOptions } from './muxer.ts';
import { openSegment, cutTimeRange, concatSegments } from './edit.ts';
import { readFragmentSamples } from './fragment-reader.ts';
import { splitLengthPrefixed } from './nal.ts';
import { aacAudioSpecificConfig } from './aac.ts';
import { H264_PPS, H264_SPS_1080P, hex } from './fixtures.ts';
import type { AccessUnit, AudioTrackConfig, TrackConfig, VideoTrackConfig } from './types.ts';

const VIDEO: VideoTrackConfig = { kind: 'video', codec: 'h264', timescale: 90000, parameterSets: [H264_SPS_1080P, H264_PPS] };
const AUDIO: AudioTrackConfig = { kind: 'audio', codec: 'aac', sampleRate: 48000, channels: 2, audioSpecificConfig: aacAudioSpecificConfig(2, 48000, 2) };

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

/** A synthetic picture: 1–3 NAL units (IDR type 5 or slice type 1) of random bytes. */
function picture(rand: () => number, key: boolean): Uint8Array[] {
  const n = 1 + Math.floor(rand() * 3);
  return Array.from({ length: n }, () => {
    const nal = new Uint8Array(1 + Math.floor(rand() * 500));
    for (let i = 1; i < nal.length; i++) nal[i] = Math.floor(rand() * 256);
    nal[0] = key ? 0x65 : 0x41;
    return nal;
  });
}

function videoUnits(count: number, gop: number, seed: number, start = 0): (AccessUnit & { nalus: Uint8Array[] })[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const nalus = picture(rand, i % gop === 0);
    return { data: nalus, nalus, dts: start + i * 3000, ctsOffset: i % gop === 0 ? 0 : ((i % 3) - 1) * 3000, duration: 3000, keyframe: i % gop === 0 };
  });
}

function mux(units: readonly AccessUnit[], options?: MuxerOptions, tracks: TrackConfig[] = [VIDEO]): { file: Uint8Array; fragments: MediaFragment[] } {
  const m = new FragmentMuxer(tracks, options);
  const fragments: MediaFragment[] = [];
  for (const u of units) {
    const f = m.push(0, u);
    if (f !== undefined) fragments.push(f);
  }
  const last = m.flush();
  if (last !== undefined) fragments.push(last);
  return { file: Buffer.concat([m.init, ...fragments.map((f) => f.bytes)]), fragments };
}

test('round trip: 3 GOPs → 3 fragments; sample bytes, durations, cts offsets, sync flags intact', () => {
  const units = videoUnits(30, 10, 1);
  const { file, fragments } = mux(units);
  assert.equal(fragments.length, 3);
  const seg = openSegment(file);
  assert.equal(seg.init.tracks[0]?.sampleEntry, 'avc1');
  assert.deepEqual([seg.init.tracks[0]?.width, seg.init.tracks[0]?.height, seg.init.tracks[0]?.timescale], [1920, 1080, 90000]);
  assert.deepEqual(seg.fragments.map((f) => [f.sequenceNumber, f.baseDecodeTime, f.duration, f.sampleCount, f.keyframe]), [[1, 0, 30000, 10, true], [2, 30000, 30000, 10, true], [3, 60000, 30000, 10, true]]);
  let i = 0;
  for (const f of seg.fragments) {
    const s = readFragmentSamples(file, f, seg.init, 1);
    for (let k = 0; k < s.count; k++, i++) {
      const u = units[i];
      assert.ok(u);
      const nalus = splitLengthPrefixed(file.subarray(s.offsets[k], (s.offsets[k] ?? 0) + (s.sizes[k] ?? 0)));
      assert.deepEqual(nalus.map((n) => Buffer.from(n).toString('hex')), u.nalus.map((n) => Buffer.from(n).toString('hex')));
      assert.deepEqual([s.durations[k], s.ctsOffsets[k], s.keyframes[k] === 1], [3000, u.ctsOffset, u.keyframe]);
    }
  }
  assert.equal(i, 30);
});

test('audio + video in one fragment: two trafs, both read back', () => {
  const m = new FragmentMuxer([VIDEO, AUDIO]);
  const frames = Array.from({ length: 47 }, (_, i) => Uint8Array.of(0x21, i, 0xab));
  m.push(0, { data: [hex('65aabb')], dts: 0, ctsOffset: 0, duration: 90000, keyframe: true });
  frames.forEach((data, i) => m.push(1, { data, dts: i * 1024, ctsOffset: 0, duration: 1024, keyframe: false }));
  const f = m.flush();
  assert.ok(f);
  const seg = openSegment(Buffer.concat([m.init, f.bytes]));
  assert.deepEqual(seg.init.tracks.map((t) => [t.trackId, t.handler, t.sampleEntry, t.timescale]), [[1, 'vide', 'avc1', 90000], [2, 'soun', 'mp4a', 48000]]);
  const frag = seg.fragments[0];
  assert.ok(frag);
  const audio = readFragmentSamples(seg.bytes, frag, seg.init, 2);
  assert.equal(audio.count, 47);
  assert.deepEqual(Array.from(seg.bytes.subarray(audio.offsets[46], (audio.offsets[46] ?? 0) + 3)), [0x21, 46, 0xab]);
  assert.equal(frag.tracks[1]?.duration, 47 * 1024);
});

test('fragment policy: minFragmentSeconds groups GOPs, maxFragmentSeconds cuts long GOPs, sample capacity bounds a fragment', () => {
  assert.deepEqual(mux(videoUnits(60, 30, 2), { minFragmentSeconds: 2 }).fragments.map((f) => f.sampleCount), [60]);
  assert.deepEqual(mux(videoUnits(90, 30, 2), { minFragmentSeconds: 1.5 }).fragments.map((f) => f.sampleCount), [60, 30]);
  const long = mux(videoUnits(90, 90, 3), { maxFragmentSeconds: 1 }).fragments;
  assert.deepEqual(long.map((f) => [f.sampleCount, f.keyframe]), [[30, true], [30, false], [30, false]]);
  assert.deepEqual(mux(videoUnits(20, 20, 4), { maxSamplesPerFragment: 8 }).fragments.map((f) => f.sampleCount), [8, 8, 4]);
});

test('timing: a small dts gap stretches the previous sample; a long gap (signal loss) starts a new fragment', () => {
  const units = videoUnits(6, 100, 5).map((u, i) => ({ ...u, dts: i < 3 ? i * 3000 : i * 3000 + (i === 3 ? 1500 : 1500) }));
  const seg = openSegment(mux(units).file);
  const s = readFragmentSamples(seg.bytes, seg.fragments[0] ?? assert.fail('no fragment'), seg.init, 1);
  assert.deepEqual(Array.from(s.durations), [3000, 3000, 4500, 3000, 3000, 3000]);
  const gap = videoUnits(4, 100, 6).map((u, i) => ({ ...u, dts: i < 2 ? i * 3000 : 90000 * 20 + i * 3000 }));
  assert.deepEqual(openSegment(mux(gap).file).fragments.map((f) => [f.baseDecodeTime, f.sampleCount]), [[0, 2], [1806000, 2]]);
});

test('bad access units are coded errors and leave pending samples intact', () => {
  const m = new FragmentMuxer([VIDEO], { maxFragmentBytes: 4096 });
  m.push(0, { data: [hex('65aabb')], dts: 0, ctsOffset: 0, duration: 3000, keyframe: true });
  const bad: [AccessUnit, string][] = [
    [{ data: [hex('41cc')], dts: 0, ctsOffset: 0, duration: 3000, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
    [{ data: [hex('41cc')], dts: 3000, ctsOffset: 0, duration: 0, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
    [{ data: [hex('41cc')], dts: 3000, ctsOffset: 2 ** 31, duration: 3000, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
    [{ data: [], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
    [{ data: hex('0000000941'), dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
    [{ data: [hex('6742c01e00'), hex('65aa')], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: true }, 'VIGIL_MP4_PARAMETER_SETS_CHANGED'],
    [{ data: [new Uint8Array(5000).fill(0x41, 0, 1)], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }, 'VIGIL_MP4_TOO_LARGE'],
    [{ data: Array.from({ length: 300 }, () => hex('41cc')), dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }, 'VIGIL_MP4_BAD_ACCESS_UNIT'],
  ];
  for (const [au, code] of bad) assert.throws(() => m.push(0, au), { code }, code);
  assert.throws(() => m.push(5, { data: [hex('41cc')], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false }), { code: 'VIGIL_MP4_BAD_ACCESS_UNIT' });
  // The same in-band SPS as the init segment is accepted (and kept out of the sample).
  m.push(0, { data: [H264_SPS_1080P, H264_PPS, hex('41cc')], dts: 3000, ctsOffset: 0, duration: 3000, keyframe: false });
  const f = m.flush();
  assert.ok(f);
  assert.equal(f.sampleCount, 2);
  assert.equal(Buffer.from(f.bytes.subarray(f.bytes.length - 13)).toString('hex'), '0000000365aabb0000000241cc');
  assert.equal(m.flush(), undefined);
});

test('length-prefixed framing and a full NAL table: fragment written early, nothing lost', () => {
  const lp: VideoTrackConfig = { ...VIDEO, framing: 'length-prefixed' };
  const m = new FragmentMuxer([lp], { maxSamplesPerFragment: 4 });
  // 4 samples × 200 NAL units exceed the 256-entry table: the second unit forces a fragment out.
  const many = Buffer.concat(Array.from({ length: 200 }, () => hex('00000002 41cc')));
  const out = [0, 1].map((i) => m.push(0, { data: i === 0 ? Buffer.concat([hex('00000003 65aabb'), many]) : many, dts: i * 3000, ctsOffset: 0, duration: 3000, keyframe: i === 0 }));
  assert.equal(out[0], undefined);
  assert.equal(out[1]?.sampleCount, 1);
  assert.equal(m.flush()?.sampleCount, 1);
  assert.throws(() => m.push(0, { data: hex('00000009 41'), dts: 9000, ctsOffset: 0, duration: 3000, keyframe: false }), { code: 'VIGIL_MP4_BAD_ACCESS_UNIT' });
});

test('cutTimeRange: whole fragments covering the range, widened back to a keyframe', () => {
  const seg = openSegment(mux(videoUnits(150, 30, 7)).file); // 5 fragments of 1 s
  const cut = cutTimeRange(seg, 1.5, 3.2);
  assert.deepEqual([cut.startSeconds, cut.endSeconds, cut.fragments.map((f) => f.sequenceNumber)], [1, 4, [2, 3, 4]]);
  assert.equal(cut.parts.length, 4);
  assert.equal(cut.parts[0]?.length, seg.init.end);
  const reread = openSegment(Buffer.concat(cut.parts));
  assert.equal(reread.fragments.length, 3);
  const longGop = openSegment(mux(videoUnits(90, 90, 8), { maxFragmentSeconds: 1 }).file);
  assert.deepEqual(cutTimeRange(longGop, 2.5, 2.9).fragments.map((f) => f.sequenceNumber), [1, 2, 3]);
  assert.throws(() => cutTimeRange(seg, 9, 10), { code: 'VIGIL_NOT_FOUND' });
  assert.throws(() => cutTimeRange(seg, 3, 3), { code: 'VIGIL_VALIDATION' });
});

test('concatSegments: continuous tfdt from 0 and renumbered sequence across segments', () => {
  const a = openSegment(mux(videoUnits(60, 30, 9, 900_000)).file);
  const b = openSegment(mux(videoUnits(60, 30, 10, 90_000 * 3600), { firstSequenceNumber: 500 }).file);
  const joined = openSegment(Buffer.concat([...concatSegments([{ segment: a }, { segment: b, fragments: b.fragments.slice(1) }])]));
  // The inputs are not modified (fragments are copied before their tfdt is rewritten).
  assert.deepEqual(openSegment(a.bytes).fragments.map((f) => f.baseDecodeTime), [900_000, 990_000]);
  assert.deepEqual(joined.fragments.map((f) => [f.sequenceNumber, f.baseDecodeTime, f.sampleCount]), [[1, 0, 30], [2, 90000, 30], [3, 180000, 30]]);
  const other = openSegment(mux(videoUnits(30, 30, 11), undefined, [{ ...VIDEO, timescale: 30000 }]).file);
  assert.throws(() => [...concatSegments([{ segment: a }, { segment: other }])], { code: 'VIGIL_MP4_INCOMPATIBLE' });
});
