// The administration API behind the web UI's Users, Storage and account pages, over real HTTPS
// against the real process: storage health (NVR-5.1.5.2a/b, NVR-5.2.8.1a), per-camera scopes
// (NVR-5.4.3.1a), new-login notices from another address (CAM-T-priv-2), and "log out
// everywhere" for oneself and, by an administrator, for another user (ACS-5.2.1.13).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';

const ADMIN = { username: 'store-admin', password: 'Copper-Lighthouse-4471' };
const OPERATOR = { username: 'gate-operator', first: 'Temporary-Ferry-7733', own: 'Personal-Glacier-9102' };
const NIGHT = { username: 'night-operator', first: 'Temporary-Rowan-5510', own: 'Personal-Willow-3385' };
type ErrorReply = { error: { code: string } };
interface Me { permissions: string[] }
interface Volume { id: string; path?: string; role: string; state: string; inMirror: boolean; totalBytes: number | null; freeBytes: number | null; freePercent: number | null; lowSpace: boolean; segments: number }
interface Storage { mirror: { state: string; redundant: boolean; copies: number; online: number; spares: number }; freeSpaceWarnPercent: number; volumes: Volume[] }
interface Notice { id: number; sourceIp: string; newSource: boolean }

async function signIn(client: ApiClient, username: string, password: string): Promise<{ csrfToken: string; login?: { sourceIp: string; newSource: boolean } }> {
  const r = await client.post<{ csrfToken: string; login?: { sourceIp: string; newSource: boolean } }>('/api/v1/auth/login', { username, password });
  assert.equal(r.status, 200, r.text);
  client.csrfToken = r.body.csrfToken;
  return r.body;
}

/** Created with a first password by the administrator, then changed by the user (NVR-5.4.2.1c). */
async function firstLogin(client: ApiClient, user: { username: string; first: string; own: string }): Promise<void> {
  await signIn(client, user.username, user.first);
  const changed = await client.post<{ csrfToken: string }>('/api/v1/auth/password', { currentPassword: user.first, newPassword: user.own });
  assert.equal(changed.status, 200, changed.text);
  client.csrfToken = changed.body.csrfToken;
}

describe('administration API: storage health, scopes, login notices, logout everywhere', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let gateId = '';
  let lobbyId = '';

  before(async () => {
    vigil = await startVigil({
      config: {
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        video: { volumes: [{ id: 'disk-a', path: 'vol-a', role: 'mirror' }, { id: 'disk-b', path: 'vol-b', role: 'mirror' }, { id: 'hot-spare', path: 'vol-s', role: 'spare' }] },
      },
    });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    await signIn(admin, ADMIN.username, ADMIN.password);
    for (const name of ['Gate', 'Lobby']) {
      const cam = await admin.post<{ id: string }>('/api/v1/cameras', { name, url: 'rtsp://127.0.0.1:9/none', enabled: false });
      assert.equal(cam.status, 201, cam.text);
      if (name === 'Gate') gateId = cam.body.id;
      else lobbyId = cam.body.id;
    }
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('NVR-5.1.5.2a/b, NVR-5.2.8.1a: GET /api/v1/storage shows the mirror, the spare and each volume\'s space; paths only to system.manage', async () => {
    const r = await admin.get<Storage>('/api/v1/storage');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.mirror, { state: 'healthy', redundant: true, copies: 2, online: 2, rebuilding: 0, spares: 1, failed: 0 });
    assert.equal(r.body.freeSpaceWarnPercent, 10);
    assert.deepEqual(r.body.volumes.map((v) => [v.id, v.role, v.state, v.inMirror]), [['disk-a', 'mirror', 'online', true], ['disk-b', 'mirror', 'online', true], ['hot-spare', 'spare', 'spare', false]]);
    for (const v of r.body.volumes) {
      assert.ok((v.totalBytes ?? 0) > 0 && v.freeBytes !== null && v.freeBytes <= (v.totalBytes ?? 0), JSON.stringify(v));
      assert.equal(v.path, path.join(vigil.dir, v.id === 'disk-a' ? 'vol-a' : v.id === 'disk-b' ? 'vol-b' : 'vol-s'));
    }
    const createdOperator = await admin.post('/api/v1/users', { username: NIGHT.username, password: NIGHT.first, grants: [{ role: 'operator', scopeKind: 'global' }] });
    assert.equal(createdOperator.status, 201, createdOperator.text);
    const night = admin.anonymous();
    await firstLogin(night, NIGHT);
    const seen = await night.get<Storage>('/api/v1/storage');
    assert.equal(seen.status, 200, 'an operator holds system.read (health)');
    assert.ok(seen.body.volumes.length === 3 && seen.body.volumes.every((v) => v.path === undefined), 'no file-system paths without system.manage');
    assert.ok(!seen.text.includes(vigil.dir), 'the data directory is not disclosed');
  });

  test('NVR-5.4.3.1a: an operator scoped to one camera sees that camera only; storage, users and the other camera are refused', async () => {
    const created = await admin.post<{ id: string; mustChangePassword: boolean; grants: unknown[] }>('/api/v1/users', {
      username: OPERATOR.username, password: OPERATOR.first, grants: [{ role: 'operator', scopeKind: 'camera', scopeId: gateId }],
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.mustChangePassword, true);
    const op = admin.anonymous();
    await firstLogin(op, OPERATOR);
    assert.deepEqual((await op.get<Me>('/api/v1/auth/me')).body.permissions, ['camera.view', 'camera.playback', 'camera.export']);
    const cameras = await op.get<{ cameras: Array<{ id: string }> }>('/api/v1/cameras');
    assert.deepEqual(cameras.body.cameras.map((c) => c.id), [gateId]);
    for (const [method, url] of [['GET', '/api/v1/storage'], ['GET', '/api/v1/users'], ['GET', `/api/v1/cameras/${lobbyId}`], ['GET', '/api/v1/alarms'],
      ['GET', `/api/v1/users/${created.body.id}/sessions`], ['POST', `/api/v1/users/${created.body.id}/sessions/revoke-all`]] as const) {
      const r = await op.request<ErrorReply>(method, url, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 403, `${method} ${url}: ${r.text}`);
      assert.equal(r.body.error.code, 'VIGIL_FORBIDDEN');
    }
    // The administrator sees the user's grant with its scope and the last login.
    const listed = await admin.get<{ users: Array<{ username: string; grants: Array<{ role: string; scopeKind: string; scopeId: string }>; lastLoginFrom: string | null; lastLoginAt: string | null }> }>('/api/v1/users');
    const row = listed.body.users.find((u) => u.username === OPERATOR.username);
    assert.deepEqual(row?.grants, [{ role: 'operator', scopeKind: 'camera', scopeId: gateId }]);
    assert.equal(row?.lastLoginFrom, '127.0.0.1');
    assert.ok(row?.lastLoginAt !== null && Date.now() - Date.parse(row?.lastLoginAt ?? '') < 60_000);
  });

  test('CAM-T-priv-2: a login from a new address is flagged in its own answer, and an open session learns of it', async () => {
    const here = admin.anonymous();
    const mine = await signIn(here, OPERATOR.username, OPERATOR.own);
    assert.deepEqual(mine.login && [mine.login.sourceIp, mine.login.newSource], ['127.0.0.1', false], 'a known address is not new');
    const start = await here.get<{ latest: number; notices: Notice[] }>('/api/v1/auth/login-notices');
    assert.equal(start.status, 200, start.text);
    assert.deepEqual(start.body.notices, []);

    const elsewhere = admin.from('127.0.0.2');
    const theirs = await signIn(elsewhere, OPERATOR.username, OPERATOR.own);
    assert.deepEqual(theirs.login && [theirs.login.sourceIp, theirs.login.newSource], ['127.0.0.2', true]);
    const polled = await here.get<{ latest: number; notices: Notice[] }>(`/api/v1/auth/login-notices?after=${start.body.latest}`);
    assert.deepEqual(polled.body.notices.map((n) => [n.sourceIp, n.newSource]), [['127.0.0.2', true]]);
    const own = await elsewhere.get<{ notices: Notice[] }>(`/api/v1/auth/login-notices?after=${start.body.latest}`);
    assert.deepEqual(own.body.notices, [], 'the new session is not told of its own login');
    // Another account's logins are never shown.
    assert.deepEqual((await admin.get<{ notices: Notice[] }>(`/api/v1/auth/login-notices?after=${start.body.latest}`)).body.notices, []);
    const bad = await here.get<ErrorReply>('/api/v1/auth/login-notices?after=-1');
    assert.equal(bad.status, 400);
  });

  test('ACS-5.2.1.13: log out everywhere ends every session of the user at once; an administrator can do it for another user, audited', async () => {
    const a = admin.anonymous();
    const b = admin.from('127.0.0.3');
    await signIn(a, OPERATOR.username, OPERATOR.own);
    await signIn(b, OPERATOR.username, OPERATOR.own);
    const users = await admin.get<{ users: Array<{ id: string; username: string }> }>('/api/v1/users');
    const opId = users.body.users.find((u) => u.username === OPERATOR.username)?.id ?? '';
    const sessions = await admin.get<{ sessions: Array<{ sourceIp: string }> }>(`/api/v1/users/${opId}/sessions`);
    assert.ok(sessions.body.sessions.some((s) => s.sourceIp === '127.0.0.3'), sessions.text);
    const revoked = await admin.post<{ revoked: number }>(`/api/v1/users/${opId}/sessions/revoke-all`, {});
    assert.equal(revoked.status, 200, revoked.text);
    assert.ok(revoked.body.revoked >= 2);
    for (const client of [a, b]) assert.equal((await client.get('/api/v1/cameras')).status, 401);
    assert.equal((await admin.get<{ sessions: unknown[] }>(`/api/v1/users/${opId}/sessions`)).body.sessions.length, 0);
    const audit = await admin.get<{ events: Array<{ action: string; actor: string; target: string }> }>('/api/v1/audit/events?action=user.sessions.revoke&limit=5');
    assert.ok(audit.body.events.some((e) => e.actor === `user:${ADMIN.username}` && e.target === `user:${OPERATOR.username}`), audit.text);
    assert.equal((await admin.post<ErrorReply>('/api/v1/users/00000000-0000-4000-8000-000000000000/sessions/revoke-all', {})).status, 404);

    // For oneself: one session ends all, itself included.
    const c = admin.anonymous();
    const d = admin.from('127.0.0.2');
    await signIn(c, OPERATOR.username, OPERATOR.own);
    await signIn(d, OPERATOR.username, OPERATOR.own);
    const self = await c.post<{ revoked: number }>('/api/v1/auth/sessions/revoke-all', {});
    assert.equal(self.status, 200, self.text);
    assert.equal(self.body.revoked, 2);
    assert.equal((await d.get('/api/v1/cameras')).status, 401);
    assert.equal((await c.get('/api/v1/cameras')).status, 401);
  });
});
