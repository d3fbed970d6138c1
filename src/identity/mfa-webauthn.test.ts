import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { ADMIN_PASSWORD, clearIdentityTables, identityFixture, requestFrom, type IdentityFixture } from './testing/doubles.ts';
import { firstAdmin, loginSession, vigil } from './testing/flows.ts';
import { SoftAuthenticator } from './testing/soft-authenticator.ts';
import type { IssuedSession } from './types.ts';

const ORIGIN = 'https://localhost:8443';
const RP_ID = 'localhost';

async function adminWithKey(f: IdentityFixture): Promise<{ userId: string; key: SoftAuthenticator }> {
  const admin = await firstAdmin(f);
  const session = await loginSession(f, 'admin', ADMIN_PASSWORD);
  const key = new SoftAuthenticator(ORIGIN);
  const options = await f.identity.webauthnRegistrationOptions(admin.id);
  assert.equal(options.rp.id, RP_ID);
  const view = await f.identity.webauthnRegistrationVerify(admin.id, key.register(options), ORIGIN, 'desk key', requestFrom('192.0.2.10', session.principal));
  assert.equal(view.id, key.id);
  const after = await f.identity.authenticateSession(session.token, requestFrom());
  assert.equal(after.mfaEnrolmentRequired, false);
  return { userId: admin.id, key };
}

async function mfaToken(f: IdentityFixture): Promise<string> {
  const result = await f.identity.login({ username: 'admin', password: ADMIN_PASSWORD }, requestFrom());
  assert.equal(result.kind, 'mfa');
  if (result.kind !== 'mfa') throw new Error('unreachable');
  assert.deepEqual(result.methods, ['webauthn']);
  return result.mfaToken;
}

describeOnEachStore('identity WebAuthn', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('NVR-5.4.1.2a: register a security key, then log in with password + assertion', async () => {
    const f = identityFixture(get().store);
    const { key, userId } = await adminWithKey(f);
    const token = await mfaToken(f);
    const options = await f.identity.loginMfaWebauthnOptions(token);
    assert.deepEqual(options.allowCredentials?.map((c) => c.id), [key.id]);
    const session = await f.identity.loginMfaWebauthnVerify(token, key.assert(options, RP_ID), ORIGIN, requestFrom());
    assert.equal(session.principal.mfaPassed, true);
    assert.equal(session.principal.userId, userId);
    const stored = await get().store.db.selectFrom('webauthn_credentials').selectAll().executeTakeFirstOrThrow();
    assert.equal(stored.counter, 1);
  });

  test('NVR-5.4.1.1a: a replayed assertion is refused (challenge is one-time, token spent)', async () => {
    const f = identityFixture(get().store);
    const { key } = await adminWithKey(f);
    const token = await mfaToken(f);
    const options = await f.identity.loginMfaWebauthnOptions(token);
    const assertion = key.assert(options, RP_ID);
    await f.identity.loginMfaWebauthnVerify(token, assertion, ORIGIN, requestFrom());
    await assert.rejects(f.identity.loginMfaWebauthnVerify(token, assertion, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    // Replayed into a new login: the new challenge does not match the captured one.
    const fresh = await mfaToken(f);
    await f.identity.loginMfaWebauthnOptions(fresh);
    await assert.rejects(f.identity.loginMfaWebauthnVerify(fresh, assertion, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
  });

  test('NVR-5.4.1.1a: with a counter-less authenticator (always 0) the challenge alone stops a replay', async () => {
    const f = identityFixture(get().store);
    const { key } = await adminWithKey(f);
    const t1 = await mfaToken(f);
    const captured = key.assert(await f.identity.loginMfaWebauthnOptions(t1), RP_ID, { counter: 0 });
    await f.identity.loginMfaWebauthnVerify(t1, captured, ORIGIN, requestFrom());
    const t2 = await mfaToken(f);
    await f.identity.loginMfaWebauthnOptions(t2);
    await assert.rejects(f.identity.loginMfaWebauthnVerify(t2, captured, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    const t3 = await mfaToken(f);
    await f.identity.loginMfaWebauthnVerify(t3, key.assert(await f.identity.loginMfaWebauthnOptions(t3), RP_ID, { counter: 0 }), ORIGIN, requestFrom());
  });

  test('NVR-5.4.1.1a: an assertion whose counter did not grow (cloned key) is refused', async () => {
    const f = identityFixture(get().store);
    const { key } = await adminWithKey(f);
    const t1 = await mfaToken(f);
    await f.identity.loginMfaWebauthnVerify(t1, key.assert(await f.identity.loginMfaWebauthnOptions(t1), RP_ID, { counter: 5 }), ORIGIN, requestFrom());
    const t2 = await mfaToken(f);
    const lower = key.assert(await f.identity.loginMfaWebauthnOptions(t2), RP_ID, { counter: 3 });
    await assert.rejects(f.identity.loginMfaWebauthnVerify(t2, lower, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    const t3 = await mfaToken(f);
    const same = key.assert(await f.identity.loginMfaWebauthnOptions(t3), RP_ID, { counter: 5 });
    await assert.rejects(f.identity.loginMfaWebauthnVerify(t3, same, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    const t4 = await mfaToken(f);
    await f.identity.loginMfaWebauthnVerify(t4, key.assert(await f.identity.loginMfaWebauthnOptions(t4), RP_ID, { counter: 6 }), ORIGIN, requestFrom());
    assert.equal(f.audit.actions('auth.mfa').filter((e) => e.outcome === 'failure').length, 2);
  });

  test('a wrong origin, another key or a forged signature is refused', async () => {
    const f = identityFixture(get().store);
    const { key } = await adminWithKey(f);
    const t1 = await mfaToken(f);
    const phishing = key.assert(await f.identity.loginMfaWebauthnOptions(t1), RP_ID, { origin: 'https://evil.example' });
    await assert.rejects(f.identity.loginMfaWebauthnVerify(t1, phishing, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    const t2 = await mfaToken(f);
    const stranger = new SoftAuthenticator(ORIGIN);
    await assert.rejects(
      f.identity.loginMfaWebauthnVerify(t2, stranger.assert(await f.identity.loginMfaWebauthnOptions(t2), RP_ID), ORIGIN, requestFrom()),
      vigil('VIGIL_AUTH_MFA_FAILED'),
    );
    const t3 = await mfaToken(f);
    const impostor = stranger.assert(await f.identity.loginMfaWebauthnOptions(t3), RP_ID);
    const forged = { ...impostor, id: key.id, rawId: key.id };
    await assert.rejects(f.identity.loginMfaWebauthnVerify(t3, forged, ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
  });

  test('a registration challenge is one-time and bound to the expected origin', async () => {
    const f = identityFixture(get().store);
    const admin = await firstAdmin(f);
    const session = await loginSession(f, 'admin', ADMIN_PASSWORD);
    const ctx = requestFrom('192.0.2.10', session.principal);
    const key = new SoftAuthenticator(ORIGIN);
    const options = await f.identity.webauthnRegistrationOptions(admin.id);
    await assert.rejects(f.identity.webauthnRegistrationVerify(admin.id, key.register(options, 'https://evil.example'), ORIGIN, 'k', ctx), vigil('VIGIL_MFA_ENROLMENT_FAILED'));
    // The failed attempt spent the challenge.
    await assert.rejects(f.identity.webauthnRegistrationVerify(admin.id, key.register(options), ORIGIN, 'k', ctx), vigil('VIGIL_MFA_ENROLMENT_FAILED'));
    // A response to an older challenge does not answer the current one.
    const stale = await f.identity.webauthnRegistrationOptions(admin.id);
    await f.identity.webauthnRegistrationOptions(admin.id);
    await assert.rejects(f.identity.webauthnRegistrationVerify(admin.id, key.register(stale), ORIGIN, 'k', ctx), vigil('VIGIL_MFA_ENROLMENT_FAILED'));
    assert.equal((await f.identity.listWebauthnCredentials(admin.id)).length, 0);
  });

  test('NVR-5.4.1.2a: the last second factor of a role that requires one cannot be removed; with a second key it can, and the removed key stops working', async () => {
    const f = identityFixture(get().store);
    const { key, userId } = await adminWithKey(f);
    const session = await loginSessionWithKey(f, key);
    const ctx = requestFrom('192.0.2.10', session.principal);
    await assert.rejects(f.identity.removeWebauthnCredential(userId, key.id, ctx), vigil('VIGIL_MFA_LAST_FACTOR'));
    const refused = f.audit.actions('user.mfa.webauthn.remove');
    assert.deepEqual(refused.map((e) => [e.outcome, e.details?.reason, e.details?.label]), [['denied', 'last-second-factor', 'desk key']]);
    assert.equal((await f.identity.listWebauthnCredentials(userId)).length, 1);

    const spare = new SoftAuthenticator(ORIGIN);
    await f.identity.webauthnRegistrationVerify(userId, spare.register(await f.identity.webauthnRegistrationOptions(userId)), ORIGIN, 'spare key', ctx);
    await f.identity.removeWebauthnCredential(userId, key.id, ctx);
    assert.deepEqual(f.audit.actions('user.mfa.webauthn.remove').at(-1)?.details, { label: 'desk key' });
    assert.deepEqual((await f.identity.listWebauthnCredentials(userId)).map((c) => c.name), ['spare key']);
    const token = await mfaToken(f);
    await assert.rejects(f.identity.loginMfaWebauthnVerify(token, key.assert(await f.identity.loginMfaWebauthnOptions(token), RP_ID), ORIGIN, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    // Another user's key id, or one that does not exist: not found, nothing removed.
    await assert.rejects(f.identity.removeWebauthnCredential(userId, key.id, ctx), vigil('VIGIL_NOT_FOUND'));
  });

  test('a role without the MFA requirement may remove its last key (and then logs in with the password alone)', async () => {
    const f = identityFixture(get().store, { mfaRequiredRoles: [] });
    const { key, userId } = await adminWithKey(f);
    const status = await f.identity.mfaStatus(userId);
    assert.deepEqual({ required: status.required, totp: status.totpEnabled, names: status.passkeys.map((p) => p.name) }, { required: false, totp: false, names: ['desk key'] });
    await f.identity.removeWebauthnCredential(userId, key.id, requestFrom());
    assert.equal((await f.identity.login({ username: 'admin', password: ADMIN_PASSWORD }, requestFrom())).kind, 'session');
  });

  test('the list shows when a key last signed a login (null before)', async () => {
    const f = identityFixture(get().store);
    const { key, userId } = await adminWithKey(f);
    assert.equal((await f.identity.mfaStatus(userId)).passkeys[0]?.lastUsedAt, null);
    f.clock.advance(60_000);
    const usedAt = f.clock.now();
    await loginSessionWithKey(f, key);
    const status = await f.identity.mfaStatus(userId);
    assert.equal(status.required, true);
    assert.equal(status.passkeys[0]?.lastUsedAt, usedAt);
    assert.equal(status.passkeys[0]?.createdAt, usedAt - 60_000);
  });

  test('an assertion is accepted from the relying party\'s host-name origin as well as the listener\'s own', async () => {
    const f = identityFixture(get().store);
    const { key } = await adminWithKey(f);
    const token = await mfaToken(f);
    const session = await f.identity.loginMfaWebauthnVerify(token, key.assert(await f.identity.loginMfaWebauthnOptions(token), RP_ID), ['https://127.0.0.1:8443', ORIGIN], requestFrom());
    assert.equal(session.principal.mfaPassed, true);
  });
});

async function loginSessionWithKey(f: IdentityFixture, key: SoftAuthenticator): Promise<IssuedSession> {
  const token = await mfaToken(f);
  return f.identity.loginMfaWebauthnVerify(token, key.assert(await f.identity.loginMfaWebauthnOptions(token), RP_ID), ORIGIN, requestFrom());
}
