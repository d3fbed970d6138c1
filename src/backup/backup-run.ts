// Making backup sets (NVR-5.2.9.1a full backup of video; NVR-5.1.5.1c manual and scheduled).
// The sealed segment files are copied as they are — already AES-256-GCM under their own keys
// (NVR-5.2.9.2a) — streamed, and checked against the signed catalog hash as they are written, so
// a damaged local copy never becomes a "good" backup. Each segment key is re-wrapped under the
// per-backup key; the set's manifest is signed and MACed. Sets hold at most MAX_SEGMENTS_PER_SET
// segments: a run over a large catalog writes several sets, and memory stays bounded.
import { createReadStream } from 'node:fs';
import type { Clock } from '../core/clock.ts';
import { isVigilError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { DeviceSigner } from '../crypto/signer.ts';
import type { SegmentRow } from '../video/storage/catalog.ts';
import { parseVolumes, SEGMENT_KEY_PURPOSE, type VideoStore } from '../video/storage/video-store.ts';
import { segmentPath } from '../video/storage/volumes.ts';
import { backupSubkeys, manifestMac, newBackupKey, sealSegmentKey, wrapBackupKey } from './backup-keys.ts';
import {
  MANIFEST_FORMAT,
  manifestObject,
  MAX_CAMERAS,
  MAX_SEGMENTS_PER_SET,
  newBackupId,
  segmentObject,
  serializeManifest,
  signatureObject,
  signManifest,
  type ManifestSegment,
} from './manifest.ts';
import type { BackupTarget } from './target.ts';

const CATALOG_PAGE = 500;
const MAX_REPORTED_SKIPS = 100;

export interface BackupRunDeps {
  video: VideoStore;
  keyring: Keyring;
  signer: DeviceSigner;
  clock: Clock;
  deviceName: string;
}

export interface BackupRunOptions {
  /** full: every segment in the selection is listed (files the target holds are not copied again); incremental: only segments the target does not hold yet. */
  kind: 'full' | 'incremental';
  /** Cameras to back up (default: every camera in the catalog). */
  cameras?: readonly string[] | undefined;
  /** Segments overlapping [from, to) (epoch ms); open ends when absent. */
  from?: number | undefined;
  to?: number | undefined;
  /** Also wrap the backup key under this passphrase (restore on a replacement device). */
  recoveryPassphrase?: string | undefined;
  recoveryIterations?: number | undefined;
  /** Test seam and bound: at most this many segments per set (≤ MAX_SEGMENTS_PER_SET). */
  segmentsPerSet?: number | undefined;
}

export interface BackupRunResult {
  runId: string;
  /** Backup set ids written, in order. */
  sets: string[];
  /** Segments listed in the written manifests. */
  segments: number;
  /** Segment files copied to the target in this run, and their bytes. */
  copied: number;
  copiedBytes: number;
  /** Segment files the target already held (id + hash), not copied again. */
  alreadyPresent: number;
  /** Segments left out, with why (first 100). */
  skipped: Array<{ segment: string; reason: string }>;
  skippedCount: number;
}

interface OpenSet {
  id: string;
  part: number;
  key: Buffer;
  segmentWrap: Buffer;
  macKey: Buffer;
  entries: ManifestSegment[];
}

export async function runBackup(deps: BackupRunDeps, target: BackupTarget, options: BackupRunOptions): Promise<BackupRunResult> {
  const now = deps.clock.now();
  const runId = newBackupId(now);
  const perSet = Math.max(1, Math.min(options.segmentsPerSet ?? MAX_SEGMENTS_PER_SET, MAX_SEGMENTS_PER_SET));
  const cameras = [...(options.cameras ?? (await deps.video.catalog.cameras()))].sort().slice(0, MAX_CAMERAS);
  const result: BackupRunResult = { runId, sets: [], segments: 0, copied: 0, copiedBytes: 0, alreadyPresent: 0, skipped: [], skippedCount: 0 };
  const skip = (segment: string, reason: string): void => {
    result.skippedCount++;
    if (result.skipped.length < MAX_REPORTED_SKIPS) result.skipped.push({ segment, reason });
  };
  let current: OpenSet | undefined;
  const openSet = (): OpenSet => {
    const key = newBackupKey();
    const id = result.sets.length === 0 && current === undefined ? runId : newBackupId(now);
    return { id, part: result.sets.length + 1, key, ...subkeys(key, id), entries: [] };
  };
  try {
    for (const cameraId of cameras) {
      for (let afterSeq = 0; ; ) {
        const rows = await deps.video.catalog.chain(cameraId, afterSeq, CATALOG_PAGE);
        if (rows.length === 0) break;
        for (const row of rows) {
          afterSeq = row.seq;
          if (row.state === 'recording' || !overlaps(row, options.from, options.to)) continue;
          current ??= openSet();
          const entry = await entryFor(deps, target, row, current, options.kind, result, skip);
          if (entry === undefined) continue;
          current.entries.push(entry);
          if (current.entries.length >= perSet) {
            await writeSet(deps, target, current, options, cameras, now, runId);
            result.sets.push(current.id);
            result.segments += current.entries.length;
            wipe(current);
            current = undefined;
          }
        }
      }
    }
    if (current !== undefined && current.entries.length > 0) {
      await writeSet(deps, target, current, options, cameras, now, runId);
      result.sets.push(current.id);
      result.segments += current.entries.length;
    }
    return result;
  } finally {
    if (current !== undefined) wipe(current);
  }
}

/** The manifest entry of one catalog row, copying its file when the target lacks it. */
async function entryFor(
  deps: BackupRunDeps,
  target: BackupTarget,
  row: SegmentRow,
  set: OpenSet,
  kind: BackupRunOptions['kind'],
  result: BackupRunResult,
  skip: (segment: string, reason: string) => void,
): Promise<ManifestSegment | undefined> {
  const base = {
    id: row.id,
    cameraId: row.camera_id,
    seq: row.seq,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    fragments: row.fragments,
    bytes: row.bytes,
    hash: row.hash,
    prevHash: row.prev_hash,
    signature: row.signature,
    signedBy: row.key_id,
  };
  if (row.state !== 'complete') {
    // Shredded and tampered rows carry no video; a full backup keeps them so the restored chain
    // has no gap (NVR-5.2.8.1b verification after restore). Incremental runs carry only new video.
    if (kind === 'incremental' || (row.state !== 'shredded' && row.state !== 'tampered') || row.signature === null) return undefined;
    return { ...base, state: row.state, object: null, key: null };
  }
  if (row.hash === null || row.wrapped_dek === null || row.signature === null) {
    skip(row.id, 'catalog row is incomplete');
    return undefined;
  }
  const object = segmentObject(row.camera_id, row.id, row.hash);
  const held = await target.stat(object);
  if (held !== undefined && held.size === row.bytes) {
    result.alreadyPresent++;
    if (kind === 'incremental') return undefined;
  } else if (!(await copySegment(deps, target, row, object))) {
    // No copy matches its signed hash: VideoStore raises the tamper alarm and marks the row.
    await deps.video.verifySegment(row.id);
    skip(row.id, 'no local copy matches its signed hash (tampered); not backed up');
    return undefined;
  } else {
    result.copied++;
    result.copiedBytes += row.bytes;
  }
  const dek = await deps.keyring.open(SEGMENT_KEY_PURPOSE, row.wrapped_dek, row.id);
  try {
    return { ...base, state: 'complete', object, key: sealSegmentKey(set.segmentWrap, row.id, dek) };
  } finally {
    dek.fill(0);
  }
}

/** Streams the first local copy whose bytes match the signed hash; false when none does. */
async function copySegment(deps: BackupRunDeps, target: BackupTarget, row: SegmentRow, object: string): Promise<boolean> {
  for (const volumeId of parseVolumes(row.volumes)) {
    const volume = deps.video.volumes.get(volumeId);
    if (volume === undefined || volume.state === 'failed') continue;
    try {
      await target.put(object, createReadStream(segmentPath(volume, row.camera_id, row.id), { highWaterMark: 1024 * 1024 }), { expectedSha256: row.hash ?? '' });
      return true;
    } catch (err) {
      // A bad local copy: try the next mirror. Anything else (the target failing) ends the run.
      if (isVigilError(err, 'VIGIL_BACKUP_INVALID') || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
  }
  return false;
}

async function writeSet(deps: BackupRunDeps, target: BackupTarget, set: OpenSet, options: BackupRunOptions, cameras: string[], now: number, runId: string): Promise<void> {
  const keys = await wrapBackupKey(set.key, set.id, { keyring: deps.keyring, passphrase: options.recoveryPassphrase, iterations: options.recoveryIterations });
  const bytes = serializeManifest({
    format: MANIFEST_FORMAT,
    id: set.id,
    run: runId,
    part: set.part,
    kind: options.kind,
    createdAt: new Date(now).toISOString(),
    device: { name: deps.deviceName, keyId: deps.signer.keyId, publicKeyPem: deps.signer.publicKeyPem },
    cameras,
    range: { from: options.from ?? null, to: options.to ?? null },
    keys,
    segments: set.entries,
  });
  // The signature object is written last: a set without it is incomplete and is never listed.
  await target.put(manifestObject(set.id), [bytes]);
  await target.put(signatureObject(set.id), [signManifest(bytes, deps.signer, manifestMac(set.macKey, bytes))]);
}

function subkeys(key: Buffer, id: string): { segmentWrap: Buffer; macKey: Buffer } {
  const k = backupSubkeys(key, id);
  return { segmentWrap: k.segmentWrap, macKey: k.manifestMac };
}

function wipe(set: OpenSet): void {
  set.key.fill(0);
  set.segmentWrap.fill(0);
  set.macKey.fill(0);
}

function overlaps(row: SegmentRow, from: number | undefined, to: number | undefined): boolean {
  if (to !== undefined && row.started_at >= to) return false;
  if (from !== undefined && row.ended_at !== null && row.ended_at <= from) return false;
  return true;
}

/** Backup set ids in the target, oldest first (ids start with their UTC creation time). */
export async function listBackups(target: BackupTarget, options: { after?: string; limit: number }): Promise<string[]> {
  const ids: string[] = [];
  let after = options.after === undefined ? undefined : `sets/${options.after}/~`;
  // Two objects per set: page until `limit` complete sets are found or the listing ends.
  for (let pages = 0; ids.length < options.limit && pages < 10_000; pages++) {
    const names = await target.list('sets/', { ...(after === undefined ? {} : { after }), limit: 1000 });
    if (names.length === 0) break;
    for (const name of names) {
      const m = /^sets\/([^/]+)\/manifest\.sig$/.exec(name);
      if (m?.[1] !== undefined && ids.length < options.limit) ids.push(m[1]);
    }
    after = names[names.length - 1];
  }
  return ids;
}
