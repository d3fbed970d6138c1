// Cameras over the real API: credentials are write-only and never in a URL (NVR-5.2.4.1a),
// per-camera scope (NVR-5.4.3.1a, CAM-T-auth-5: a viewer of camera A sees nothing of camera B),
// every change audited (NVR-5.2.7.1a).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';

const ADMIN = { username: 'camera-admin', password: 'Telescope-Maple-4242' };
type Camera = { id: string; name: string; url: string; hasCredentials: boolean };
type ErrorReply = { error: { code: string } };

describe('cameras API (real process)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let lobby: Camera;
  let yard: Camera;

  before(async () => {
    vigil = await startVigil({ config: { security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 } } });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('a camera is added with credentials that are never returned', async () => {
    const created = await admin.post<Camera>('/api/v1/cameras', { name: 'Lobby', url: 'rtsps://192.0.2.10:322/stream1', username: 'nvr', password: 'Cam-Secret-9f8e7d', retentionDays: 14 });
    assert.equal(created.status, 201, created.text);
    lobby = created.body;
    assert.equal(lobby.hasCredentials, true);
    assert.doesNotMatch(created.text, /Cam-Secret|"password"|"username"/);
    const got = await admin.get(`/api/v1/cameras/${lobby.id}`);
    assert.doesNotMatch(got.text, /Cam-Secret/);
    yard = (await admin.post<Camera>('/api/v1/cameras', { name: 'Yard', url: 'rtsp://192.0.2.11/h264' })).body;
    assert.equal(yard.hasCredentials, false);
  });

  test('credentials in the URL, other schemes and a pin on plain RTSP are refused with VIGIL_VALIDATION', async () => {
    for (const body of [
      { name: 'Bad1', url: 'rtsp://admin:admin@192.0.2.12/stream' },
      { name: 'Bad2', url: 'http://192.0.2.12/stream' },
      { name: 'Bad3', url: 'rtsp://192.0.2.12/stream', tlsFingerprint256: `${'AB:'.repeat(31)}AB` },
      { name: 'Bad4', url: 'rtsp://192.0.2.12/stream', password: 'only-password' },
    ]) {
      const r = await admin.post<ErrorReply>('/api/v1/cameras', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.text}`);
      assert.equal(r.body.error.code, 'VIGIL_VALIDATION');
    }
    assert.equal((await admin.post<ErrorReply>('/api/v1/cameras', { name: 'Lobby', url: 'rtsp://192.0.2.13/x' })).body.error.code, 'VIGIL_CONFLICT');
  });

  test('a viewer scoped to one camera sees and plays back only that camera', async () => {
    const viewer = { username: 'lobby-guard', password: 'Initial-Pass-5151' };
    const created = await admin.post('/api/v1/users', { ...viewer, grants: [{ role: 'viewer', scopeKind: 'camera', scopeId: lobby.id }] });
    assert.equal(created.status, 201, created.text);
    const api = admin.anonymous();
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/login', viewer)).body.csrfToken;
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/password', { currentPassword: viewer.password, newPassword: 'Own-Pass-For-Guard-77' })).body.csrfToken;

    const list = await api.get<{ cameras: Camera[] }>('/api/v1/cameras');
    assert.deepEqual(list.body.cameras.map((c) => c.name), ['Lobby']);
    assert.equal((await api.get(`/api/v1/cameras/${lobby.id}`)).status, 200);
    const other = await api.get<ErrorReply>(`/api/v1/cameras/${yard.id}`);
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'VIGIL_FORBIDDEN');
    const range = 'from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z';
    assert.equal((await api.get(`/api/v1/cameras/${lobby.id}/recordings?${range}`)).status, 200);
    assert.equal((await api.get(`/api/v1/cameras/${yard.id}/recordings?${range}`)).status, 403);
    assert.equal((await api.request('PATCH', `/api/v1/cameras/${lobby.id}`, { retentionDays: 1 })).status, 403, 'viewers change nothing');
  });

  test('changes are audited without their secret values, and delete removes the camera', async () => {
    const patched = await admin.request<Camera>('PATCH', `/api/v1/cameras/${lobby.id}`, { username: 'nvr2', password: 'Rotated-Secret-1a2b' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await admin.request('DELETE', `/api/v1/cameras/${yard.id}`)).status, 200);
    assert.equal((await admin.get(`/api/v1/cameras/${yard.id}`)).status, 404);
    const wanted = [`camera.create camera:${lobby.id}`, `camera.update camera:${lobby.id}`, `camera.delete camera:${yard.id}`];
    // The audit log is written asynchronously: read until every expected event is there (bounded).
    let events = await admin.get<{ events: Array<{ action: string; target: string; details: Record<string, unknown> }> }>('/api/v1/audit/events?category=video&limit=100');
    let actions: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i > 0) {
        await new Promise((r) => setTimeout(r, 100));
        events = await admin.get('/api/v1/audit/events?category=video&limit=100');
      }
      actions = events.body.events.map((e) => `${e.action} ${e.target}`);
      if (wanted.every((w) => actions.includes(w))) break;
    }
    for (const expected of wanted) assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
    assert.doesNotMatch(JSON.stringify(events.body), /Rotated-Secret|Cam-Secret/);
  });
});
