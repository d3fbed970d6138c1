// Malformed and hostile input (testing.md layer 4): truncation anywhere, size 0/1 tricks, huge
// sizes, deep nesting, box floods, lying sample tables, and a fixed-seed mutation fuzz loop.
// Every failure must be a VigilError with an mp4 code — never a generic throw or a big allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { FragmentMuxer } from './muxer.ts';
import { openSegment } from './edit.ts';
import { parseInit } from './init-reader.ts';
import { listFragments, readFragmentSamples } from './fragment-reader.ts';
import { H264_PPS, H264_SPS_1080P, hex } from './fixtures.ts';

const MP4_CODES = new Set(['VIGIL_MP4_MALFORMED', 'VIGIL_MP4_TOO_LARGE', 'VIGIL_MP4_UNSUPPORTED']);

function isMp4Error(e: unknown): boolean {
  return isVigilError(e) && MP4_CODES.has(e.code);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function box(type: string, ...payload: Uint8Array[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32be(8 + body.length), Buffer.from(type, 'latin1'), body]);
}

function segment(): { file: Buffer; init: Uint8Array } {
  const m = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets: [H264_SPS_1080P, H264_PPS] }]);
  const parts: Uint8Array[] = [m.init];
  for (let i = 0; i < 6; i++) {
    const f = m.push(0, { data: [Uint8Array.of(i % 3 === 0 ? 0x65 : 0x41, i, i, i)], dts: i * 3000, ctsOffset: 0, duration: 3000, keyframe: i % 3 === 0 });
    if (f !== undefined) parts.push(f.bytes);
  }
  const last = m.flush();
  if (last !== undefined) parts.push(last.bytes);
  return { file: Buffer.concat(parts), init: m.init };
}

test('every truncation of an init segment or a fragment is a coded error', () => {
  const { file, init } = segment();
  for (let n = 0; n < init.length; n++) {
    assert.throws(() => parseInit(file.subarray(0, n)), isMp4Error, `init cut at ${String(n)}`);
  }
  const info = parseInit(file);
  for (let n = init.length + 1; n < file.length; n++) {
    const cut = file.subarray(0, n);
    const boundary = n === openSegment(file).fragments[0]?.end;
    if (boundary) continue; // a cut exactly between fragments is a valid shorter segment
    assert.throws(() => listFragments(cut, info, init.length), isMp4Error, `segment cut at ${String(n)}`);
  }
});

test('size field tricks: 0 inside a container, 0 at top level, 1 with bad largesize, < 8, huge', () => {
  const { file, init } = segment();
  const info = parseInit(file);
  // size 0 is "to end of file": accepted for the last top-level box only.
  const lastMdat = file.lastIndexOf(Buffer.from('mdat')) - 4;
  const zeroTail = Buffer.from(file);
  zeroTail.writeUInt32BE(0, lastMdat);
  assert.equal(listFragments(zeroTail, info, init.length).length, 2);
  const inner = box('moov', Buffer.concat([u32be(0), Buffer.from('trak')]));
  assert.throws(() => parseInit(inner), { code: 'VIGIL_MP4_MALFORMED', message: /size 0 inside/ });
  // size 1: 64-bit largesize must be ≥ 16, fit the buffer and stay below 2^53.
  const large = (hi: number, lo: number, pad = 0): Buffer => Buffer.concat([u32be(1), Buffer.from('free'), u32be(hi), u32be(lo), Buffer.alloc(pad)]);
  assert.equal(listFragments(Buffer.concat([large(0, 24, 8), file.subarray(init.length)]), info).length, 2);
  assert.throws(() => listFragments(large(0, 8), info), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => listFragments(large(0, 64), info), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => listFragments(large(0xffffffff, 0xffffffff), info), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => listFragments(large(0x100, 0), info), { code: 'VIGIL_MP4_TOO_LARGE' });
  assert.throws(() => listFragments(Buffer.concat([u32be(4), Buffer.from('free')]), info), { code: 'VIGIL_MP4_MALFORMED' });
  assert.throws(() => listFragments(Buffer.concat([u32be(0xffffffff), Buffer.from('mdat'), Buffer.alloc(64)]), info), { code: 'VIGIL_MP4_TOO_LARGE' });
  assert.throws(() => listFragments(Buffer.concat([u32be(1000), Buffer.from('mdat'), Buffer.alloc(64)]), info), { code: 'VIGIL_MP4_MALFORMED' });
});

test('deep nesting and box floods are refused before they exhaust the stack or the CPU', () => {
  let nested: Buffer = box('free');
  for (let i = 0; i < 41; i++) nested = box(i % 2 === 0 ? 'moov' : 'trak', nested); // outermost: moov
  assert.throws(() => parseInit(nested), { code: 'VIGIL_MP4_MALFORMED', message: /nested too deeply/ });
  const flood = Buffer.concat(Array.from({ length: 100_001 }, () => box('free')));
  const info = parseInit(segment().file);
  assert.throws(() => listFragments(flood, info), { code: 'VIGIL_MP4_TOO_LARGE' });
});

test('lying sample tables: huge sample_count, truncated table, data outside mdat, unknown track', () => {
  const info = parseInit(segment().file);
  const frag = (trun: Buffer, trackId = 1, mdatBody = Buffer.alloc(16)): Buffer => Buffer.concat([
    box('moof', box('mfhd', u32be(0), u32be(1)), box('traf', box('tfhd', hex('00020000'), u32be(trackId)), box('tfdt', u32be(0), u32be(0)), trun)),
    box('mdat', mdatBody),
  ]);
  const hugeCount = box('trun', hex('00000000'), u32be(0xffffffff));
  assert.throws(() => listFragments(frag(hugeCount), info), { code: 'VIGIL_MP4_TOO_LARGE' });
  const truncated = box('trun', hex('00000200'), u32be(50_000), u32be(4));
  assert.throws(() => listFragments(frag(truncated), info), { code: 'VIGIL_MP4_MALFORMED', message: /truncated/ });
  const outside = box('trun', hex('00000201'), u32be(1), u32be(0x7fff0000), u32be(4));
  assert.throws(() => listFragments(frag(outside), info), { code: 'VIGIL_MP4_MALFORMED', message: /outside/ });
  const negative = box('trun', hex('00000201'), u32be(1), u32be(-100), u32be(4));
  assert.throws(() => listFragments(frag(negative), info), { code: 'VIGIL_MP4_MALFORMED', message: /outside/ });
  const ok = box('trun', hex('00000201'), u32be(1), u32be(0), u32be(4));
  const okFrag = frag(ok);
  const moofSize = okFrag.readUInt32BE(0);
  okFrag.writeUInt32BE(moofSize + 8, moofSize - 8); // data_offset → first mdat byte
  assert.equal(listFragments(okFrag, info)[0]?.sampleCount, 1);
  assert.throws(() => listFragments(frag(ok, 9), info), { code: 'VIGIL_MP4_MALFORMED', message: /unknown track/ });
});

test('fixed-seed mutation fuzz: 3000 mutated segments, only coded errors', () => {
  const { file } = segment();
  let seed = 0x5eed;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let accepted = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const m = Buffer.from(file);
    const edits = 1 + rand(6);
    for (let e = 0; e < edits; e++) {
      const at = rand(m.length);
      // Bias towards the fields that matter: sizes (0, 1, 0xff..) and counts.
      m[at] = [0, 1, 0xff, 0x7f, 0x80, rand(256)][rand(6)] ?? 0;
    }
    try {
      const seg = openSegment(m);
      for (const f of seg.fragments) for (const t of seg.init.tracks) if (f.tracks.some((x) => x.trackId === t.trackId)) readFragmentSamples(m, f, seg.init, t.trackId);
      accepted++;
    } catch (e) {
      assert.ok(isMp4Error(e), `iteration ${String(iter)}: ${String(e)}`);
    }
  }
  assert.ok(accepted > 0 && accepted < 3000, `accepted ${String(accepted)}`);
});
