// First run to daily use, over real HTTPS against the real `vigil start` process:
// setup token, setup-required gate, first administrator, login, TOTP enrolment and MFA login,
// CSRF, lockout, and no user enumeration.
// NVR-5.4.2.1b (no default account), NVR-5.4.2.1d (lockout), NVR-5.4.1.1b (same answer for
// unknown user and wrong password), NVR-5.4.1.2a (MFA), NVR-5.4.3.1b / ACS-5.2.1.13 (sessions),
// CAM-T-auth-4, CAM-T-auth-5, ACS-5.1.1.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticator } from 'otplib';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient, type ApiResponse } from '../helpers/https-client.ts';

const ADMIN = { username: 'site-admin', password: 'Harbour-Lantern-42' };
type ErrorReply = { error: { code: string; message: string } };

function codeOf(r: ApiResponse<unknown>): string | undefined {
  return (r.body as Partial<ErrorReply>).error?.code;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

describe('first run, login, MFA, lockout (real process, real TLS)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let totpSecret = '';

  before(async () => {
    vigil = await startVigil({ config: { security: { authRateLimitPerMinute: 600 } } });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('NVR-5.4.2.1b: a one-time setup token is printed and everything but setup is refused', async () => {
    assert.match(vigil.setupToken ?? '', /^[A-Za-z0-9_-]{40,}$/);
    for (const [method, path] of [['GET', '/api/v1/system/info'], ['GET', '/api/v1/users'], ['POST', '/api/v1/auth/login'], ['GET', '/api/v1/audit/events']] as const) {
      const r = await admin.request(method, path, method === 'POST' ? { username: 'admin', password: 'admin' } : undefined);
      assert.equal(r.status, 503, `${method} ${path}`);
      assert.equal(codeOf(r), 'VIGIL_SETUP_REQUIRED');
    }
    const state = await admin.get<{ setupRequired: boolean }>('/api/v1/setup');
    assert.deepEqual(state.body, { setupRequired: true });
  });

  test('setup refuses a wrong token and a weak password, then creates the administrator once', async () => {
    const wrong = await admin.post('/api/v1/setup', { token: 'x'.repeat(43), ...ADMIN });
    assert.equal(codeOf(wrong), 'VIGIL_SETUP_TOKEN_INVALID');
    const weak = await admin.post('/api/v1/setup', { token: vigil.setupToken, username: ADMIN.username, password: 'password' });
    assert.equal(weak.status, 400);
    assert.equal(codeOf(weak), 'VIGIL_PASSWORD_POLICY');
    const ok = await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN });
    assert.equal(ok.status, 201, ok.text);
    const again = await admin.post('/api/v1/setup', { token: vigil.setupToken, username: 'second-admin', password: 'Another-Lantern-43' });
    assert.ok(again.status === 409 || again.status === 401, again.text);
    assert.deepEqual((await admin.get('/api/v1/setup')).body, { setupRequired: false });
  });

  test('login sets a __Host- cookie that is HttpOnly, Secure and SameSite=Strict; mutations need the CSRF token', async () => {
    const login = await admin.post<{ status: string; csrfToken: string; idleTimeoutSeconds: number }>('/api/v1/auth/login', ADMIN);
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.status, 'authenticated');
    assert.equal(login.body.idleTimeoutSeconds, 15 * 60);
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-vigil_session='));
    assert.ok(cookie !== undefined, 'session cookie');
    const value = /^__Host-vigil_session=([^;]+)/.exec(cookie)?.[1] ?? '';
    assert.ok(Buffer.from(value, 'base64url').length >= 32, 'at least 256 random bits');
    for (const attribute of [/;\s*HttpOnly/i, /;\s*Secure/i, /;\s*SameSite=Strict/i, /;\s*Path=\//i]) assert.match(cookie, attribute);
    assert.doesNotMatch(cookie, /;\s*Domain=/i);

    // The administrator role requires a second factor: nothing else until one is enrolled.
    const users = await admin.get('/api/v1/users');
    assert.equal(codeOf(users), 'VIGIL_AUTH_MFA_ENROLMENT_REQUIRED');

    admin.csrfToken = undefined;
    const noCsrf = await admin.post('/api/v1/auth/mfa/totp/enrol', {});
    assert.equal(noCsrf.status, 403);
    assert.equal(codeOf(noCsrf), 'VIGIL_AUTH_CSRF');
    admin.csrfToken = 'forged-' + 'a'.repeat(36);
    assert.equal(codeOf(await admin.post('/api/v1/auth/mfa/totp/enrol', {})), 'VIGIL_AUTH_CSRF');
    admin.csrfToken = login.body.csrfToken;
  });

  test('NVR-5.4.1.2a: TOTP enrolment, then login needs the second factor; a wrong code spends the attempt', async () => {
    const enrol = await admin.post<{ secret: string; otpauthUrl: string }>('/api/v1/auth/mfa/totp/enrol', {});
    assert.equal(enrol.status, 200, enrol.text);
    totpSecret = enrol.body.secret;
    assert.match(enrol.body.otpauthUrl, /^otpauth:\/\/totp\//);
    const confirm = await admin.post('/api/v1/auth/mfa/totp/confirm', { code: authenticator.generate(totpSecret) });
    assert.equal(confirm.status, 200, confirm.text);
    assert.equal((await admin.get('/api/v1/users')).status, 200);

    assert.equal((await admin.post('/api/v1/auth/logout', {})).status, 200);
    assert.equal(codeOf(await admin.get('/api/v1/auth/me')), 'VIGIL_AUTH_REQUIRED');

    const first = await admin.post<{ status: string; mfaToken: string; methods: string[] }>('/api/v1/auth/login', ADMIN);
    assert.equal(first.body.status, 'mfa_required');
    assert.deepEqual(first.body.methods, ['totp']);
    assert.equal(admin.cookies.size, 0, 'no session before the second factor');
    const bad = await admin.post('/api/v1/auth/login/totp', { mfaToken: first.body.mfaToken, code: '000000' === authenticator.generate(totpSecret) ? '111111' : '000000' });
    assert.equal(codeOf(bad), 'VIGIL_AUTH_MFA_FAILED');

    const second = await admin.post<{ mfaToken: string }>('/api/v1/auth/login', ADMIN);
    // The enrolment spent the current time-step (no replay); the next step is inside the ±1 window.
    const nextStep = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(totpSecret);
    const ok = await admin.post<{ status: string; csrfToken: string }>('/api/v1/auth/login/totp', { mfaToken: second.body.mfaToken, code: nextStep });
    assert.equal(ok.status, 200, ok.text);
    admin.csrfToken = ok.body.csrfToken;
    const me = await admin.get<{ username: string }>('/api/v1/auth/me');
    assert.equal(me.body.username, ADMIN.username);
  });

  test('NVR-5.4.2.1d: five wrong passwords lock the account for 15 minutes; the right one is then refused', async () => {
    const created = await admin.post<{ id: string }>('/api/v1/users', { username: 'bob', password: 'Copper-Kettle-77', grants: [{ role: 'operator', scopeKind: 'global' }] });
    assert.equal(created.status, 201, created.text);
    const bob = admin.anonymous();
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 5; i++) codes.push(codeOf(await bob.post('/api/v1/auth/login', { username: 'bob', password: `Wrong-Guess-${i}0000` })));
    assert.deepEqual(codes.slice(0, 4), ['VIGIL_AUTH_FAILED', 'VIGIL_AUTH_FAILED', 'VIGIL_AUTH_FAILED', 'VIGIL_AUTH_FAILED']);
    const right = await bob.post('/api/v1/auth/login', { username: 'bob', password: 'Copper-Kettle-77' });
    assert.equal(right.status, 401);
    assert.equal(codeOf(right), 'VIGIL_AUTH_LOCKED');
    assert.equal(bob.cookies.size, 0);

    const user = await admin.get<{ lockedUntil: string | null }>(`/api/v1/users/${created.body.id}`);
    const minutes = (Date.parse(user.body.lockedUntil ?? '') - Date.now()) / 60_000;
    assert.ok(minutes > 14 && minutes <= 15, `locked for ${minutes.toFixed(2)} min`);
    const events = await admin.get<{ events: Array<{ action: string; outcome: string; target: string }> }>('/api/v1/audit/events?limit=200');
    assert.ok(events.body.events.some((e) => e.target === 'user:bob' && e.outcome === 'denied'), 'the refused login is audited');
  });

  test('NVR-5.4.1.1b: unknown user and wrong password get the same answer in comparable time', async () => {
    const names = ['carol', 'dave', 'erin'];
    for (const username of names) {
      const r = await admin.post('/api/v1/users', { username, password: 'Granite-Meadow-58', grants: [{ role: 'viewer', scopeKind: 'global' }] });
      assert.equal(r.status, 201, r.text);
    }
    const client = admin.anonymous();
    const known: number[] = [];
    const unknown: number[] = [];
    let knownBody = '';
    let unknownBody = '';
    // Interleaved, three attempts per existing user (under the lockout threshold).
    for (let round = 0; round < 3; round++) {
      for (const username of names) {
        const a = await client.post('/api/v1/auth/login', { username, password: 'Not-The-Password-1' });
        const b = await client.post('/api/v1/auth/login', { username: `${username}-nobody-${round}`, password: 'Not-The-Password-1' });
        assert.equal(a.status, b.status);
        knownBody = a.text;
        unknownBody = b.text;
        known.push(a.elapsedMs);
        unknown.push(b.elapsedMs);
      }
    }
    assert.equal(knownBody, unknownBody);
    assert.equal(JSON.parse(knownBody).error.code, 'VIGIL_AUTH_FAILED');
    const ratio = median(known) / median(unknown);
    // Both paths run the full PBKDF2 (600,000 iterations); a missing hash would show a ratio ≫ 3.
    assert.ok(ratio > 0.5 && ratio < 2, `median wrong-password ${median(known).toFixed(0)} ms vs unknown-user ${median(unknown).toFixed(0)} ms`);
  });

  test('the OpenAPI document is served to authenticated users only; security headers are set', async () => {
    const anonymous = await admin.anonymous().get('/api/v1/openapi.json');
    assert.equal(anonymous.status, 401);
    const doc = await admin.get<{ openapi: string; paths: Record<string, unknown> }>('/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.ok(Object.keys(doc.body.paths).includes('/api/v1/auth/login'));
    const h = doc.headers;
    assert.match(String(h['strict-transport-security']), /max-age=\d{7,}/);
    const csp = String(h['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['x-powered-by'], undefined);
  });
});
