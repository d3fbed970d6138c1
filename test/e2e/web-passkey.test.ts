// Passkeys in the web UI (NVR-5.4.1.2a) in Debian's Chromium against the real `vigil start` over
// real TLS, with Chromium's CDP virtual authenticator (CTAP2, internal transport, user
// verification) standing in for the device: the forced enrolment of an administrator with a
// passkey instead of TOTP, the Account page's list, sign-in with password + passkey, a device
// without the passkey failing with a clear message, adding a second passkey and removing the
// first with confirmation; the last second factor of a role that requires MFA cannot be removed,
// in the UI nor by the API; each change is in the audit log.
//
// The page is opened as https://localhost:PORT: browsers refuse WebAuthn on an IP-address origin,
// and the relying-party ID is `localhost` (security.webauthnRpId's default). The listener itself
// is 127.0.0.1, so this also shows the server accepts the RP host name's origin.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { ROOT, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { launchChromium, type Browser } from '../helpers/chromium.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { lockWebDist } from '../helpers/web-dist-lock.ts';

const ARTIFACTS = path.join(ROOT, 'test-artifacts/web');
const ADMIN = { username: 'door-keeper', password: 'Lantern-Orchard-5820' };
type AuditEvent = { action: string; actor: string; target: string; outcome: string; details: Record<string, unknown> };
type StoredCredential = { credentialId: string; isResidentCredential: boolean; rpId?: string; privateKey: string; userHandle?: string; signCount: number };

describe('web UI passkeys in Chromium with a virtual authenticator: enrol, sign in, wrong device, list and remove', () => {
  let vigil: VigilProcess;
  let context: BrowserContext;
  let browser: Browser | undefined;
  let page: Page;
  let cdp: CDPSession;
  let origin = '';
  let authenticatorId: string | null = null;
  let releaseWebDist = (): void => undefined;

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS, `passkey-${name}.png`), fullPage: true });
  }

  async function signInWithPassword(): Promise<void> {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('User name').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText('You have signed out.').waitFor();
  }

  /**
   * Replaces the virtual device (Chrome allows one "internal" authenticator at a time): a fresh
   * one, holding `credentials` if given. Answers the credentials the old one held.
   */
  async function swapAuthenticator(credentials: StoredCredential[] = []): Promise<StoredCredential[]> {
    let held: StoredCredential[] = [];
    if (authenticatorId !== null) {
      held = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    }
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
    for (const credential of credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    return held;
  }

  /** What the signed-in administrator reads from the audit log (newest first), polled: writes are asynchronous. */
  async function auditUntil(action: string, found: (events: AuditEvent[]) => boolean): Promise<AuditEvent[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = await page.evaluate(async (a) => {
        const r = await fetch(`/api/v1/audit/events?action=${encodeURIComponent(a)}&order=newest&limit=50`, { credentials: 'same-origin' });
        return ((await r.json()) as { events: AuditEvent[] }).events;
      }, action);
      if (found(events)) return events;
      if (Date.now() > deadline) assert.fail(`audit ${action}: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function openAccount(): Promise<void> {
    await page.getByTestId('signed-in-user').click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
  }

  const passkeyRow = (name: string) => page.locator(`tr[data-passkey="${name}"]`);

  before(async () => {
    // The other browser tests rebuild and tamper with the same web/dist: one at a time.
    releaseWebDist = await lockWebDist();
    const build = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(build.status, 0, `npm run build:web failed:\n${build.stdout}\n${build.stderr}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    // The administrator role requires a second factor (security.mfaRequiredRoles' default).
    vigil = await startVigil({ config: { security: { mfaRequiredRoles: ['administrator'], authRateLimitPerMinute: 600 } } });
    origin = vigil.baseUrl.replace('//127.0.0.1:', '//localhost:');
    assert.notEqual(origin, vigil.baseUrl, vigil.baseUrl);
    const setup = await new ApiClient(vigil.baseUrl, vigil.caPem).post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN });
    assert.equal(setup.status, 201, setup.text);
    browser = await launchChromium(vigil.caPem, { name: 'passkey', viewport: { width: 1280, height: 900 } });
    ({ context, page } = browser);
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await swapAuthenticator();
  });

  beforeEach((t) => {
    if (browser !== undefined) browser.problems.step = t.name;
  });

  after(async () => {
    await browser?.close();
    await vigil?.dispose();
    releaseWebDist();
  });

  test('NVR-5.4.1.2a: the forced second-factor enrolment offers a passkey; the administrator enrols one instead of TOTP', async () => {
    await page.goto(origin);
    await signInWithPassword();
    await page.getByRole('heading', { name: 'Set up a second factor' }).waitFor();
    // Both ways are offered.
    await page.getByTestId('otpauth-url').waitFor();
    await page.getByLabel('Passkey name').fill('Desk passkey');
    await shot('01-forced-enrolment');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    const registered = await auditUntil('user.mfa.webauthn.register', (e) => e.length > 0);
    assert.deepEqual(registered.map((e) => [e.outcome, e.actor, e.target, e.details.label]), [['success', `user:${ADMIN.username}`, `user:${ADMIN.username}`, 'Desk passkey']]);
    const held = (await cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticatorId ?? '' })).credentials;
    assert.equal(held.length, 1, 'the device holds the new passkey');
    assert.equal(held[0]?.rpId, 'localhost');
  });

  test('NVR-5.4.1.2a: the Account page lists the passkey; the only second factor cannot be removed (UI and API); the same device is not added twice', async () => {
    await openAccount();
    const row = passkeyRow('Desk passkey');
    await row.waitFor();
    assert.equal(await row.getByTestId('passkey-last-used').innerText(), 'never');
    assert.equal(await row.getByRole('button', { name: 'Remove passkey Desk passkey' }).isDisabled(), true);
    assert.match(await page.getByTestId('last-factor').innerText(), /Your role requires a second factor and this passkey is your only one/);
    // The server decides, not the disabled button: the API refuses too (and audits it).
    const refused = await page.evaluate(async (id) => {
      const csrf = (await (await fetch('/api/v1/auth/csrf', { credentials: 'same-origin' })).json()) as { csrfToken: string };
      const r = await fetch(`/api/v1/auth/mfa/webauthn/${id}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf.csrfToken }, credentials: 'same-origin' });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    }, Buffer.from((await cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticatorId ?? '' })).credentials[0]?.credentialId ?? '', 'base64').toString('base64url'));
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'VIGIL_MFA_LAST_FACTOR']);
    const denied = await auditUntil('user.mfa.webauthn.remove', (e) => e.length > 0);
    assert.deepEqual(denied.map((e) => [e.outcome, e.details.reason, e.details.label]), [['denied', 'last-second-factor', 'Desk passkey']]);
    // The page's CSRF token was rotated by the call above: a reload fetches a fresh one.
    await page.reload();
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    await passkeyRow('Desk passkey').waitFor();
    // This device already holds a passkey for the account (the server's excludeCredentials).
    await page.getByLabel('Passkey name').fill('Same device again');
    await page.getByRole('button', { name: 'Add passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'This device or security key already holds a passkey for your account.' }).waitFor();
    assert.equal(await page.getByTestId('passkey').count(), 1);
    await shot('02-account-passkeys');
  });

  test('NVR-5.4.1.2a: sign out, then sign in with the password and the passkey; the login is audited and the passkey shows its last use', async () => {
    await signOut();
    await signInWithPassword();
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    assert.equal(await page.getByLabel('Code from your authenticator app').count(), 0, 'no TOTP was enrolled: only the passkey is offered');
    await shot('03-login-passkey');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    const logins = await auditUntil('auth.login', (e) => e.some((x) => x.details.method === 'webauthn'));
    assert.equal(logins[0]?.details.method, 'webauthn');
    assert.equal(logins[0]?.target, `user:${ADMIN.username}`);
    const passwords = await auditUntil('auth.password', (e) => e.length > 0);
    assert.equal(passwords[0]?.details.next, 'webauthn', 'the password step asked for the passkey');
    await openAccount();
    assert.notEqual(await passkeyRow('Desk passkey').getByTestId('passkey-last-used').innerText(), 'never');
  });

  test('NVR-5.4.1.2a: a device without the passkey fails with a clear message and spends nothing; the right device then signs in', async () => {
    await signOut();
    const desk = await swapAuthenticator();
    assert.equal(desk.length, 1);
    await signInWithPassword();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    const message = page.getByRole('alert');
    await message.waitFor();
    assert.match(await message.innerText(), /No passkey was used: the request was cancelled or timed out, or this device or security key holds no passkey for this account\./);
    await shot('04-wrong-device');
    await swapAuthenticator(desk);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    // The browser refused before anything reached the server: the same sign-in went on, and no
    // second-factor failure was recorded (nor counted towards the lockout).
    await auditUntil('auth.login', (e) => e.filter((x) => x.details.method === 'webauthn').length >= 2);
    assert.deepEqual(await auditUntil('auth.mfa', () => true), []);
  });

  test('NVR-5.4.1.2a: a second passkey on another device is added; the first is removed after confirmation (audited) and no longer signs in', async () => {
    await openAccount();
    const desk = await swapAuthenticator();
    await page.getByLabel('Passkey name').fill('Spare key');
    await page.getByRole('button', { name: 'Add passkey' }).click();
    await page.getByText('Passkey “Spare key” added.').waitFor();
    await passkeyRow('Spare key').waitFor();
    assert.equal(await page.getByTestId('last-factor').count(), 0);
    await passkeyRow('Desk passkey').getByRole('button', { name: 'Remove passkey Desk passkey' }).click();
    await shot('05-remove-confirm');
    await passkeyRow('Desk passkey').getByRole('button', { name: 'Yes, remove “Desk passkey”' }).click();
    await page.getByText('Passkey “Desk passkey” removed.').waitFor();
    await passkeyRow('Desk passkey').waitFor({ state: 'detached' });
    assert.equal(await passkeyRow('Spare key').getByRole('button', { name: 'Remove passkey Spare key' }).isDisabled(), true, 'now the spare is the last factor');
    await shot('06-after-remove');
    const removed = await auditUntil('user.mfa.webauthn.remove', (e) => e.some((x) => x.outcome === 'success'));
    assert.deepEqual(removed.map((e) => [e.outcome, e.details.label]), [['success', 'Desk passkey'], ['denied', 'Desk passkey']]);
    const added = await auditUntil('user.mfa.webauthn.register', (e) => e.length >= 2);
    assert.deepEqual(added.map((e) => [e.outcome, e.details.label]), [['success', 'Spare key'], ['success', 'Desk passkey']]);
    // The old device still holds its (now unregistered) passkey: the server no longer asks for it.
    await signOut();
    await swapAuthenticator(desk);
    await signInWithPassword();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'No passkey was used' }).waitFor();
  });

  test('no console errors, no failed requests, and no error responses but the removal refused on purpose', () => {
    // Chromium logs every 4xx answer; the one expected is the refused removal of the last factor.
    const purposeful = (e: { text: string; url: string }): boolean => e.text.includes('409') && e.url.includes('/api/v1/auth/mfa/webauthn/');
    assert.equal(browser?.problems.consoleErrors.filter(purposeful).length, 1);
    assert.deepEqual(browser?.problems.consoleErrors.filter((e) => !purposeful(e)), []);
    assert.deepEqual(browser?.problems.failedRequests, []);
    assert.deepEqual(browser?.problems.errorResponses.map((r) => [r.status, new URL(r.url).pathname.replace(/[^/]+$/, 'ID')]), [[409, '/api/v1/auth/mfa/webauthn/ID']]);
  });
});
