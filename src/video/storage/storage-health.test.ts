import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summariseStorage } from './storage-health.ts';
import type { VolumeStatus } from './volumes.ts';

const GiB = 1024 ** 3;
function volume(id: string, role: VolumeStatus['role'], state: VolumeStatus['state'], freeBytes: number | null = 50 * GiB): VolumeStatus {
  return { id, path: `/srv/${id}`, role, state, freeBytes, totalBytes: freeBytes === null ? null : 100 * GiB, reason: state === 'failed' ? 'disk removed' : null, since: 1 };
}
const settings = { mirrorCopies: 2, freeSpaceWarnPercent: 10, healthCheckSeconds: 10 };

test('NVR-5.1.5.2a/b: the mirror verdict follows the volumes (healthy, rebuilding, degraded, failed)', () => {
  const healthy = summariseStorage([volume('a', 'mirror', 'online'), volume('b', 'mirror', 'online'), volume('s', 'spare', 'spare')], new Map(), settings);
  assert.deepEqual(healthy.mirror, { state: 'healthy', redundant: true, copies: 2, online: 2, rebuilding: 0, spares: 1, failed: 0 });
  const rebuilding = summariseStorage([volume('a', 'mirror', 'online'), volume('b', 'mirror', 'failed'), volume('s', 'spare', 'rebuilding')], new Map(), settings);
  assert.equal(rebuilding.mirror.state, 'rebuilding');
  assert.equal(rebuilding.mirror.redundant, false);
  const degraded = summariseStorage([volume('a', 'mirror', 'online'), volume('b', 'mirror', 'failed')], new Map(), settings);
  assert.equal(degraded.mirror.state, 'degraded');
  const failed = summariseStorage([volume('a', 'mirror', 'failed'), volume('b', 'mirror', 'failed')], new Map(), settings);
  assert.equal(failed.mirror.state, 'failed');
  const single = summariseStorage([volume('video', 'mirror', 'online')], new Map(), settings);
  assert.deepEqual([single.mirror.state, single.mirror.redundant], ['healthy', false], 'one volume works but is no mirror');
});

test('NVR-5.2.8.1a: free space per volume against the threshold, with what each volume holds', () => {
  const h = summariseStorage([volume('a', 'mirror', 'online', 5 * GiB), volume('b', 'mirror', 'online', 80 * GiB), volume('c', 'mirror', 'failed', null)], new Map([['a', { segments: 3, bytes: 42 }]]), settings);
  assert.deepEqual(h.volumes.map((v) => [v.id, v.freePercent, v.lowSpace, v.inMirror, v.segments, v.segmentBytes]), [
    ['a', 5, true, true, 3, 42],
    ['b', 80, false, true, 0, 0],
    ['c', null, false, false, 0, 0],
  ]);
  assert.equal(h.volumes[2]?.reason, 'disk removed');
});
