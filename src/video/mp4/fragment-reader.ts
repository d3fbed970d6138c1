// Reading movie fragments (ISO/IEC 14496-12 §8.8.4–§8.8.12): where each moof+mdat pair lies,
// its base decode time, duration, sample count and whether it starts on a sync sample, and the
// per-sample table for export and repacketisation.
import { VigilError } from '../../core/errors.ts';
import { BoxBudget, boxNode, child, fullBoxHeader, malformed, readBox, u32, u64, type Box, type BoxNode } from './box-reader.ts';
import type { InitInfo, TrackDefaults } from './init-reader.ts';

/** Samples one trun may declare; a 60 fps fragment of 10 s has 600. */
export const MAX_SAMPLES_PER_TRUN = 100_000;
/** §8.8.3.1 sample_is_non_sync_sample. */
const NON_SYNC = 0x00010000;

export interface TrackFragmentInfo {
  readonly trackId: number;
  readonly baseDecodeTime: number;
  readonly duration: number;
  readonly sampleCount: number;
  readonly firstSampleSync: boolean;
}

export interface FragmentInfo {
  /** [start, end): the moof through the end of its mdat. */
  readonly start: number;
  readonly end: number;
  readonly sequenceNumber: number;
  /** Offset of mfhd's sequence_number field, for renumbering. */
  readonly sequenceNumberOffset: number;
  /** Of the first track of the init segment (or the fragment's first traf). */
  readonly baseDecodeTime: number;
  readonly duration: number;
  readonly timescale: number;
  readonly sampleCount: number;
  readonly keyframe: boolean;
  readonly tracks: readonly TrackFragmentInfo[];
  /** Offset of each tfdt's 64- or 32-bit baseMediaDecodeTime field, for rebasing. */
  readonly tfdtFields: readonly { readonly trackId: number; readonly offset: number; readonly bytes: 4 | 8 }[];
}

export interface FragmentSamples {
  readonly trackId: number;
  readonly baseDecodeTime: number;
  readonly count: number;
  /** Absolute offsets of each sample in the parsed buffer. */
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  readonly durations: Uint32Array;
  readonly ctsOffsets: Int32Array;
  readonly keyframes: Uint8Array;
}

interface Tfhd { trackId: number; baseDataOffset: number | undefined; d: TrackDefaults }

/** §8.8.7 tfhd: track_ID then optional fields selected by tf_flags. */
function readTfhd(b: Uint8Array, box: Box, init: InitInfo): Tfhd {
  const [, flags] = fullBoxHeader(b, box, 4);
  const trackId = u32(b, box.payload + 4);
  const track = init.tracks.find((t) => t.trackId === trackId);
  if (track === undefined) throw malformed('traf for an unknown track', { trackId });
  let p = box.payload + 8;
  const need = (n: number): number => {
    if (p + n > box.end) throw malformed('tfhd box too short');
    const at = p;
    p += n;
    return at;
  };
  const baseDataOffset = (flags & 0x01) !== 0 ? u64(b, need(8)) : undefined;
  const d = { ...track.defaults };
  if ((flags & 0x02) !== 0) d.sampleDescriptionIndex = u32(b, need(4));
  if ((flags & 0x08) !== 0) d.sampleDuration = u32(b, need(4));
  if ((flags & 0x10) !== 0) d.sampleSize = u32(b, need(4));
  if ((flags & 0x20) !== 0) d.sampleFlags = u32(b, need(4));
  return { trackId, baseDataOffset, d };
}

/** §8.8.12 tfdt: baseMediaDecodeTime, 32-bit (v0) or 64-bit (v1). */
function readTfdt(b: Uint8Array, box: Box): { value: number; offset: number; bytes: 4 | 8 } {
  const [version] = fullBoxHeader(b, box, 4);
  if (version === 1) {
    fullBoxHeader(b, box, 8);
    return { value: u64(b, box.payload + 4), offset: box.payload + 4, bytes: 8 };
  }
  return { value: u32(b, box.payload + 4), offset: box.payload + 4, bytes: 4 };
}

interface Trun { flags: number; version: number; count: number; dataOffset: number; firstFlags: number | undefined; table: number; stride: number }

/** §8.8.8 trun header; the per-sample table is bounds-checked here, read later. */
function readTrun(b: Uint8Array, box: Box): Trun {
  const [version, flags] = fullBoxHeader(b, box, 4);
  const count = u32(b, box.payload + 4);
  let p = box.payload + 8;
  let dataOffset = 0;
  let firstFlags: number | undefined;
  if ((flags & 0x001) !== 0) {
    if (p + 4 > box.end) throw malformed('trun box too short');
    dataOffset = u32(b, p) | 0;
    p += 4;
  }
  if ((flags & 0x004) !== 0) {
    if (p + 4 > box.end) throw malformed('trun box too short');
    firstFlags = u32(b, p);
    p += 4;
  }
  let stride = 0;
  for (const bit of [0x100, 0x200, 0x400, 0x800]) if ((flags & bit) !== 0) stride += 4;
  if (count > MAX_SAMPLES_PER_TRUN) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'trun declares too many samples', { details: { count } });
  if (p + count * stride > box.end) throw malformed('trun sample table truncated', { count });
  return { flags, version, count, dataOffset, firstFlags, table: p, stride };
}

interface TrafParse { tfhd: Tfhd; tfdt: number; tfdtField: { offset: number; bytes: 4 | 8 } | undefined; runs: Trun[] }

function readTraf(b: Uint8Array, traf: BoxNode, init: InitInfo): TrafParse {
  const tfhd = readTfhd(b, child(traf, 'tfhd'), init);
  const tfdtBox = traf.children.find((c) => c.type === 'tfdt');
  const tfdt = tfdtBox === undefined ? undefined : readTfdt(b, tfdtBox);
  const runs = traf.children.filter((c) => c.type === 'trun').map((r) => readTrun(b, r));
  if (runs.length > 64) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'too many trun boxes');
  return { tfhd, tfdt: tfdt?.value ?? 0, tfdtField: tfdt === undefined ? undefined : { offset: tfdt.offset, bytes: tfdt.bytes }, runs };
}

/** Visit each sample of a traf: (offset, size, duration, flags, cts). Sizes are bounds-checked by the caller. */
function walkSamples(b: Uint8Array, t: TrafParse, moofStart: number, visit: (offset: number, size: number, duration: number, flags: number, cts: number) => void): void {
  let dataPos = t.tfhd.baseDataOffset ?? moofStart;
  for (const run of t.runs) {
    if ((run.flags & 0x001) !== 0) dataPos = (t.tfhd.baseDataOffset ?? moofStart) + run.dataOffset;
    let p = run.table;
    for (let i = 0; i < run.count; i++) {
      const duration = (run.flags & 0x100) !== 0 ? u32(b, (p += 4) - 4) : t.tfhd.d.sampleDuration;
      const size = (run.flags & 0x200) !== 0 ? u32(b, (p += 4) - 4) : t.tfhd.d.sampleSize;
      let flags = (run.flags & 0x400) !== 0 ? u32(b, (p += 4) - 4) : t.tfhd.d.sampleFlags;
      if (i === 0 && run.firstFlags !== undefined) flags = run.firstFlags;
      const raw = (run.flags & 0x800) !== 0 ? u32(b, (p += 4) - 4) : 0;
      visit(dataPos, size, duration, flags, run.version === 0 ? raw : raw | 0);
      dataPos += size;
    }
  }
}

function summarize(b: Uint8Array, t: TrafParse, moof: Box, mdat: Box): TrackFragmentInfo {
  let duration = 0;
  let count = 0;
  let firstSampleSync = false;
  walkSamples(b, t, moof.start, (offset, size, d, flags) => {
    if (offset < mdat.payload || offset + size > mdat.end) throw malformed('sample data outside its mdat', { offset, size });
    if (count === 0) firstSampleSync = (flags & NON_SYNC) === 0;
    duration += d;
    count++;
  });
  return { trackId: t.tfhd.trackId, baseDecodeTime: t.tfdt, duration, sampleCount: count, firstSampleSync };
}

function fragmentInfo(b: Uint8Array, moof: BoxNode, mdat: Box, init: InitInfo): FragmentInfo {
  const mfhd = child(moof, 'mfhd');
  fullBoxHeader(b, mfhd, 4);
  const trafs = moof.children.filter((c) => c.type === 'traf').map((t) => readTraf(b, t, init));
  const tracks = trafs.map((t) => summarize(b, t, moof, mdat));
  const firstId = init.tracks[0]?.trackId;
  const main = tracks.find((t) => t.trackId === firstId) ?? tracks[0];
  if (main === undefined) throw malformed('moof has no traf', { offset: moof.start });
  const timescale = init.tracks.find((t) => t.trackId === main.trackId)?.timescale ?? 1;
  const tfdtFields = trafs.flatMap((t) => (t.tfdtField === undefined ? [] : [{ trackId: t.tfhd.trackId, ...t.tfdtField }]));
  return {
    start: moof.start, end: mdat.end, sequenceNumber: u32(b, mfhd.payload + 4), sequenceNumberOffset: mfhd.payload + 4,
    baseDecodeTime: main.baseDecodeTime, duration: main.duration, timescale, sampleCount: main.sampleCount,
    keyframe: main.firstSampleSync, tracks, tfdtFields,
  };
}

/**
 * List the fragments of a segment (init + moof/mdat pairs) or of bare fragments given `init`.
 * Each moof must be followed by its mdat (other boxes such as free/sidx may sit between pairs).
 */
export function listFragments(bytes: Uint8Array, init: InitInfo, from = 0): FragmentInfo[] {
  const budget = new BoxBudget();
  const out: FragmentInfo[] = [];
  let pending: BoxNode | undefined;
  let at = from;
  while (at < bytes.length) {
    budget.take();
    const box = readBox(bytes, at, bytes.length, true);
    if (box.type === 'moof') {
      if (pending !== undefined) throw malformed('moof without mdat', { offset: pending.start });
      pending = boxNode(bytes, box, 0, budget);
    } else if (box.type === 'mdat' && pending !== undefined) {
      out.push(fragmentInfo(bytes, pending, box, init));
      pending = undefined;
    }
    at = box.end;
  }
  if (pending !== undefined) throw malformed('moof without mdat', { offset: pending.start });
  return out;
}

/** Per-sample table of one track in the fragment at `fragment` (from listFragments). */
export function readFragmentSamples(bytes: Uint8Array, fragment: FragmentInfo, init: InitInfo, trackId: number): FragmentSamples {
  const budget = new BoxBudget();
  const moof = boxNode(bytes, readBox(bytes, fragment.start, fragment.end, true), 0, budget);
  const trafNode = moof.children.find((c) => c.type === 'traf' && u32(bytes, child(c, 'tfhd').payload + 4) === trackId);
  if (trafNode === undefined) throw new VigilError('VIGIL_NOT_FOUND', 'track not in fragment', { details: { trackId } });
  const t = readTraf(bytes, trafNode, init);
  let count = 0;
  for (const r of t.runs) count += r.count;
  if (count > MAX_SAMPLES_PER_TRUN) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'fragment declares too many samples');
  const s = { trackId, baseDecodeTime: t.tfdt, count, offsets: new Float64Array(count), sizes: new Uint32Array(count), durations: new Uint32Array(count), ctsOffsets: new Int32Array(count), keyframes: new Uint8Array(count) };
  let i = 0;
  walkSamples(bytes, t, moof.start, (offset, size, duration, flags, cts) => {
    if (offset < fragment.start || offset + size > fragment.end) throw malformed('sample data outside its fragment', { offset, size });
    s.offsets[i] = offset;
    s.sizes[i] = size;
    s.durations[i] = duration;
    s.ctsOffsets[i] = cts;
    s.keyframes[i] = (flags & NON_SYNC) === 0 ? 1 : 0;
    i++;
  });
  return s;
}
