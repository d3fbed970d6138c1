import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { ADMIN_PASSWORD, clearIdentityTables, identityFixture, requestFrom } from './testing/doubles.ts';
import { loginSession, vigil } from './testing/flows.ts';

describeOnEachStore('identity setup', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('NVR-5.4.2.1b / ACS-5.1.1.1: a fresh install has no account and requires setup', async () => {
    const f = identityFixture(get().store);
    assert.equal(await f.identity.setupRequired(), true);
    const rows = await get().store.db.selectFrom('users').select('id').execute();
    assert.equal(rows.length, 0, 'no default account exists');
    // Nothing to log in with: the usual defaults are refused like any unknown user.
    for (const [username, password] of [['admin', 'admin'], ['root', 'root'], ['admin', '']]) {
      await assert.rejects(f.identity.login({ username: username ?? '', password: password ?? '' }, requestFrom()), vigil('VIGIL_AUTH_FAILED'));
    }
  });

  test('NVR-5.4.2.1b: a wrong setup token is refused and creates nobody', async () => {
    const f = identityFixture(get().store);
    const token = f.identity.createSetupToken();
    const wrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    await assert.rejects(f.identity.completeSetup(wrong, { username: 'admin', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_SETUP_TOKEN_INVALID'));
    await assert.rejects(f.identity.completeSetup('', { username: 'admin', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_SETUP_TOKEN_INVALID'));
    assert.equal(await f.identity.setupRequired(), true);
    assert.equal(f.audit.actions('auth.setup').filter((e) => e.outcome === 'failure').length, 2);
  });

  test('a setup token is 256-bit and a newer one replaces the older', async () => {
    const f = identityFixture(get().store);
    const first = f.identity.createSetupToken();
    const second = f.identity.createSetupToken();
    assert.equal(Buffer.from(second, 'base64url').length, 32);
    await assert.rejects(f.identity.completeSetup(first, { username: 'admin', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_SETUP_TOKEN_INVALID'));
    await f.identity.completeSetup(second, { username: 'admin', password: ADMIN_PASSWORD }, requestFrom());
  });

  test('the right token creates the first administrator once; the policy applies; the token dies', async () => {
    const f = identityFixture(get().store);
    const token = f.identity.createSetupToken();
    await assert.rejects(f.identity.completeSetup(token, { username: 'admin', password: 'admin' }, requestFrom()), vigil('VIGIL_PASSWORD_POLICY'));
    const admin = await f.identity.completeSetup(token, { username: ' Admin ', password: ADMIN_PASSWORD }, requestFrom());
    assert.equal(admin.username, 'admin');
    assert.deepEqual(admin.grants, [{ role: 'administrator', scopeKind: 'global', scopeId: '' }]);
    assert.equal(admin.mustChangePassword, false);
    assert.equal(await f.identity.setupRequired(), false);
    await assert.rejects(f.identity.completeSetup(token, { username: 'evil', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_SETUP_ALREADY_DONE'));
    const fresh = f.identity.createSetupToken();
    await assert.rejects(f.identity.completeSetup(fresh, { username: 'evil', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_SETUP_ALREADY_DONE'));
    await assert.rejects(f.identity.setupFromConsole({ username: 'evil', password: ADMIN_PASSWORD }, requestFrom('local')), vigil('VIGIL_SETUP_ALREADY_DONE'));
    const users = await get().store.db.selectFrom('users').select('username').execute();
    assert.deepEqual(users.map((u) => u.username), ['admin']);
    assert.equal(f.audit.actions('auth.setup').filter((e) => e.outcome === 'success').length, 1);
  });

  test('NVR-5.4.1.2a: the first administrator logs in restricted to MFA enrolment', async () => {
    const f = identityFixture(get().store);
    await f.identity.setupFromConsole({ username: 'admin', password: ADMIN_PASSWORD }, requestFrom('local'));
    const session = await loginSession(f, 'admin', ADMIN_PASSWORD);
    assert.equal(session.principal.mfaEnrolmentRequired, true);
    assert.equal(session.principal.passwordChangeRequired, false);
  });

  test('two concurrent setups with the same token create one administrator', async () => {
    const f = identityFixture(get().store);
    const token = f.identity.createSetupToken();
    const results = await Promise.allSettled([
      f.identity.completeSetup(token, { username: 'one', password: ADMIN_PASSWORD }, requestFrom()),
      f.identity.completeSetup(token, { username: 'two', password: ADMIN_PASSWORD }, requestFrom()),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const users = await get().store.db.selectFrom('users').select('username').execute();
    assert.equal(users.length, 1);
  });
});
