import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { isVigilError } from '../core/errors.ts';
import { MINUTE_MS } from './core.ts';
import { USER_PASSWORD, clearIdentityTables, identityFixture, requestFrom } from './testing/doubles.ts';
import { adminAndUser, loginSession, vigil } from './testing/flows.ts';

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; status: number }> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVigilError(err), `expected a VigilError, got ${String(err)}`);
    return { code: err.code, message: err.message, status: err.status };
  }
  assert.fail('expected a failure');
}

describeOnEachStore('identity login', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('ACS-5.1.1.9: the right password gives a session for a user without MFA', async () => {
    const f = identityFixture(get().store);
    const { user } = await adminAndUser(f);
    const session = await loginSession(f, 'ALICE', USER_PASSWORD);
    assert.equal(session.principal.userId, user.id);
    assert.equal(session.principal.username, 'alice');
    assert.equal(session.principal.authMethod, 'session');
    // NVR-5.4.2.1c: a user made by an administrator must change the password first.
    assert.equal(session.principal.passwordChangeRequired, true);
    const ok = f.audit.actions('auth.login').filter((e) => e.outcome === 'success');
    assert.equal(ok.length, 1);
    assert.equal(ok[0]?.source, '192.0.2.10');
    assert.equal(ok[0]?.actor, 'user:alice');
  });

  test('NVR-5.4.1.1b / ACS-5.1.1.2: unknown user, wrong password and disabled user fail identically', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    const unknown = await failure(f.identity.login({ username: 'mallory', password: USER_PASSWORD }, requestFrom()));
    const wrong = await failure(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom()));
    await f.identity.updateUser(user.id, { disabled: true }, adminCtx);
    const disabled = await failure(f.identity.login({ username: 'alice', password: USER_PASSWORD }, requestFrom()));
    const invalidName = await failure(f.identity.login({ username: 'not a name!', password: USER_PASSWORD }, requestFrom()));
    assert.deepEqual(unknown, { code: 'VIGIL_AUTH_FAILED', message: 'invalid username or password', status: 401 });
    assert.deepEqual(wrong, unknown);
    assert.deepEqual(disabled, unknown);
    assert.deepEqual(invalidName, unknown);
    const failures = f.audit.actions('auth.login').filter((e) => e.outcome === 'failure');
    assert.deepEqual(failures.map((e) => e.details?.['reason']), ['unknown-user', 'bad-password', 'disabled', 'unknown-user']);
    for (const e of f.audit.events) assert.ok(!JSON.stringify(e).includes(USER_PASSWORD), 'no password in the audit log');
  });

  test('NVR-5.4.1.1b timing: an unknown user still costs a password hash (verifyDummy)', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const before = { ...f.hasher.calls };
    await failure(f.identity.login({ username: 'nobody', password: 'whatever-it-is-1A' }, requestFrom()));
    assert.equal(f.hasher.calls.verifyDummy, before.verifyDummy + 1);
    assert.equal(f.hasher.calls.verify, before.verify);
    await failure(f.identity.login({ username: 'alice', password: 'whatever-it-is-1A' }, requestFrom()));
    assert.equal(f.hasher.calls.verify, before.verify + 1);
    assert.equal(f.hasher.calls.verifyDummy, before.verifyDummy + 1);
  });

  test('NVR-5.4.2.1d: 5 failures lock the account; the right password is refused; 15 minutes later it works', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    for (let i = 0; i < 4; i++) {
      await assert.rejects(f.identity.login({ username: 'alice', password: `Wrong-Password-${i}` }, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
      f.clock.advance(1000);
    }
    await assert.rejects(f.identity.login({ username: 'alice', password: 'Wrong-Password-5' }, requestFrom()), vigil('VIGIL_AUTH_LOCKED'));
    await assert.rejects(f.identity.login({ username: 'alice', password: USER_PASSWORD }, requestFrom()), vigil('VIGIL_AUTH_LOCKED'));
    f.clock.advance(15 * MINUTE_MS - 1);
    await assert.rejects(f.identity.login({ username: 'alice', password: USER_PASSWORD }, requestFrom()), vigil('VIGIL_AUTH_LOCKED'));
    f.clock.advance(1);
    await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(f.audit.actions('auth.lockout').length, 1);
    assert.equal(f.audit.actions('auth.login').filter((e) => e.outcome === 'failure').length, 5);
    assert.equal(f.audit.actions('auth.login').filter((e) => e.outcome === 'denied').length, 2);
    const alarm = f.alarms.raised.find((a) => a.type === 'auth.lockout');
    assert.equal(alarm?.severity, 'warning');
    assert.equal(alarm?.details?.['username'], 'alice');
  });

  test('NVR-5.4.2.1d: success resets the counter; failures spread beyond the window do not lock', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    for (let i = 0; i < 4; i++) await assert.rejects(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
    await loginSession(f, 'alice', USER_PASSWORD);
    for (let i = 0; i < 4; i++) await assert.rejects(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
    f.clock.advance(15 * MINUTE_MS + 1);
    await assert.rejects(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
    await loginSession(f, 'alice', USER_PASSWORD);
  });

  test('NVR-5.4.1.1b: an unknown username locks exactly like a real one (same code and message)', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const real: Array<{ code: string; message: string }> = [];
    const ghost: Array<{ code: string; message: string }> = [];
    for (let i = 0; i < 6; i++) {
      real.push(await failure(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom())));
      ghost.push(await failure(f.identity.login({ username: 'ghost', password: 'Wrong-Password-1' }, requestFrom())));
    }
    assert.deepEqual(ghost, real);
    assert.equal(real[5]?.code, 'VIGIL_AUTH_LOCKED');
    assert.equal(f.alarms.raised.filter((a) => a.type === 'auth.lockout').length, 2);
    f.clock.advance(15 * MINUTE_MS);
    const after = await failure(f.identity.login({ username: 'ghost', password: 'Wrong-Password-1' }, requestFrom()));
    assert.equal(after.code, 'VIGIL_AUTH_FAILED');
  });

  test('CAM-T-priv-2: every login notifies listeners, flagging a new source address', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const notices: Array<{ username: string; sourceIp: string; newSource: boolean }> = [];
    const unsubscribe = f.identity.onLogin((n) => notices.push({ username: n.username, sourceIp: n.sourceIp, newSource: n.newSource }));
    await loginSession(f, 'alice', USER_PASSWORD, requestFrom('198.51.100.1'));
    await loginSession(f, 'alice', USER_PASSWORD, requestFrom('198.51.100.1'));
    await loginSession(f, 'alice', USER_PASSWORD, requestFrom('203.0.113.9'));
    unsubscribe();
    await loginSession(f, 'alice', USER_PASSWORD, requestFrom('203.0.113.10'));
    assert.deepEqual(notices, [
      { username: 'alice', sourceIp: '198.51.100.1', newSource: true },
      { username: 'alice', sourceIp: '198.51.100.1', newSource: false },
      { username: 'alice', sourceIp: '203.0.113.9', newSource: true },
    ]);
    const logins = f.audit.actions('auth.login').filter((e) => e.outcome === 'success');
    assert.deepEqual(logins.map((e) => e.details?.['newSource']), [true, false, true, true]);
  });

  test('CAM-T-priv-2: the login tells its own session whether the address is new; an open session learns of later logins, not its own', async () => {
    const f = identityFixture(get().store);
    const { user } = await adminAndUser(f);
    const first = await loginSession(f, 'alice', USER_PASSWORD, requestFrom('198.51.100.1'));
    assert.equal(first.login?.newSource, true);
    assert.equal(first.login?.sourceIp, '198.51.100.1');
    const start = f.identity.loginNotices(first.principal, undefined);
    assert.deepEqual(start.notices, [], 'a session starts from the current cursor');
    assert.deepEqual(f.identity.loginNotices(first.principal, 0).notices, [], 'its own login is left out');
    const again = await loginSession(f, 'alice', USER_PASSWORD, requestFrom('198.51.100.1'));
    assert.equal(again.login?.newSource, false);
    f.clock.advance(1000);
    await loginSession(f, 'alice', USER_PASSWORD, requestFrom('203.0.113.7'));
    const seen = f.identity.loginNotices(first.principal, start.latest);
    assert.deepEqual(seen.notices.map((n) => [n.sourceIp, n.newSource]), [['198.51.100.1', false], ['203.0.113.7', true]]);
    assert.deepEqual(f.identity.loginNotices(first.principal, seen.latest).notices, [], 'nothing new after the cursor');
    assert.deepEqual(f.identity.loginNotices(first.principal, seen.latest + 1000).notices.length, 2, 'a cursor from before a restart starts over');
    const listed = await f.identity.getUser(user.id);
    assert.equal(listed.lastLoginFrom, '203.0.113.7');
    assert.equal(listed.lastLoginAt, f.clock.now());
    f.clock.advance(25 * 60 * MINUTE_MS);
    assert.deepEqual(f.identity.loginNotices(first.principal, 0).notices, [], 'notices older than a day are dropped');
  });

  test('CAM-T-priv-2: protocols without sessions (RTSP, ONVIF, snapshot) notify their first access from an address, not every request', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const notices: Array<[string, string, boolean]> = [];
    f.identity.onLogin((n) => notices.push([n.sourceIp, n.userAgent, n.newSource]));
    await f.identity.externalLoginResult('alice', true, { sourceIp: '198.51.100.20', userAgent: 'rtsp' }, 'rtsp');
    await f.identity.externalLoginResult('alice', true, { sourceIp: '198.51.100.20', userAgent: 'onvif' }, 'onvif');
    await f.identity.externalLoginResult('alice', false, { sourceIp: '203.0.113.20', userAgent: 'rtsp' }, 'rtsp');
    await f.identity.externalLoginResult('alice', true, { sourceIp: '203.0.113.21', userAgent: 'snapshot' }, 'snapshot');
    assert.deepEqual(notices, [['198.51.100.20', 'rtsp', true], ['203.0.113.21', 'snapshot', true]]);
  });

  test('a throwing login listener raises an alarm and does not undo the login', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    f.identity.onLogin(() => {
      throw new Error('ui down');
    });
    await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(f.alarms.raised.filter((a) => a.type === 'identity.login_notice_failed').length, 1);
  });
});
