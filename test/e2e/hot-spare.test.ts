// Mirrored recording with a hot spare through the running service (NVR-5.1.5.2a/b): the box
// records its own camera (camera role + local recording) onto two mirror volumes with a spare;
// one mirror disk is pulled mid-recording. The failure is alarmed and audited, the spare joins
// the set at once and is rebuilt from the surviving copy, the storage API shows it, and the
// catalog has no gap: consecutive segments meet within one fragment (one GOP) and every segment
// ends up on two online volumes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_CAMERA_ID } from '../../src/camera/local-recording.ts';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';

const ADMIN = { username: 'spare-admin', password: 'Mirror-Spare-Rebuild-77' };
const GOP_MS = 1000; // gop 10 at 10 fps: one fragment per second

interface Segment { id: string; state: string; startedAt: string; endedAt: string | null; volumes: string[] }
interface Storage { mirror: { state: string; redundant: boolean; failed: number }; volumes: Array<{ id: string; state: string; inMirror: boolean; reason: string | null }> }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hot spare through the running service (mirror disk pulled mid-recording)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let work = '';

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'vigil-spare-'));
    vigil = await startVigil({
      dir: work,
      config: {
        security: { mfaRequiredRoles: [] },
        camera: { enabled: true, width: 320, height: 240, fps: 10, bitrateKbps: 300, gop: 10, rtspsPort: 0, localRecording: { enabled: true } },
        video: {
          segmentSeconds: 10, healthCheckSeconds: 1, mirrorCopies: 2,
          volumes: [
            { id: 'disk-a', path: path.join(work, 'vol-a'), role: 'mirror' },
            { id: 'disk-b', path: path.join(work, 'vol-b'), role: 'mirror' },
            { id: 'spare', path: path.join(work, 'vol-s'), role: 'spare' },
          ],
        },
      },
    });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
  });
  after(async () => {
    await vigil?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  test('NVR-5.1.5.2a/b: alarm, the spare joins and is rebuilt, no gap in the catalog', async () => {
    const before = (await admin.get<Storage>('/api/v1/storage')).body;
    assert.deepEqual(before.volumes.map((v) => [v.id, v.state]), [['disk-a', 'online'], ['disk-b', 'online'], ['spare', 'spare']]);
    await sleep(14_000); // one finished segment before the failure, one open
    renameSync(path.join(work, 'vol-b'), path.join(work, 'vol-b.pulled')); // the disk is gone

    let storage = before;
    for (let i = 0; i < 100 && !storage.volumes.some((v) => v.id === 'spare' && v.inMirror); i++) {
      await sleep(200);
      storage = (await admin.get<Storage>('/api/v1/storage')).body;
    }
    const byId = new Map(storage.volumes.map((v) => [v.id, v]));
    assert.equal(byId.get('disk-b')?.state, 'failed', JSON.stringify(storage));
    assert.ok(byId.get('spare')?.inMirror, 'the spare joined the mirror set');
    const alarms = (await admin.get<{ alarms: Array<{ type: string; source: string; state: string }> }>('/api/v1/alarms?limit=100')).body.alarms;
    assert.ok(alarms.some((a) => a.type === 'storage.volume_failed' && a.source === 'volume:disk-b'), JSON.stringify(alarms.map((a) => [a.type, a.source])));

    await sleep(12_000); // recording goes on onto disk-a + spare
    const range = 'from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';
    let segments: Segment[] = [];
    // The rebuild copies finished segments to the spare in the background: wait, bounded.
    for (let i = 0; i < 100; i++) {
      segments = (await admin.get<{ segments: Segment[] }>(`/api/v1/cameras/${LOCAL_CAMERA_ID}/recordings?${range}`)).body.segments.filter((s) => s.state === 'complete');
      if (segments.length >= 2 && segments.every((s) => s.volumes.includes('disk-a') && s.volumes.includes('spare'))) break;
      await sleep(200);
    }
    assert.ok(segments.length >= 2, JSON.stringify(segments));
    const rebuilt = (await admin.get<{ alarms: Array<{ type: string; source: string }> }>('/api/v1/alarms?limit=100')).body.alarms;
    assert.ok(rebuilt.some((a) => a.type === 'storage.rebuilt' && a.source === 'volume:spare'), JSON.stringify(rebuilt.map((a) => [a.type, a.source])));
    for (const s of segments) assert.ok(s.volumes.includes('disk-a') && s.volumes.includes('spare'), `${s.id} on ${s.volumes.join(',')}`);
    for (let i = 1; i < segments.length; i++) {
      const gap = Date.parse(segments[i]?.startedAt ?? '') - Date.parse(segments[i - 1]?.endedAt ?? '');
      assert.ok(gap <= GOP_MS, `gap of ${gap} ms between segments ${i - 1} and ${i}`);
    }
    const events = (await admin.get<{ events: Array<{ action: string; target: string }> }>('/api/v1/audit/events?category=video&limit=500')).body.events;
    assert.ok(events.some((e) => e.action === 'storage.volume_failed' && e.target === 'volume:disk-b'));
    assert.ok(events.some((e) => e.action === 'storage.spare_joined' && e.target === 'volume:spare'));
  });
});
