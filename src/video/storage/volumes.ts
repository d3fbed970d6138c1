// Recording volumes: the mirror set every segment is written to (RAID-1 level, NVR-5.1.5.2a),
// hot spares that join when a mirror fails (NVR-5.1.5.2b), and the health probe that notices a
// disk that was removed, went read-only or is filling up (NVR-5.2.8.1a). Each volume carries a
// marker file naming it, so a disk mounted in the wrong place is refused, not written over.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';

export const MARKER_FILE = '.vigil-volume';

export interface VolumeSpec {
  id: string;
  path: string;
  role: 'mirror' | 'spare';
}

/** online: in the mirror set; spare: waiting; rebuilding: a spare being filled; failed: out. */
export type VolumeState = 'online' | 'spare' | 'rebuilding' | 'failed';

export interface VolumeStatus {
  id: string;
  path: string;
  /** As configured; `state` says what the volume is doing now (a spare may be online). */
  role: VolumeSpec['role'];
  state: VolumeState;
  freeBytes: number | null;
  totalBytes: number | null;
  reason: string | null;
  since: number;
}

export interface VolumeSetOptions {
  specs: readonly VolumeSpec[];
  freeSpaceWarnPercent: number;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  /** Free/total space of a directory; node's statfs unless a test stands in. */
  spaceOf?: (dir: string) => Promise<{ freeBytes: number; totalBytes: number }>;
}

async function statfsSpace(dir: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const stats = await statfs(dir);
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

export class VolumeSet {
  readonly #volumes = new Map<string, VolumeStatus>();
  readonly #o: VolumeSetOptions;
  readonly #failureListeners: Array<(v: VolumeStatus) => void> = [];

  private constructor(options: VolumeSetOptions) {
    this.#o = options;
  }

  static async open(options: VolumeSetOptions): Promise<VolumeSet> {
    const set = new VolumeSet(options);
    for (const spec of options.specs) {
      const status: VolumeStatus = { id: spec.id, path: spec.path, role: spec.role, state: spec.role === 'mirror' ? 'online' : 'spare', freeBytes: null, totalBytes: null, reason: null, since: options.clock.now() };
      set.#volumes.set(spec.id, status);
      try {
        await prepareVolume(spec);
      } catch (err) {
        set.fail(spec.id, `cannot prepare: ${(err as Error).message}`);
      }
    }
    await set.probe();
    return set;
  }

  /** Called once per volume that leaves the mirror set. */
  onFailure(listener: (v: VolumeStatus) => void): void {
    this.#failureListeners.push(listener);
  }

  get(id: string): VolumeStatus | undefined {
    return this.#volumes.get(id);
  }

  /** The volumes new segments are written to. */
  online(): VolumeStatus[] {
    return [...this.#volumes.values()].filter((v) => v.state === 'online');
  }

  list(): VolumeStatus[] {
    return [...this.#volumes.values()].map((v) => ({ ...v }));
  }

  fail(id: string, reason: string): void {
    const v = this.#volumes.get(id);
    if (v === undefined || v.state === 'failed') return;
    const was = v.state;
    Object.assign(v, { state: 'failed', reason, since: this.#o.clock.now() });
    this.#o.logger.error({ volume: id, reason }, 'recording volume failed');
    this.#o.alarms.raise({
      type: 'storage.volume_failed',
      severity: 'critical',
      source: `volume:${id}`,
      message: `recording volume ${id} (${v.path}) failed: ${reason}`,
      details: { volume: id, previousState: was },
    });
    this.#o.audit.record({ category: 'video', action: 'storage.volume_failed', actor: 'system', source: 'local', target: `volume:${id}`, outcome: 'failure', details: { reason: reason.slice(0, 200) } });
    if (was === 'online' || was === 'rebuilding') for (const l of this.#failureListeners) l({ ...v });
  }

  /** A spare, now rebuilding, or undefined when none is left. */
  takeSpare(): VolumeStatus | undefined {
    const spare = [...this.#volumes.values()].find((v) => v.state === 'spare');
    if (spare === undefined) return undefined;
    Object.assign(spare, { state: 'rebuilding', since: this.#o.clock.now() });
    return spare;
  }

  promote(id: string): void {
    const v = this.#volumes.get(id);
    if (v?.state !== 'rebuilding') return;
    Object.assign(v, { state: 'online', since: this.#o.clock.now() });
    this.#o.audit.record({ category: 'video', action: 'storage.spare_joined', actor: 'system', source: 'local', target: `volume:${id}`, outcome: 'success' });
  }

  /** Marker still ours, a write succeeds, free space above the threshold. */
  async probe(): Promise<void> {
    for (const v of this.#volumes.values()) {
      if (v.state === 'failed') continue;
      try {
        await probeVolume(v);
        Object.assign(v, await (this.#o.spaceOf ?? statfsSpace)(v.path));
      } catch (err) {
        this.fail(v.id, (err as Error).message);
        continue;
      }
      this.#checkSpace(v);
    }
  }

  #checkSpace(v: VolumeStatus): void {
    if (v.freeBytes === null || v.totalBytes === null || v.totalBytes === 0) return;
    const freePercent = (v.freeBytes / v.totalBytes) * 100;
    const dedupeKey = `storage.low_space|${v.id}`;
    if (freePercent < this.#o.freeSpaceWarnPercent) {
      this.#o.alarms.raise({
        type: 'storage.low_space',
        severity: 'warning',
        source: `volume:${v.id}`,
        message: `volume ${v.id} has ${freePercent.toFixed(1)} % free (threshold ${this.#o.freeSpaceWarnPercent} %)`,
        dedupeKey,
        details: { volume: v.id, freeBytes: v.freeBytes, totalBytes: v.totalBytes },
      });
    } else {
      this.#o.alarms.clear(dedupeKey, 'free space above the threshold');
    }
  }

  /** Free space below the warning threshold on some online volume. */
  lowOnSpace(): boolean {
    return this.online().some((v) => v.freeBytes !== null && v.totalBytes !== null && v.totalBytes > 0 && (v.freeBytes / v.totalBytes) * 100 < this.#o.freeSpaceWarnPercent);
  }
}

async function prepareVolume(spec: VolumeSpec): Promise<void> {
  await mkdir(spec.path, { recursive: true, mode: 0o700 });
  const marker = path.join(spec.path, MARKER_FILE);
  const found = await readFile(marker, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  if (found === undefined) await writeFile(marker, `${spec.id}\n`, { mode: 0o600, flag: 'wx' });
  else if (found.trim() !== spec.id) throw new Error(`the directory belongs to volume '${found.trim().slice(0, 40)}'`);
}

async function probeVolume(v: VolumeStatus): Promise<void> {
  const marker = (await readFile(path.join(v.path, MARKER_FILE), 'utf8').catch(() => '')).trim();
  if (marker !== v.id) throw new Error('volume marker missing or changed (disk removed or replaced?)');
  const probe = path.join(v.path, `.probe-${randomBytes(6).toString('hex')}`);
  const handle = await open(probe, 'wx', 0o600);
  try {
    await handle.write(Buffer.from('vigil'));
    await handle.datasync();
  } finally {
    await handle.close();
    await unlink(probe).catch(() => undefined);
  }
}

/** Where a segment's copy lives on a volume. Camera ids are checked before they reach a path. */
export function segmentPath(volume: Pick<VolumeStatus, 'path'>, cameraId: string, segmentId: string): string {
  return path.join(volume.path, cameraId, `${segmentId}.vseg`);
}
