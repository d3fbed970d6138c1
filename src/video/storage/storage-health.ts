// The storage health an operator sees (NVR-5.1.5.2a/b mirror and hot spare, NVR-5.2.8.1a free
// space against the threshold): each volume's state and space, and one verdict for the mirror
// set. Pure: the store gathers the facts, this decides what they mean.
import type { VolumeStatus } from './volumes.ts';

/**
 * healthy: every segment gets its configured copies; rebuilding: a spare is being filled;
 * degraded: fewer online mirrors than copies and no rebuild under way; failed: nothing records.
 */
export type MirrorState = 'healthy' | 'rebuilding' | 'degraded' | 'failed';

export interface VolumeHealth {
  id: string;
  path: string;
  role: VolumeStatus['role'];
  state: VolumeStatus['state'];
  /** In the set new segments are written to. */
  inMirror: boolean;
  totalBytes: number | null;
  freeBytes: number | null;
  freePercent: number | null;
  lowSpace: boolean;
  reason: string | null;
  since: number;
  segments: number;
  segmentBytes: number;
}

export interface StorageHealth {
  mirror: {
    state: MirrorState;
    /** At least two copies of every new segment (a single volume is no mirror). */
    redundant: boolean;
    copies: number;
    online: number;
    rebuilding: number;
    spares: number;
    failed: number;
  };
  freeSpaceWarnPercent: number;
  healthCheckSeconds: number;
  volumes: VolumeHealth[];
}

export function summariseStorage(
  volumes: readonly VolumeStatus[],
  usage: ReadonlyMap<string, { segments: number; bytes: number }>,
  settings: { mirrorCopies: number; freeSpaceWarnPercent: number; healthCheckSeconds: number },
): StorageHealth {
  const count = (state: VolumeStatus['state']): number => volumes.filter((v) => v.state === state).length;
  const online = count('online');
  const rebuilding = count('rebuilding');
  // A single configured volume cannot hold more than one copy: it is "healthy" at what it can do.
  const wanted = Math.min(settings.mirrorCopies, volumes.filter((v) => v.role === 'mirror').length || 1);
  const state: MirrorState = online === 0 ? 'failed' : online >= wanted ? 'healthy' : rebuilding > 0 ? 'rebuilding' : 'degraded';
  return {
    mirror: { state, redundant: online >= 2 && settings.mirrorCopies >= 2, copies: settings.mirrorCopies, online, rebuilding, spares: count('spare'), failed: count('failed') },
    freeSpaceWarnPercent: settings.freeSpaceWarnPercent,
    healthCheckSeconds: settings.healthCheckSeconds,
    volumes: volumes.map((v) => {
      const freePercent = v.freeBytes === null || v.totalBytes === null || v.totalBytes === 0 ? null : (v.freeBytes / v.totalBytes) * 100;
      const used = usage.get(v.id) ?? { segments: 0, bytes: 0 };
      return {
        id: v.id,
        path: v.path,
        role: v.role,
        state: v.state,
        inMirror: v.state === 'online',
        totalBytes: v.totalBytes,
        freeBytes: v.freeBytes,
        freePercent,
        lowSpace: freePercent !== null && freePercent < settings.freeSpaceWarnPercent,
        reason: v.reason,
        since: v.since,
        segments: used.segments,
        segmentBytes: used.bytes,
      };
    }),
  };
}
