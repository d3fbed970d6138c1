// The administration pages of the web UI in Debian's Chromium against the real `vigil start`
// over real TLS: users and roles with a per-camera scope (NVR-5.4.3.1a, NVR-5.4.2.1c), a page
// hidden from a role is also refused by the API (CAM-T-auth-5), storage health (NVR-5.1.5.2a/b,
// NVR-5.2.8.1a), new-login notices (CAM-T-priv-2: a sign-in from another loopback address,
// 127.0.0.2, reaches the open session) and signing out everywhere (ACS-5.2.1.13).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ROOT, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { launchChromium, type Browser } from '../helpers/chromium.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { auditEventsWhen } from '../helpers/audit.ts';
import { lockWebDist } from '../helpers/web-dist-lock.ts';

const ARTIFACTS = path.join(ROOT, 'test-artifacts/web');
const ADMIN = { username: 'chief-admin', password: 'Harbour-Compass-7315' };
const OPERATOR = { username: 'gate-watch', first: 'Initial-Bramble-4826', own: 'Private-Estuary-9054' };
type ErrorReply = { error: { code: string } };
/** The page's window as far as these tests touch it (the root tsconfig has no DOM types). */
type BrowserWindow = { location: { hash: string } };

describe('web UI administration in Chromium: users and scopes, storage, login notices, sign out everywhere', () => {
  let vigil: VigilProcess;
  let context: BrowserContext;
  let browser: Browser | undefined;
  let page: Page;
  let admin: ApiClient;
  let gateId = '';
  let releaseWebDist = (): void => undefined;

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`), fullPage: true });
  }

  async function signIn(username: string, password: string): Promise<void> {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function apiSignIn(client: ApiClient, username: string, password: string): Promise<void> {
    const r = await client.post<{ csrfToken: string }>('/api/v1/auth/login', { username, password });
    assert.equal(r.status, 200, r.text);
    client.csrfToken = r.body.csrfToken;
  }

  before(async () => {
    // The other browser test rebuilds and tampers with the same web/dist: one at a time.
    releaseWebDist = await lockWebDist();
    const build = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(build.status, 0, `npm run build:web failed:\n${build.stdout}\n${build.stderr}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    vigil = await startVigil({
      config: {
        // Second factors are covered by web-ui.test.ts; here the roles and pages are the subject.
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        video: { volumes: [{ id: 'disk-a', path: 'vol-a', role: 'mirror' }, { id: 'disk-b', path: 'vol-b', role: 'mirror' }, { id: 'hot-spare', path: 'vol-s', role: 'spare' }] },
      },
    });
    // The administrator's API client signs in from 127.0.0.2, so the browser's 127.0.0.1 is new.
    admin = new ApiClient(vigil.baseUrl, vigil.caPem, { localAddress: '127.0.0.2' });
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    await apiSignIn(admin, ADMIN.username, ADMIN.password);
    for (const name of ['Gate', 'Lobby']) {
      const cam = await admin.post<{ id: string }>('/api/v1/cameras', { name, url: 'rtsp://127.0.0.1:9/none', enabled: false });
      assert.equal(cam.status, 201, cam.text);
      if (name === 'Gate') gateId = cam.body.id;
    }
    browser = await launchChromium(vigil.caPem, { name: 'admin', viewport: { width: 1280, height: 900 } });
    ({ context, page } = browser);
  });

  beforeEach((t) => {
    if (browser !== undefined) browser.problems.step = t.name;
  });

  after(async () => {
    await browser?.close();
    await vigil?.dispose();
    releaseWebDist();
  });

  test('CAM-T-priv-2 / NVR-5.4.3.1a: the administrator signs in from a new address (banner) and creates an operator scoped to one camera', async () => {
    await page.goto(vigil.baseUrl);
    await signIn(ADMIN.username, ADMIN.password);
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    const banner = page.getByTestId('own-login-notice');
    assert.match(await banner.innerText(), /Sign-in from a new address\. This session was opened from 127\.0\.0\.1/);
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Alarms', 'Live', 'Cameras', 'Doors', 'Verify evidence', 'Audit log', 'Storage', 'Users', 'System info']);
    await shot('01-new-address-banner');
    await banner.getByRole('button', { name: 'Dismiss' }).click();
    await banner.waitFor({ state: 'detached' });

    await nav.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'New user…' }).click();
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('User name').fill(OPERATOR.username);
    await form.getByLabel('Display name').fill('Gate watch (nights)');
    await form.getByLabel('Initial password').fill(OPERATOR.first);
    await form.getByLabel('Role').selectOption('operator');
    await form.getByLabel('Scope').selectOption('camera');
    await form.getByLabel('Camera').selectOption({ label: 'Gate' });
    await shot('02-new-user');
    await form.getByRole('button', { name: 'Create user' }).click();
    const row = page.locator(`tr[data-user="${OPERATOR.username}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /operator on camera Gate/);
    assert.match(await row.innerText(), /must change password/);
    await page.getByRole('heading', { name: OPERATOR.username, level: 2 }).waitFor();
    await shot('03-users');
    // What the page did is what the server holds, and it is audited.
    const users = await admin.get<{ users: Array<{ username: string; grants: unknown[]; mustChangePassword: boolean }> }>('/api/v1/users');
    const made = users.body.users.find((u) => u.username === OPERATOR.username);
    assert.deepEqual(made?.grants, [{ role: 'operator', scopeKind: 'camera', scopeId: gateId }]);
    const audit = await admin.get<{ events: Array<{ actor: string; target: string }> }>('/api/v1/audit/events?action=user.create&limit=5');
    assert.ok(audit.body.events.some((e) => e.actor === `user:${ADMIN.username}` && e.target === `user:${OPERATOR.username}`), audit.text);
  });

  test('NVR-5.1.5.2a/b, NVR-5.2.8.1a: the Storage page shows the mirror, the spare and each volume\'s free space', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('heading', { name: 'Storage' }).waitFor();
    assert.equal(await page.getByTestId('mirror-state').innerText(), 'Healthy');
    for (const [id, state] of [['disk-a', 'OK (in mirror)'], ['disk-b', 'OK (in mirror)'], ['hot-spare', 'Hot spare (standby)']] as const) {
      const row = page.locator(`tr[data-volume="${id}"]`);
      assert.match(await row.innerText(), new RegExp(state.replace(/[()]/g, '\\$&'), 'i'), 'badges are shown in capitals');
      assert.match(await row.getByTestId(`free-${id}`).innerText(), /^\d+\.\d % free$/);
      const meter = await row.getByRole('meter', { name: `Free space on ${id}` }).evaluate((el) => { const m = el as unknown as { value: number; low: number }; return { value: m.value, low: m.low }; });
      assert.ok(meter.value > 0 && meter.value <= 100 && meter.low === 10, JSON.stringify(meter));
      assert.match(await row.innerText(), new RegExp(path.join(vigil.dir, 'vol-')), 'the administrator (system.manage) sees where the volume is');
    }
    await shot('04-storage');
  });

  test('ACS-5.2.1.12, ACS-5.6.1.1: the Doors page shows each door\'s state, and site lockdown is set and ended from it (audited)', async () => {
    const site = await admin.post<{ id: string }>('/api/v1/access/sites', { name: 'Harbour office', timezone: 'UTC' });
    assert.equal(site.status, 201, site.text);
    const door = await admin.post<{ id: string }>('/api/v1/access/doors', { siteId: site.body.id, name: 'Main entrance', lockOutput: 0 });
    assert.equal(door.status, 201, door.text);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Doors' }).click();
    await page.getByRole('heading', { name: 'Doors' }).waitFor();
    assert.equal(await page.getByTestId('door-state-Main entrance').innerText(), 'closed · locked');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Lock down Harbour office' }).click();
    await page.getByText('LOCKDOWN', { exact: true }).waitFor();
    // The access event log shows it (refreshed while the page is open).
    await page.getByRole('cell', { name: /^lockdown\.on/ }).first().waitFor();
    await shot('04b-doors-lockdown');
    await page.getByRole('button', { name: 'End lockdown of Harbour office' }).click();
    await page.getByRole('button', { name: 'Lock down Harbour office' }).waitFor();
    const events = await auditEventsWhen(admin, 'limit=200', (e) => /lockdown/.test(e.action));
    assert.ok(events.filter((e) => /lockdown/.test(e.action)).length >= 2, JSON.stringify(events.map((e) => e.action)));
  });

  test('NVR-5.4.2.1c, CAM-T-auth-5: the operator changes the first password, sees only the Gate camera, and the Users and Storage pages are refused in the UI and by the API', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await signIn(OPERATOR.username, OPERATOR.first);
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await page.getByLabel('Current password').fill(OPERATOR.first);
    await page.getByLabel('New password', { exact: true }).fill(OPERATOR.own);
    await page.getByLabel('Repeat new password').fill(OPERATOR.own);
    await page.getByRole('button', { name: 'Change password' }).click();
    // Only camera.* on one camera: no alarms (global only), so the first page is the live wall.
    await page.getByRole('heading', { name: 'Live' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Live', 'Cameras', 'Verify evidence']);
    await nav.getByRole('link', { name: 'Cameras' }).click();
    await page.getByRole('heading', { name: 'Cameras' }).waitFor();
    await page.getByRole('cell', { name: 'Gate', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'Lobby', exact: true }).count(), 0);
    // The operator's first sign-in from this address: the banner survives the forced change.
    await page.getByTestId('own-login-notice').waitFor();
    await shot('05-operator-cameras');
    for (const [hash, title] of [['#/users', 'Users'], ['#/storage', 'Storage'], ['#/audit', 'Audit log']] as const) {
      await page.evaluate((h) => { (globalThis as unknown as BrowserWindow).location.hash = h; }, hash);
      await page.getByText(`Your role may not open the ${title} page.`).waitFor();
    }
    await shot('06-operator-users-refused');
    const op = new ApiClient(vigil.baseUrl, vigil.caPem);
    await apiSignIn(op, OPERATOR.username, OPERATOR.own);
    for (const url of ['/api/v1/users', '/api/v1/storage', '/api/v1/audit/events?limit=1', '/api/v1/alarms']) {
      const r = await op.get<ErrorReply>(url);
      assert.equal(r.status, 403, `${url}: ${r.text}`);
      assert.equal(r.body.error.code, 'VIGIL_FORBIDDEN');
    }
    assert.equal((await op.post<ErrorReply>('/api/v1/users', { username: 'sneaky', password: OPERATOR.first })).status, 403);
    await page.evaluate(() => { (globalThis as unknown as BrowserWindow).location.hash = '#/cameras'; });
  });

  test('CAM-T-priv-2: a sign-in to the same account from another address (127.0.0.2) is shown in the open session', async () => {
    const elsewhere = admin.from('127.0.0.2');
    await apiSignIn(elsewhere, OPERATOR.username, OPERATOR.own);
    const notice = page.getByTestId('other-login-notice').filter({ hasText: '127.0.0.2' });
    await notice.waitFor({ timeout: 20_000 });
    assert.match(await notice.innerText(), /New sign-in to your account from a new address: 127\.0\.0\.2 at /);
    await shot('07-new-login-notification');
  });

  test('ACS-5.2.1.13: "Sign out everywhere" on the Account page ends the other session too (its next API call is 401)', async () => {
    const other = admin.from('127.0.0.2');
    await apiSignIn(other, OPERATOR.username, OPERATOR.own);
    assert.equal((await other.get('/api/v1/cameras')).status, 200);
    await page.getByTestId('signed-in-user').click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
    await page.getByTestId('own-session').filter({ hasText: '(this session)' }).waitFor();
    assert.ok((await page.getByTestId('own-session').count()) >= 2);
    await shot('08-account');
    await page.getByRole('button', { name: 'Sign out everywhere…' }).click();
    await page.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
    await page.getByText('You were signed out on every device.').waitFor();
    const refused = await other.get<ErrorReply>('/api/v1/cameras');
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.error.code, 'VIGIL_AUTH_REQUIRED');
  });

  test('ACS-5.2.1.13: an administrator signs another user out everywhere from the Users page', async () => {
    const op = admin.from('127.0.0.2');
    await apiSignIn(op, OPERATOR.username, OPERATOR.own);
    await signIn(ADMIN.username, ADMIN.password);
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: `Details of ${OPERATOR.username}` }).click();
    const detail = page.getByRole('region', { name: OPERATOR.username });
    await detail.getByTestId('user-sessions').filter({ hasText: '127.0.0.2' }).waitFor();
    await detail.getByRole('button', { name: 'Sign out everywhere' }).click();
    await detail.getByText('Signed out everywhere.').waitFor();
    await detail.getByText('No open sessions.').waitFor();
    await shot('09-admin-signed-user-out');
    assert.equal((await op.get('/api/v1/cameras')).status, 401);
  });

  test('no console errors, no failed requests, no error responses in the browser', () => {
    assert.deepEqual(browser?.problems.consoleErrors, []);
    assert.deepEqual(browser?.problems.failedRequests, []);
    assert.deepEqual(browser?.problems.errorResponses, [], 'the UI asks only for what the permissions allow');
  });
});
