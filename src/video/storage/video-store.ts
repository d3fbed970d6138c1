// The recording store: segments written to the mirror set, catalogued with a signed hash chain,
// read back authenticated, verified (NVR-5.2.8.1b), rebuilt onto a spare when a mirror fails
// (NVR-5.1.5.2b), shredded by retention (CAM-T-priv-1), reconciled after a crash.
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { isVigilError, VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { DeviceSigner } from '../../crypto/signer.ts';
import type { Store } from '../../store/database.ts';
import { GENESIS_HASH, SegmentCatalog, type SegmentRow } from './catalog.ts';
import { readSegmentFile, sha256File, type SegmentRecord } from './segment-reader.ts';
import { signRow } from './segment-seal.ts';
import { SegmentWriter } from './segment-writer.ts';
import { verifySegmentRow, type SegmentVerification } from './segment-verify.ts';
import { recoverInterrupted } from './recovery.ts';
import { summariseStorage, type StorageHealth } from './storage-health.ts';
import { segmentPath, VolumeSet, type VolumeSpec, type VolumeStatus } from './volumes.ts';

/** Purpose of the keyring DEK that wraps every segment key. */
export const SEGMENT_KEY_PURPOSE = 'video.segment-keys';
const CAMERA_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export interface VideoStoreOptions {
  store: Store;
  keyring: Keyring;
  signer: DeviceSigner;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  config: Config['video'];
  dataDir: string;
  /**
   * The recording service (default): crash recovery at open, health probe and verification walk.
   * Tools (CLI) opening the same store next to a running service pass false: recovery there would
   * close the service's open segments under it.
   */
  maintenance?: boolean;
  /** Test seam: free/total space of a volume directory. */
  spaceOf?: (dir: string) => Promise<{ freeBytes: number; totalBytes: number }>;
}

/** Segments shredded per health tick at most when a volume runs out of space. */
const OVERWRITE_BATCH = 50;
/** Segments re-verified per tick at most (the whole catalog is walked every verifyEveryHours). */
const VERIFY_BATCH = 20;

/** The recording volumes of a configuration: the configured ones, or <dataDir>/video alone. */
export function volumeSpecsOf(config: Config['video'], dataDir: string): readonly VolumeSpec[] {
  return config.volumes.length > 0 ? config.volumes : [{ id: 'video', path: path.join(dataDir, 'video'), role: 'mirror' }];
}

export class VideoStore {
  readonly catalog: SegmentCatalog;
  readonly volumes: VolumeSet;
  readonly #o: VideoStoreOptions;
  readonly #writers = new Map<string, SegmentWriter>();
  #rebuild: Promise<void> = Promise.resolve();
  #probeTimer: NodeJS.Timeout | undefined;
  #verifyTimer: NodeJS.Timeout | undefined;
  #verifyCursor = '';

  private constructor(o: VideoStoreOptions, volumes: VolumeSet) {
    this.#o = o;
    this.volumes = volumes;
    this.catalog = new SegmentCatalog(o.store.db);
  }

  static async open(o: VideoStoreOptions): Promise<VideoStore> {
    const volumes = await VolumeSet.open({ specs: volumeSpecsOf(o.config, o.dataDir), freeSpaceWarnPercent: o.config.freeSpaceWarnPercent, alarms: o.alarms, audit: o.audit, clock: o.clock, logger: o.logger, ...(o.spaceOf === undefined ? {} : { spaceOf: o.spaceOf }) });
    const store = new VideoStore(o, volumes);
    volumes.onFailure((v) => store.#onVolumeFailed(v));
    if (o.maintenance === false) return store;
    await recoverInterrupted({ catalog: store.catalog, volumes, signer: o.signer, unwrap: (row) => store.#unwrap(row), logger: o.logger, audit: o.audit });
    store.#probeTimer = setInterval(() => void store.healthTick(), o.config.healthCheckSeconds * 1000);
    store.#probeTimer.unref();
    // NVR-5.2.8.1b: every stored segment is re-hashed against its signed row every verifyEveryHours.
    store.#verifyTimer = setInterval(() => void store.verifyNext(VERIFY_BATCH).catch((err: unknown) => o.logger.error({ err }, 'periodic verification failed')), Math.max(1000, (o.config.verifyEveryHours * 3_600_000) / 1000));
    store.#verifyTimer.unref();
    return store;
  }

  /** Probe the volumes; when one runs out of space, recording goes on over the oldest video. */
  async healthTick(): Promise<number> {
    await this.volumes.probe();
    if (!this.volumes.lowOnSpace()) return 0;
    const oldest = await this.catalog.endedBefore(undefined, Number.MAX_SAFE_INTEGER, OVERWRITE_BATCH);
    for (const row of oldest) await this.shred(row.id, 'volume full: oldest recording overwritten');
    if (oldest.length > 0) {
      this.#o.alarms.raise({
        type: 'storage.overwriting',
        severity: 'warning',
        source: 'storage',
        message: `recording volumes are below ${this.#o.config.freeSpaceWarnPercent} % free: the ${oldest.length} oldest segments were deleted to keep recording`,
        details: { shredded: oldest.length },
      });
    }
    return oldest.length;
  }

  /** NVR-5.1.5.2a/b, NVR-5.2.8.1a: volumes as last probed, with what each holds. */
  async health(): Promise<StorageHealth> {
    const volumes = this.volumes.list();
    const usage = new Map<string, { segments: number; bytes: number }>();
    for (const v of volumes) usage.set(v.id, await this.catalog.usageOnVolume(v.id));
    const { mirrorCopies, freeSpaceWarnPercent, healthCheckSeconds } = this.#o.config;
    return summariseStorage(volumes, usage, { mirrorCopies, freeSpaceWarnPercent, healthCheckSeconds });
  }

  /** Verifies the next `batch` segments of the catalog walk (wrapping at the end). */
  async verifyNext(batch: number): Promise<SegmentVerification[]> {
    let rows = await this.catalog.completeAfter(this.#verifyCursor, batch);
    if (rows.length === 0 && this.#verifyCursor !== '') {
      this.#verifyCursor = '';
      rows = await this.catalog.completeAfter('', batch);
    }
    const results: SegmentVerification[] = [];
    for (const row of rows) {
      results.push(await this.verifySegment(row.id));
      this.#verifyCursor = row.id;
    }
    return results;
  }

  /** Starts a camera's next segment (closing the current one at `startedAt`). */
  async startSegment(cameraId: string, init: Buffer, startedAt: number): Promise<SegmentWriter> {
    if (!CAMERA_ID.test(cameraId)) throw new VigilError('VIGIL_VALIDATION', 'camera id must be 1-64 of a-z, 0-9 and -');
    await this.finishSegment(cameraId);
    const targets = this.volumes.online().slice(0, this.#o.config.mirrorCopies);
    if (targets.length === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'no recording volume is online');
    const last = await this.catalog.last(cameraId);
    const id = randomUUID();
    const dek = randomBytes(32);
    const wrapped = await this.#o.keyring.seal(SEGMENT_KEY_PURPOSE, dek, id);
    await this.catalog.insert({
      id, camera_id: cameraId, seq: (last?.seq ?? 0) + 1, state: 'recording', started_at: startedAt, ended_at: null, fragments: 0, bytes: 0,
      volumes: JSON.stringify(targets.map((t) => t.id)), wrapped_dek: wrapped, hash: null, prev_hash: last?.hash ?? GENESIS_HASH, signature: null, key_id: null,
    });
    const writer = await SegmentWriter.create({ id, cameraId, startedAt, dek, volumes: this.volumes, targets, sync: this.#o.config.syncEachFragment, init });
    this.#writers.set(cameraId, writer);
    return writer;
  }

  /** Closes a camera's open segment, signs its catalog row and links it into the chain. */
  async finishSegment(cameraId: string): Promise<SegmentRow | undefined> {
    const writer = this.#writers.get(cameraId);
    if (writer === undefined) return undefined;
    this.#writers.delete(cameraId);
    const totals = await writer.close();
    const row = await this.catalog.get(writer.id);
    if (row === undefined) throw new VigilError('VIGIL_INTERNAL', `segment ${writer.id} vanished from the catalog`);
    const done: SegmentRow = { ...row, state: 'complete', ended_at: totals.endedAt, fragments: totals.fragments, bytes: totals.bytes, hash: totals.hash, volumes: JSON.stringify(totals.volumes) };
    const sig = signRow(done, this.#o.signer);
    await this.catalog.update(done.id, { state: done.state, ended_at: done.ended_at, fragments: done.fragments, bytes: done.bytes, hash: done.hash, volumes: done.volumes, ...sig });
    return { ...done, ...sig };
  }

  /** The records of a segment, authenticated; a failure raises the tamper alarm. */
  /** A segment's records; one still recording is read up to its last complete record (live playback). */
  async *readSegment(id: string, options: { fromMs?: number } = {}): AsyncGenerator<SegmentRecord> {
    const row = await this.catalog.get(id);
    if (row === undefined) throw new VigilError('VIGIL_NOT_FOUND', `no segment ${id}`);
    const dek = await this.#unwrap(row);
    try {
      const volume = this.#readableCopy(row);
      try {
        yield* readSegmentFile(segmentPath(volume, row.camera_id, row.id), row.id, dek, { ...options, open: row.state === 'recording' });
      } catch (err) {
        if (isVigilError(err, 'VIGIL_VIDEO_SEGMENT_TAMPERED') || isVigilError(err, 'VIGIL_VIDEO_SEGMENT_MALFORMED')) await this.#tampered(row, volume.id, err.message);
        throw err;
      }
    } finally {
      dek.fill(0);
    }
  }

  /** Re-hashes every copy and checks signature and chain link (NVR-5.2.8.1b). */
  async verifySegment(id: string): Promise<SegmentVerification> {
    const row = await this.catalog.get(id);
    if (row === undefined) throw new VigilError('VIGIL_NOT_FOUND', `no segment ${id}`);
    const result = await verifySegmentRow(row, { catalog: this.catalog, volumes: this.volumes, publicKeyPem: this.#o.signer.publicKeyPem });
    if (!result.ok) await this.#tampered(row, result.problems[0]?.volume ?? '', result.problems.map((p) => p.message).join('; '));
    return result;
  }

  /** Crypto-shredding: the key is destroyed first, then the copies; the row stays for the chain. */
  async shred(id: string, reason: string, actor = 'system'): Promise<void> {
    const row = await this.catalog.get(id);
    if (row === undefined || row.state === 'shredded') return;
    if (row.state === 'recording') throw new VigilError('VIGIL_CONFLICT', 'a segment being recorded cannot be deleted');
    await this.catalog.update(id, { wrapped_dek: null, state: 'shredded' });
    for (const volumeId of parseVolumes(row.volumes)) {
      const volume = this.volumes.get(volumeId);
      if (volume !== undefined) await unlink(segmentPath(volume, row.camera_id, row.id)).catch(() => undefined);
    }
    this.#o.audit.record({ category: 'video', action: 'video.segment_shredded', actor, source: 'local', target: `camera:${row.camera_id}`, outcome: 'success', details: { segment: id, reason } });
  }

  /** Deletes (shreds) a camera's segments that ended more than `days` ago; returns the count. */
  async applyRetention(cameraId: string, days: number, limit = 10_000): Promise<number> {
    const before = this.#o.clock.now() - days * 86_400_000;
    const rows = await this.catalog.endedBefore(cameraId, before, limit);
    for (const row of rows) await this.shred(row.id, `retention ${days} d`);
    return rows.length;
  }

  /** Waits for any spare rebuild under way (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#rebuild;
  }

  async close(): Promise<void> {
    clearInterval(this.#probeTimer);
    clearInterval(this.#verifyTimer);
    for (const cameraId of [...this.#writers.keys()]) await this.finishSegment(cameraId);
    await this.#rebuild;
  }

  async #unwrap(row: SegmentRow): Promise<Buffer> {
    if (row.wrapped_dek === null) throw new VigilError('VIGIL_VIDEO_SEGMENT_SHREDDED', `segment ${row.id} was deleted`);
    return this.#o.keyring.open(SEGMENT_KEY_PURPOSE, row.wrapped_dek, row.id);
  }

  #readableCopy(row: SegmentRow): VolumeStatus {
    for (const id of parseVolumes(row.volumes)) {
      const v = this.volumes.get(id);
      if (v !== undefined && v.state !== 'failed') return v;
    }
    throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', `no readable copy of segment ${row.id}`);
  }

  async #tampered(row: SegmentRow, volumeId: string, message: string): Promise<void> {
    await this.catalog.update(row.id, { state: 'tampered' });
    this.#o.alarms.raise({
      type: 'video.tamper',
      severity: 'critical',
      source: `camera:${row.camera_id}`,
      message: `recording segment ${row.id} (camera ${row.camera_id}, ${new Date(row.started_at).toISOString()}) failed verification${volumeId === '' ? '' : ` on volume ${volumeId}`}: ${message}`,
      dedupeKey: `video.tamper|${row.id}`,
      details: { segment: row.id, camera: row.camera_id, volume: volumeId },
    });
    this.#o.audit.record({ category: 'video', action: 'video.tamper_detected', actor: 'system', source: 'local', target: `camera:${row.camera_id}`, outcome: 'failure', details: { segment: row.id, volume: volumeId } });
  }

  #onVolumeFailed(failed: VolumeStatus): void {
    this.#rebuild = this.#rebuild.then(() => this.#replace(failed)).catch((err: unknown) => {
      this.#o.logger.error({ err, volume: failed.id }, 'spare rebuild failed');
      this.#o.alarms.raise({ type: 'storage.rebuild_failed', severity: 'critical', source: `volume:${failed.id}`, message: `rebuilding after the loss of ${failed.id} failed: ${(err as Error).message}` });
    });
  }

  /** NVR-5.1.5.2b: a spare joins the open segments at once, then receives every finished copy. */
  async #replace(failed: VolumeStatus): Promise<void> {
    for (const writer of this.#writers.values()) await writer.dropVolume(failed.id);
    const spare = this.volumes.takeSpare();
    if (spare === undefined) {
      this.#o.alarms.raise({ type: 'storage.no_spare', severity: 'critical', source: `volume:${failed.id}`, message: `no hot spare to replace ${failed.id}: recordings now have fewer copies` });
      return;
    }
    for (const writer of this.#writers.values()) if (writer.volumeIds.length < this.#o.config.mirrorCopies) await writer.addCopy(spare);
    let copied = 0;
    for (let after = ''; ; ) {
      const rows = await this.catalog.onVolume(failed.id, after, 500);
      if (rows.length === 0) break;
      for (const row of rows) {
        after = row.id;
        const ids = parseVolumes(row.volumes);
        const source = ids.map((id) => this.volumes.get(id)).find((v) => v !== undefined && v.state === 'online');
        if (source === undefined) continue;
        const from = segmentPath(source, row.camera_id, row.id);
        if ((await sha256File(from)) !== row.hash) {
          await this.#tampered(row, source.id, 'the surviving copy does not match its signed hash; not copied');
          continue;
        }
        const to = segmentPath(spare, row.camera_id, row.id);
        await rm(to, { force: true });
        await copyFileInto(from, to);
        await this.catalog.update(row.id, { volumes: JSON.stringify(ids.map((id) => (id === failed.id ? spare.id : id))) });
        copied++;
      }
    }
    this.volumes.promote(spare.id);
    this.#o.alarms.raise({ type: 'storage.rebuilt', severity: 'info', source: `volume:${spare.id}`, message: `spare ${spare.id} replaced ${failed.id}: ${copied} segments copied` });
  }
}

export function parseVolumes(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

async function copyFileInto(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  await copyFile(from, to);
}
