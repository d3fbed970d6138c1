// Playback and clip export: a camera's recordings over a time range as one plain fMP4 stream,
// decrypted record by record (only the fragments needed), timestamps rebased to run on from 0.
// Callers authorize and audit (NVR-5.2.7.1a: every view, playback and export is logged).
import { VigilError } from '../core/errors.ts';
import { concatSegments, openSegment, type SegmentView } from './mp4/index.ts';
import type { VideoStore } from './storage/video-store.ts';

/** One request covers at most this much video; longer exports page through it. */
export const MAX_PLAYBACK_SECONDS = 300;
const MAX_SEGMENTS = 64;

export interface Clip {
  parts: Uint8Array[];
  /** Epoch ms of the first and the end of the last included fragment. */
  startedAt: number;
  endedAt: number;
  segments: string[];
  fragments: number;
}

export async function playbackClip(video: VideoStore, cameraId: string, from: number, to: number): Promise<Clip> {
  if (!(to > from)) throw new VigilError('VIGIL_VALIDATION', 'the time range is empty', { details: { field: 'to' } });
  if (to - from > MAX_PLAYBACK_SECONDS * 1000) throw new VigilError('VIGIL_VALIDATION', `at most ${MAX_PLAYBACK_SECONDS} s per request`, { details: { field: 'to' } });
  // The segment being recorded plays too, up to its last complete fragment.
  const rows = (await video.catalog.overlapping(cameraId, from, to, MAX_SEGMENTS)).filter((r) => r.state === 'complete' || r.state === 'recording');
  const views: SegmentView[] = [];
  let startedAt = Number.POSITIVE_INFINITY;
  let endedAt = 0;
  let fragments = 0;
  for (const row of rows) {
    let init: Buffer | undefined;
    const picked: Buffer[] = [];
    let firstStart = -1;
    let lastEnd = 0;
    for await (const record of video.readSegment(row.id, { fromMs: from - row.started_at })) {
      if (record.kind === 'init') {
        init = record.payload;
        continue;
      }
      const start = row.started_at + record.startMs;
      if (start >= to) break;
      if (firstStart < 0) firstStart = start;
      lastEnd = start + record.durationMs;
      picked.push(record.payload);
    }
    if (init === undefined || picked.length === 0) continue;
    const view = openSegment(Buffer.concat([init, ...picked]));
    // Playback starts on a keyframe: fragments are GOP-aligned, so this drops at most a cut one.
    const firstKey = view.fragments.findIndex((f) => f.keyframe);
    if (firstKey < 0) continue;
    views.push({ ...view, fragments: view.fragments.slice(firstKey) });
    startedAt = Math.min(startedAt, firstStart);
    endedAt = Math.max(endedAt, lastEnd);
    fragments += view.fragments.length - firstKey;
  }
  if (views.length === 0) throw new VigilError('VIGIL_NOT_FOUND', 'no recording in the requested time range');
  const parts = [...concatSegments(views.map((segment) => ({ segment })))];
  return { parts, startedAt, endedAt, segments: rows.map((r) => r.id), fragments };
}
