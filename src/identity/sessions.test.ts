import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { DAY_MS, MINUTE_MS } from './core.ts';
import { sha256Hex } from './secrets.ts';
import { USER_PASSWORD, clearIdentityTables, identityFixture, requestFrom } from './testing/doubles.ts';
import { adminAndUser, loginSession, vigil } from './testing/flows.ts';

const NEXT_PASSWORD = 'Green-Kettle-2027';

describeOnEachStore('identity sessions', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('ACS-5.2.1.13: tokens are 256-bit and stored only as SHA-256', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const session = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(Buffer.from(session.token, 'base64url').length, 32);
    assert.equal(Buffer.from(session.csrfToken, 'base64url').length, 32);
    const rows = await get().store.db.selectFrom('sessions').selectAll().execute();
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.ok(row !== undefined);
    assert.equal(row.id_hash, sha256Hex(session.token));
    assert.equal(row.csrf_hash, sha256Hex(session.csrfToken));
    const bytes = JSON.stringify(row);
    assert.ok(!bytes.includes(session.token) && !bytes.includes(session.csrfToken), 'no token in the row');
    assert.equal(session.principal.sessionIdHash, row.id_hash);
    const second = await loginSession(f, 'alice', USER_PASSWORD);
    assert.notEqual(second.token, session.token);
  });

  test('NVR-5.4.3.1b: a session idle for more than 15 minutes is expired and removed', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const session = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(session.idleTimeoutMs, 15 * MINUTE_MS);
    f.clock.advance(10 * MINUTE_MS);
    await f.identity.authenticateSession(session.token, requestFrom()); // activity moves the idle clock
    f.clock.advance(15 * MINUTE_MS);
    await f.identity.authenticateSession(session.token, requestFrom());
    f.clock.advance(15 * MINUTE_MS + 1);
    await assert.rejects(f.identity.authenticateSession(session.token, requestFrom()), vigil('VIGIL_AUTH_SESSION_EXPIRED'));
    await assert.rejects(f.identity.authenticateSession(session.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    assert.equal((await get().store.db.selectFrom('sessions').selectAll().execute()).length, 0);
  });

  test('NVR-5.4.3.1b: background polls of an open page are not activity: the idle timeout still ends the session', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const session = await loginSession(f, 'alice', USER_PASSWORD);
    const poll = { ...requestFrom(), background: true };
    for (let i = 0; i < 3; i++) {
      f.clock.advance(5 * MINUTE_MS);
      await f.identity.authenticateSession(session.token, poll); // answered, but the idle clock runs on
    }
    f.clock.advance(1);
    await assert.rejects(f.identity.authenticateSession(session.token, poll), vigil('VIGIL_AUTH_SESSION_EXPIRED'));
  });

  test('NVR-5.4.3.1b: the absolute lifetime ends an active session', async () => {
    const f = identityFixture(get().store, { sessionAbsoluteHours: 1 });
    await adminAndUser(f);
    const session = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(session.expiresAt, f.clock.now() + 60 * MINUTE_MS);
    for (let i = 0; i < 5; i++) {
      f.clock.advance(10 * MINUTE_MS);
      await f.identity.authenticateSession(session.token, requestFrom());
    }
    f.clock.advance(10 * MINUTE_MS);
    await assert.rejects(f.identity.authenticateSession(session.token, requestFrom()), vigil('VIGIL_AUTH_SESSION_EXPIRED'));
  });

  test('ACS-5.2.1.13: logout invalidates the session at once; a garbage token is refused', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const session = await loginSession(f, 'alice', USER_PASSWORD);
    const other = await loginSession(f, 'alice', USER_PASSWORD);
    await f.identity.logout(session.token, requestFrom());
    await assert.rejects(f.identity.authenticateSession(session.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    await f.identity.authenticateSession(other.token, requestFrom());
    await assert.rejects(f.identity.authenticateSession('x'.repeat(43), requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    await assert.rejects(f.identity.authenticateSession('', requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    assert.equal(f.audit.actions('session.logout').length, 1);
  });

  test('CSRF token is bound to its session', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const a = await loginSession(f, 'alice', USER_PASSWORD);
    const b = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(await f.identity.verifyCsrf(a.token, a.csrfToken), true);
    assert.equal(await f.identity.verifyCsrf(a.token, b.csrfToken), false);
    assert.equal(await f.identity.verifyCsrf(a.token, ''), false);
    await f.identity.logout(a.token, requestFrom());
    assert.equal(await f.identity.verifyCsrf(a.token, a.csrfToken), false);
  });

  test('a password change ends every other session and returns a fresh one', async () => {
    const f = identityFixture(get().store);
    const { user } = await adminAndUser(f);
    const phone = await loginSession(f, 'alice', USER_PASSWORD);
    const laptop = await loginSession(f, 'alice', USER_PASSWORD);
    const fresh = await f.identity.changePassword(user.id, USER_PASSWORD, NEXT_PASSWORD, requestFrom('192.0.2.10', laptop.principal));
    await assert.rejects(f.identity.authenticateSession(phone.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    await assert.rejects(f.identity.authenticateSession(laptop.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const principal = await f.identity.authenticateSession(fresh.token, requestFrom());
    assert.equal(principal.passwordChangeRequired, false, 'NVR-5.4.2.1c: the forced change is done');
    assert.equal((await f.identity.listSessions(user.id)).length, 1);
  });

  test('ACS-5.2.1.13: a role change, disabling and logout-everywhere end the sessions', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    const s1 = await loginSession(f, 'alice', USER_PASSWORD);
    await f.identity.grantRole(user.id, { role: 'viewer', scopeKind: 'camera', scopeId: 'cam-1' }, adminCtx);
    await assert.rejects(f.identity.authenticateSession(s1.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const s2 = await loginSession(f, 'alice', USER_PASSWORD);
    await f.identity.revokeRole(user.id, { role: 'viewer', scopeKind: 'camera', scopeId: 'cam-1' }, adminCtx);
    await assert.rejects(f.identity.authenticateSession(s2.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const s3 = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(await f.identity.logoutEverywhere(user.id, requestFrom()), 1);
    await assert.rejects(f.identity.authenticateSession(s3.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const s4 = await loginSession(f, 'alice', USER_PASSWORD);
    await f.identity.updateUser(user.id, { disabled: true }, adminCtx);
    await assert.rejects(f.identity.authenticateSession(s4.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
  });

  test('sessions can be listed and one revoked by its id', async () => {
    const f = identityFixture(get().store);
    const { user } = await adminAndUser(f);
    const a = await loginSession(f, 'alice', USER_PASSWORD, requestFrom('198.51.100.7'));
    const b = await loginSession(f, 'alice', USER_PASSWORD);
    const list = await f.identity.listSessions(user.id);
    assert.equal(list.length, 2);
    const target = list.find((s) => s.sourceIp === '198.51.100.7');
    assert.ok(target !== undefined);
    await f.identity.revokeSession(user.id, target.id, requestFrom());
    await assert.rejects(f.identity.authenticateSession(a.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    await f.identity.authenticateSession(b.token, requestFrom());
    await assert.rejects(f.identity.revokeSession(user.id, target.id, requestFrom()), vigil('VIGIL_NOT_FOUND'));
  });

  test('a user cannot pile up sessions: the oldest beyond 20 end', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    const first = await loginSession(f, 'alice', USER_PASSWORD);
    for (let i = 0; i < 20; i++) {
      f.clock.advance(1);
      await loginSession(f, 'alice', USER_PASSWORD);
    }
    assert.equal((await get().store.db.selectFrom('sessions').select('id_hash').execute()).length, 20);
    await assert.rejects(f.identity.authenticateSession(first.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
  });

  test('ACS-5.1.3.1: past the maximum age the password must be changed; the reminder counts down', async () => {
    const f = identityFixture(get().store, { passwordMaxAgeDays: 30 });
    const { user } = await adminAndUser(f);
    const first = await loginSession(f, 'alice', USER_PASSWORD);
    const fresh = await f.identity.changePassword(user.id, USER_PASSWORD, NEXT_PASSWORD, requestFrom('192.0.2.10', first.principal));
    assert.equal(fresh.principal.passwordChangeRequired, false);
    assert.equal(fresh.principal.passwordExpiresInDays, 30);
    f.clock.advance(20 * DAY_MS);
    const later = await loginSession(f, 'alice', NEXT_PASSWORD);
    assert.equal(later.principal.passwordExpiresInDays, 10);
    assert.equal(later.principal.passwordChangeRequired, false);
    f.clock.advance(10 * DAY_MS);
    const expired = await loginSession(f, 'alice', NEXT_PASSWORD);
    assert.equal(expired.principal.passwordChangeRequired, true);
    assert.ok(expired.principal.passwordExpiresInDays <= 0);
  });

  test('expired rows can be purged', async () => {
    const f = identityFixture(get().store);
    await adminAndUser(f);
    await loginSession(f, 'alice', USER_PASSWORD);
    await loginSession(f, 'alice', USER_PASSWORD);
    f.clock.advance(16 * MINUTE_MS);
    assert.equal(await f.identity.purgeExpiredSessions(), 2);
  });
});
