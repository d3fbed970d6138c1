// Movie fragment writer (ISO/IEC 14496-12 §8.8.4–§8.8.12): sizes are computed first, then the
// whole fragment is written into one buffer of exactly that size.
//
//   moof { mfhd(seq) traf{ tfhd(track, default-base-is-moof) tfdt v1(base dts) trun(samples) }* }
//   mdat { track 1 samples | track 2 samples ... }
import { VigilError } from '../../core/errors.ts';
import { ByteWriter } from './byte-writer.ts';
import type { SampleQueue } from './sample-queue.ts';

/** §8.8.7.1 tfhd flag: offsets are relative to the moof (required by 'iso5'/CMAF). */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
/** §8.8.8.1 trun flags. */
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_CTS = 0x000800;
/** §8.8.3.1 sample flags: sync = depends_on 2 (none); non-sync = depends_on 1 + is_non_sync_sample. */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

interface TrunShape {
  flags: number;
  version: number;
  bytesPerSample: number;
}

function trunShape(q: SampleQueue): TrunShape {
  let anyCts = false;
  let anyNegative = false;
  for (let i = 0; i < q.count; i++) {
    const c = q.ctsOffsets[i] ?? 0;
    if (c !== 0) anyCts = true;
    if (c < 0) anyNegative = true;
  }
  // Composition offsets are omitted when all are zero (no B-frames): 4 bytes a sample saved.
  const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | (anyCts ? TRUN_CTS : 0);
  return { flags, version: anyNegative ? 1 : 0, bytesPerSample: anyCts ? 16 : 12 };
}

/** traf size: 8 + tfhd 16 + tfdt(v1) 20 + trun 20 + n × per-sample. */
function trafSize(q: SampleQueue, shape: TrunShape): number {
  return 8 + 16 + 20 + 20 + q.count * shape.bytesPerSample;
}

function writeTraf(w: ByteWriter, trackId: number, q: SampleQueue, shape: TrunShape, dataOffset: number): void {
  const traf = w.box('traf');
  const tfhd = w.fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF);
  w.u32(trackId);
  w.end(tfhd);
  const tfdt = w.fullBox('tfdt', 1, 0); // §8.8.12: baseMediaDecodeTime, 64-bit
  w.u64(q.firstDts);
  w.end(tfdt);
  const trun = w.fullBox('trun', shape.version, shape.flags);
  w.u32(q.count);
  w.i32(dataOffset);
  const withCts = (shape.flags & TRUN_CTS) !== 0;
  for (let i = 0; i < q.count; i++) {
    w.u32(q.durations[i] ?? 0);
    w.u32(q.sizes[i] ?? 0);
    w.u32(q.keyframes[i] === 1 ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC);
    if (withCts) w.i32(q.ctsOffsets[i] ?? 0);
  }
  w.end(trun);
  w.end(traf);
}

function writeSamples(w: ByteWriter, q: SampleQueue): void {
  const out = w.bytes;
  let pos = w.pos;
  for (let n = 0; n < q.nalCount; n++) {
    const src = q.nalSrc[n];
    const s = q.nalStart[n] ?? 0;
    const e = q.nalEnd[n] ?? 0;
    if (src === undefined) continue;
    const len = e - s;
    if (q.lengthPrefixed) {
      out[pos] = len >>> 24;
      out[pos + 1] = (len >>> 16) & 0xff;
      out[pos + 2] = (len >>> 8) & 0xff;
      out[pos + 3] = len & 0xff;
      pos += 4;
    }
    out.set(s === 0 && e === src.length ? src : src.subarray(s, e), pos);
    pos += len;
  }
  w.pos = pos;
}

/**
 * Write one fragment (moof + mdat) from the non-empty queues. `trackIds[i]` belongs to
 * `queues[i]`. The buffer is allocated once, exactly sized, and fully written.
 */
export function writeFragment(sequenceNumber: number, trackIds: readonly number[], queues: readonly SampleQueue[]): Uint8Array {
  const shapes = queues.map(trunShape);
  let moofSize = 8 + 16; // moof header + mfhd
  let payload = 0;
  for (let i = 0; i < queues.length; i++) {
    const q = queues[i];
    const shape = shapes[i];
    if (q === undefined || shape === undefined || q.count === 0) continue;
    moofSize += trafSize(q, shape);
    payload += q.payloadBytes;
  }
  const total = moofSize + 8 + payload;
  const w = new ByteWriter(Buffer.allocUnsafeSlow(total));
  const moof = w.box('moof');
  const mfhd = w.fullBox('mfhd', 0, 0); // §8.8.5
  w.u32(sequenceNumber);
  w.end(mfhd);
  let dataOffset = moofSize + 8;
  for (let i = 0; i < queues.length; i++) {
    const q = queues[i];
    const shape = shapes[i];
    if (q === undefined || shape === undefined || q.count === 0) continue;
    writeTraf(w, trackIds[i] ?? 0, q, shape, dataOffset);
    dataOffset += q.payloadBytes;
  }
  w.end(moof);
  w.u32(8 + payload); // §8.1.1 mdat; payload ≤ maxFragmentBytes keeps it 32-bit
  w.fourcc('mdat');
  for (const q of queues) if (q.count > 0) writeSamples(w, q);
  if (w.pos !== total) throw new VigilError('VIGIL_INTERNAL', 'mp4 fragment size mismatch', { details: { written: w.pos, total } });
  return w.bytes;
}
