// The roles × permissions matrix as the API enforces it, compared cell by cell with the
// generated document docs/generated/roles.md (NVR-5.4.3.1a, CAM-T-auth-5: RBAC matching the
// declaration). One user per built-in role, each driving one route per permission over HTTPS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROLES } from '../../src/identity/permissions.ts';
import { ROOT, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient, type ApiResponse } from '../helpers/https-client.ts';

const ADMIN = { username: 'matrix-admin', password: 'Obsidian-Harbor-6021' };
const FIRST_PASSWORD = 'Temporary-Ferry-7733';
const OWN_PASSWORD = 'Personal-Glacier-9102';

/** One request per permission the API has today; `undefined` means allowed, a code means refused. */
const PROBES: Record<string, (api: ApiClient, role: string) => Promise<ApiResponse<unknown>>> = {
  'system.read': (api) => api.get('/api/v1/system/info'),
  'system.manage': (api) => api.request('PUT', '/api/v1/system/tls-certificate', { certificatePem: 'not a certificate', privateKeyPem: 'not a key' }),
  'users.read': (api) => api.get('/api/v1/users'),
  'users.manage': (api, role) => api.post('/api/v1/users', { username: `made-by-${role}`, password: FIRST_PASSWORD, grants: [{ role: 'viewer', scopeKind: 'global' }] }),
  'audit.read': (api) => api.get('/api/v1/audit/events?limit=5'),
  'audit.export': (api) => api.get('/api/v1/audit/export'),
  'alarms.read': (api) => api.get('/api/v1/alarms'),
};

/** Permissions the document marks "yes" for each role. */
function documentedMatrix(): Map<string, Set<string>> {
  const text = readFileSync(path.join(ROOT, 'docs/generated/roles.md'), 'utf8');
  const lines = text.split('\n').filter((l) => l.startsWith('| '));
  const header = (lines[0] ?? '').split('|').map((c) => c.trim()).slice(3, -1);
  const matrix = new Map<string, Set<string>>(header.map((r) => [r, new Set<string>()]));
  for (const line of lines.slice(1)) {
    const cells = line.split('|').map((c) => c.trim());
    const permission = /`([^`]+)`/.exec(cells[1] ?? '')?.[1] ?? '';
    header.forEach((role, i) => {
      if (cells[i + 3] === 'yes') matrix.get(role)?.add(permission);
    });
  }
  return matrix;
}

describe('roles matrix: document == enforcement', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;

  before(async () => {
    vigil = await startVigil({ config: { security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 } } });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    const login = await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN);
    admin.csrfToken = login.body.csrfToken;
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('the document lists every built-in role', () => {
    assert.deepEqual([...documentedMatrix().keys()].sort(), Object.keys(ROLES).sort());
  });

  for (const role of Object.keys(ROLES)) {
    test(`${role}: every probed permission is allowed exactly when the document says yes`, async () => {
      const username = `user-${role}`;
      const created = await admin.post('/api/v1/users', { username, password: FIRST_PASSWORD, grants: [{ role, scopeKind: 'global' }] });
      assert.equal(created.status, 201, created.text);
      const api = admin.anonymous();
      const login = await api.post<{ csrfToken: string }>('/api/v1/auth/login', { username, password: FIRST_PASSWORD });
      api.csrfToken = login.body.csrfToken;
      // An administrator-set password must be changed before anything else.
      const blocked = await api.get<{ error: { code: string } }>('/api/v1/system/info');
      assert.equal(blocked.body.error.code, 'VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED');
      const changed = await api.post<{ csrfToken: string }>('/api/v1/auth/password', { currentPassword: FIRST_PASSWORD, newPassword: OWN_PASSWORD });
      assert.equal(changed.status, 200, changed.text);
      api.csrfToken = changed.body.csrfToken;

      const documented = documentedMatrix().get(role) ?? new Set<string>();
      for (const [permission, probe] of Object.entries(PROBES)) {
        const r = await probe(api, role);
        const code = (r.body as { error?: { code: string } }).error?.code;
        if (documented.has(permission)) assert.notEqual(code, 'VIGIL_FORBIDDEN', `${role} should have ${permission}: ${r.status} ${r.text.slice(0, 200)}`);
        else assert.equal(code, 'VIGIL_FORBIDDEN', `${role} must not have ${permission}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    });
  }

  test('a refused request is audited as access.denied with the user and the route', async () => {
    const events = await admin.get<{ events: Array<{ action: string; actor: string; target: string; outcome: string }> }>('/api/v1/audit/events?limit=500');
    const denied = events.body.events.filter((e) => e.action === 'access.denied');
    assert.ok(denied.some((e) => e.actor === 'user:user-viewer' && e.target.includes('/api/v1/users')), JSON.stringify(denied.slice(0, 5)));
  });
});
