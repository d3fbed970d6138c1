// Playback and export operations on stored segments: open a segment, cut a time range into a
// playable fMP4 (init + the fragments covering it), and concatenate fragments of several segments
// into one stream whose tfdt (ISO/IEC 14496-12 §8.8.12) runs on without gaps.
import { VigilError } from '../../core/errors.ts';
import { copyOf } from './byte-writer.ts';
import { listFragments, type FragmentInfo } from './fragment-reader.ts';
import { parseInit, type InitInfo } from './init-reader.ts';

export interface SegmentView {
  readonly bytes: Uint8Array;
  readonly init: InitInfo;
  readonly fragments: readonly FragmentInfo[];
}

/** Parse a segment file (ftyp + moov + moof/mdat pairs) into its fragment index. */
export function openSegment(bytes: Uint8Array): SegmentView {
  const init = parseInit(bytes);
  return { bytes, init, fragments: listFragments(bytes, init, init.end) };
}

export interface TimeRangeCut {
  /** init segment followed by whole fragments: write or send them in order. Views, no copies. */
  readonly parts: readonly Uint8Array[];
  readonly fragments: readonly FragmentInfo[];
  /** Actual range covered (starts at a keyframe fragment at or before the requested start). */
  readonly startSeconds: number;
  readonly endSeconds: number;
}

const startOf = (f: FragmentInfo): number => f.baseDecodeTime / f.timescale;
const endOf = (f: FragmentInfo): number => (f.baseDecodeTime + f.duration) / f.timescale;

/** Fragments of `segment` overlapping [startSeconds, endSeconds), widened back to a keyframe. */
export function cutTimeRange(segment: SegmentView, startSeconds: number, endSeconds: number): TimeRangeCut {
  if (!Number.isFinite(startSeconds) || !Number.isFinite(endSeconds) || endSeconds <= startSeconds) {
    throw new VigilError('VIGIL_VALIDATION', 'time range is empty or invalid', { details: { startSeconds, endSeconds } });
  }
  const all = segment.fragments;
  let first = all.findIndex((f) => endOf(f) > startSeconds && startOf(f) < endSeconds);
  if (first < 0) throw new VigilError('VIGIL_NOT_FOUND', 'no recording in the requested time range', { details: { startSeconds, endSeconds } });
  while (first > 0 && all[first]?.keyframe !== true) first--;
  let last = first;
  for (let i = first + 1; i < all.length; i++) {
    const f = all[i];
    if (f === undefined || startOf(f) >= endSeconds) break;
    last = i;
  }
  const fragments = all.slice(first, last + 1);
  const head = fragments[0];
  const tail = fragments[fragments.length - 1];
  if (head === undefined || tail === undefined) throw new VigilError('VIGIL_NOT_FOUND', 'no recording in the requested time range');
  if (!head.keyframe) throw new VigilError('VIGIL_NOT_FOUND', 'no keyframe at or before the requested start');
  const parts = [segment.bytes.subarray(segment.init.start, segment.init.end), ...fragments.map((f) => segment.bytes.subarray(f.start, f.end))];
  return { parts, fragments, startSeconds: startOf(head), endSeconds: endOf(tail) };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Segments can share one init segment only if every track matches (ids, timescales, codec config). */
export function assertCompatible(a: InitInfo, b: InitInfo): void {
  const ok = a.tracks.length === b.tracks.length && a.tracks.every((t, i) => {
    const u = b.tracks[i];
    return u !== undefined && t.trackId === u.trackId && t.timescale === u.timescale && t.sampleEntry === u.sampleEntry && sameBytes(t.decoderConfig, u.decoderConfig);
  });
  if (!ok) throw new VigilError('VIGIL_MP4_INCOMPATIBLE', 'segments have different track configurations');
}

function writeUint(out: Uint8Array, at: number, bytes: 4 | 8, value: number): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (bytes === 8) {
    v.setUint32(at, Math.floor(value / 0x1_0000_0000));
    v.setUint32(at + 4, value >>> 0);
  } else {
    if (value > 0xffff_ffff) throw new VigilError('VIGIL_MP4_UNSUPPORTED', '32-bit tfdt cannot hold the rebased time');
    v.setUint32(at, value);
  }
}

export interface ConcatInput {
  readonly segment: SegmentView;
  /** Subset of segment.fragments to include (default: all), in order. */
  readonly fragments?: readonly FragmentInfo[];
}

/**
 * One continuous fMP4 stream from several segments: the first segment's init, then each fragment
 * copied with its tfdt rebased so the first track starts at 0 and runs on without gaps (other
 * tracks move by the same wall-clock shift), and mfhd sequence numbers renumbered from 1.
 * A generator, so an export of hours streams fragment by fragment instead of filling memory.
 */
export function* concatSegments(inputs: readonly ConcatInput[]): Generator<Uint8Array, void, undefined> {
  const firstSegment = inputs[0]?.segment;
  if (firstSegment === undefined) return;
  for (const input of inputs) assertCompatible(firstSegment.init, input.segment.init);
  const timescales = new Map(firstSegment.init.tracks.map((t) => [t.trackId, t.timescale]));
  yield firstSegment.bytes.subarray(firstSegment.init.start, firstSegment.init.end);
  let running = -1;
  let sequence = 1;
  for (const input of inputs) {
    for (const f of input.fragments ?? input.segment.fragments) {
      if (running < 0) running = firstRunning(f, timescales);
      const shiftSeconds = (running - f.baseDecodeTime) / f.timescale;
      const out = copyOf(input.segment.bytes, f.start, f.end);
      const base = f.start;
      for (const field of f.tfdtFields) {
        const t = f.tracks.find((x) => x.trackId === field.trackId);
        const ts = timescales.get(field.trackId) ?? f.timescale;
        const value = Math.max(0, Math.round((t?.baseDecodeTime ?? 0) + shiftSeconds * ts));
        writeUint(out, field.offset - base, field.bytes, value);
      }
      writeUint(out, f.sequenceNumberOffset - base, 4, sequence);
      sequence = (sequence + 1) % 0x1_0000_0000;
      running += f.duration;
      yield out;
    }
  }
}

/** Start the first track late enough that no track of the first fragment goes below 0. */
function firstRunning(f: FragmentInfo, timescales: ReadonlyMap<number, number>): number {
  const mainStart = f.baseDecodeTime / f.timescale;
  let earliest = mainStart;
  for (const t of f.tracks) earliest = Math.min(earliest, t.baseDecodeTime / (timescales.get(t.trackId) ?? f.timescale));
  return Math.round((mainStart - earliest) * f.timescale);
}
