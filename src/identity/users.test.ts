import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { DAY_MS } from './core.ts';
import { authorize } from './principal.ts';
import { USER_PASSWORD, clearIdentityTables, identityFixture, requestFrom } from './testing/doubles.ts';
import { adminAndUser, loginSession, totpCode, vigil } from './testing/flows.ts';

const P1 = 'First-Password-11';
const P2 = 'Second-Password-22';
const P3 = 'Third-Password-33';

describeOnEachStore('identity users', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('NVR-5.4.2.1c: a created user must change the password at first access; the change lifts it', async () => {
    const f = identityFixture(get().store);
    const { user } = await adminAndUser(f);
    assert.equal(user.mustChangePassword, true);
    const first = await loginSession(f, 'alice', USER_PASSWORD);
    assert.equal(first.principal.passwordChangeRequired, true);
    assert.equal(authorize(first.principal, 'camera.view'), false);
    // Minimum age does not block a forced change (ACS-5.1.3.1).
    const fresh = await f.identity.changePassword(user.id, USER_PASSWORD, P1, requestFrom('192.0.2.10', first.principal));
    assert.equal(fresh.principal.passwordChangeRequired, false);
    assert.equal(authorize(fresh.principal, 'camera.view'), true);
  });

  test('NVR-5.4.2.1a / CCE-35219-5: the last 3 passwords are refused, a 4th older one is accepted', async () => {
    const f = identityFixture(get().store, { passwordHistory: 3, passwordMinAgeDays: 1 });
    const { user } = await adminAndUser(f);
    const ctx = requestFrom();
    // USER_PASSWORD (initial) → P1 → P2: remembered are P2 (current), P1, USER_PASSWORD.
    await f.identity.changePassword(user.id, USER_PASSWORD, P1, ctx);
    f.clock.advance(DAY_MS);
    await f.identity.changePassword(user.id, P1, P2, ctx);
    f.clock.advance(DAY_MS);
    for (const reused of [P2, P1, USER_PASSWORD]) {
      await assert.rejects(f.identity.changePassword(user.id, P2, reused, ctx), (err: unknown) => {
        vigil('VIGIL_PASSWORD_POLICY')(err);
        assert.deepEqual((err as { details?: { rules?: unknown } }).details?.rules, ['history']);
        return true;
      });
    }
    await f.identity.changePassword(user.id, P2, P3, ctx);
    f.clock.advance(DAY_MS);
    // USER_PASSWORD is now the 4th most recent: accepted.
    await f.identity.changePassword(user.id, P3, USER_PASSWORD, ctx);
    const rows = await get().store.db.selectFrom('password_history').select('id').where('user_id', '=', user.id).execute();
    assert.equal(rows.length, 3, 'history is pruned to what is remembered');
  });

  test('ACS-5.1.3.1: a voluntary change inside the minimum age is refused; policy and current password apply', async () => {
    const f = identityFixture(get().store, { passwordMinAgeDays: 1 });
    const { user } = await adminAndUser(f);
    await f.identity.changePassword(user.id, USER_PASSWORD, P1, requestFrom());
    await assert.rejects(f.identity.changePassword(user.id, P1, P2, requestFrom()), vigil('VIGIL_PASSWORD_POLICY'));
    f.clock.advance(DAY_MS);
    await assert.rejects(f.identity.changePassword(user.id, 'Not-The-Current-1', P2, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
    await assert.rejects(f.identity.changePassword(user.id, P1, 'short', requestFrom()), vigil('VIGIL_PASSWORD_POLICY'));
    await assert.rejects(f.identity.changePassword(user.id, P1, 'Alice-Is-Great-1', requestFrom()), vigil('VIGIL_PASSWORD_POLICY'));
    await f.identity.changePassword(user.id, P1, P2, requestFrom());
  });

  test('an administrator reset forces a change and revokes sessions and API tokens', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    const first = await loginSession(f, 'alice', USER_PASSWORD);
    const fresh = await f.identity.changePassword(user.id, USER_PASSWORD, P1, requestFrom('192.0.2.10', first.principal));
    const { token } = await f.identity.createApiToken(user.id, { name: 'script' }, requestFrom('192.0.2.10', fresh.principal));
    await f.identity.adminResetPassword(user.id, P2, adminCtx);
    await assert.rejects(f.identity.authenticateSession(fresh.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    await assert.rejects(f.identity.authenticateApiToken(token), vigil('VIGIL_AUTH_REQUIRED'));
    const again = await loginSession(f, 'alice', P2);
    assert.equal(again.principal.passwordChangeRequired, true);
  });

  test('ACS-5.1.1.10: usernames are unique after normalisation; bad input is a validation error', async () => {
    const f = identityFixture(get().store);
    const { adminCtx } = await adminAndUser(f);
    await assert.rejects(f.identity.createUser({ username: ' ALICE', password: P1 }, adminCtx), vigil('VIGIL_USER_EXISTS'));
    await assert.rejects(f.identity.createUser({ username: 'bad name', password: P1 }, adminCtx), vigil('VIGIL_VALIDATION'));
    await assert.rejects(f.identity.createUser({ username: 'bob', password: 'weak' }, adminCtx), vigil('VIGIL_PASSWORD_POLICY'));
    await assert.rejects(f.identity.createUser({ username: 'bob', password: P1, email: 'not-an-email' }, adminCtx), vigil('VIGIL_VALIDATION'));
    await assert.rejects(f.identity.createUser({ username: 'bob', password: P1, grants: [{ role: 'superuser', scopeKind: 'global' }] }, adminCtx), vigil('VIGIL_ROLE_UNKNOWN'));
    await assert.rejects(f.identity.createUser({ username: 'bob', password: P1, grants: [{ role: 'viewer', scopeKind: 'camera' }] }, adminCtx), vigil('VIGIL_VALIDATION'));
    assert.equal((await f.identity.listUsers()).length, 2);
  });

  test('roles: grant/revoke with scope; an unknown role is refused', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f, { role: 'viewer', scopeKind: 'camera', scopeId: 'A' });
    await assert.rejects(f.identity.grantRole(user.id, { role: 'god', scopeKind: 'global' }, adminCtx), vigil('VIGIL_ROLE_UNKNOWN'));
    const first = await loginSession(f, 'alice', USER_PASSWORD);
    const fresh = await f.identity.changePassword(user.id, USER_PASSWORD, P1, requestFrom('192.0.2.10', first.principal));
    const p = fresh.principal;
    assert.equal(authorize(p, 'camera.view', { kind: 'camera', id: 'A' }), true);
    assert.equal(authorize(p, 'camera.view', { kind: 'camera', id: 'B' }), false);
    assert.equal(authorize(p, 'users.manage'), false);
    const updated = await f.identity.grantRole(user.id, { role: 'operator', scopeKind: 'door', scopeId: 'D1' }, adminCtx);
    assert.deepEqual(updated.grants, [
      { role: 'operator', scopeKind: 'door', scopeId: 'D1' },
      { role: 'viewer', scopeKind: 'camera', scopeId: 'A' },
    ]);
    const grantEvent = f.audit.actions('user.role.grant').at(-1);
    assert.equal(grantEvent?.actor, 'user:admin');
    assert.equal(grantEvent?.target, 'user:alice');
  });

  test('the last enabled administrator cannot be deleted, disabled or demoted', async () => {
    const f = identityFixture(get().store);
    const { admin, adminCtx, user } = await adminAndUser(f);
    await assert.rejects(f.identity.deleteUser(admin.id, adminCtx), vigil('VIGIL_LAST_ADMIN'));
    await assert.rejects(f.identity.updateUser(admin.id, { disabled: true }, adminCtx), vigil('VIGIL_LAST_ADMIN'));
    await assert.rejects(f.identity.revokeRole(admin.id, { role: 'administrator', scopeKind: 'global' }, adminCtx), vigil('VIGIL_LAST_ADMIN'));
    await f.identity.grantRole(user.id, { role: 'administrator', scopeKind: 'global' }, adminCtx);
    await f.identity.revokeRole(admin.id, { role: 'administrator', scopeKind: 'global' }, adminCtx);
    await assert.rejects(f.identity.deleteUser(user.id, adminCtx), vigil('VIGIL_LAST_ADMIN'));
    await f.identity.deleteUser(admin.id, adminCtx);
    await assert.rejects(f.identity.getUser(admin.id), vigil('VIGIL_USER_NOT_FOUND'));
    assert.equal(await f.identity.setupRequired(), false);
  });

  test('deleting a user removes sessions, grants and history (cascade)', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    const s = await loginSession(f, 'alice', USER_PASSWORD);
    await f.identity.deleteUser(user.id, adminCtx);
    await assert.rejects(f.identity.authenticateSession(s.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    for (const table of ['sessions', 'role_grants', 'password_history'] as const) {
      const rows = await get().store.db.selectFrom(table).select('user_id').where('user_id', '=', user.id).execute();
      assert.equal(rows.length, 0, table);
    }
  });

  test('NVR-5.2.4.1a: personal data and the TOTP secret are sealed at rest; hashes are PBKDF2', async () => {
    const f = identityFixture(get().store);
    const email = 'alice.liddell@example.org';
    const displayName = 'Alice Liddell';
    const { user } = await adminAndUser(f, { displayName, email });
    assert.equal(user.email, email);
    assert.equal(user.displayName, displayName);
    const { secret } = await f.identity.totpEnrolStart(user.id);
    await f.identity.totpEnrolConfirm(user.id, totpCode(secret, f.clock.now()), requestFrom());
    const updated = await f.identity.updateUser(user.id, { displayName: 'A. Liddell' }, requestFrom());
    assert.equal(updated.email, email, 'profile patch keeps the other field');
    const row = await get().store.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    const bytes = Buffer.concat(
      Object.values(row).map((v: unknown) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)))),
    );
    for (const plain of [email, 'Liddell', secret, USER_PASSWORD]) {
      assert.equal(bytes.includes(Buffer.from(plain)), false, `plaintext ${plain} found at rest`);
      assert.equal(bytes.toString('latin1').toLowerCase().includes(plain.toLowerCase()), false);
    }
    assert.ok(row.profile_sealed !== null && row.totp_secret_sealed !== null);
    assert.match(row.password_hash, /^pbkdf2-sha256\$\d+\$/);
    const history = await get().store.db.selectFrom('password_history').select('password_hash').execute();
    for (const h of history) assert.match(h.password_hash, /^pbkdf2-sha256\$/);
    // The sealed profile is bound to its row: moved to another user it does not open.
    const admin = await get().store.db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow();
    await get().store.db.updateTable('users').set({ profile_sealed: row.profile_sealed }).where('id', '=', admin.id).execute();
    await assert.rejects(f.identity.getUser(admin.id));
  });

  test('an administrator can lift a lockout', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    for (let i = 0; i < 5; i++) await assert.rejects(f.identity.login({ username: 'alice', password: 'Wrong-Password-1' }, requestFrom()));
    assert.notEqual((await f.identity.getUser(user.id)).lockedUntil, null);
    await f.identity.unlockUser(user.id, adminCtx);
    await loginSession(f, 'alice', USER_PASSWORD);
  });
});
