import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { TOTP_STEP_MS } from './totp-service.ts';
import { ADMIN_PASSWORD, clearIdentityTables, identityFixture, requestFrom, type IdentityFixture } from './testing/doubles.ts';
import { firstAdmin, loginSession, totpCode, vigil } from './testing/flows.ts';
import type { IssuedSession } from './types.ts';

/** The first administrator logs in (enrolment-restricted) and enrols TOTP; returns the secret. */
async function adminWithTotp(f: IdentityFixture): Promise<{ userId: string; secret: string; session: IssuedSession }> {
  const admin = await firstAdmin(f);
  const session = await loginSession(f, 'admin', ADMIN_PASSWORD);
  const { secret, otpauthUrl } = await f.identity.totpEnrolStart(admin.id);
  assert.match(otpauthUrl, /^otpauth:\/\/totp\//);
  await f.identity.totpEnrolConfirm(admin.id, totpCode(secret, f.clock.now()), requestFrom('192.0.2.10', session.principal));
  return { userId: admin.id, secret, session };
}

async function mfaToken(f: IdentityFixture): Promise<string> {
  const result = await f.identity.login({ username: 'admin', password: ADMIN_PASSWORD }, requestFrom());
  assert.equal(result.kind, 'mfa');
  if (result.kind !== 'mfa') throw new Error('unreachable');
  assert.deepEqual(result.methods, ['totp']);
  return result.mfaToken;
}

describeOnEachStore('identity TOTP', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('NVR-5.4.1.2a: an administrator without MFA gets an enrolment-only session; enrolling lifts it', async () => {
    const f = identityFixture(get().store);
    const admin = await firstAdmin(f);
    const session = await loginSession(f, 'admin', ADMIN_PASSWORD);
    assert.equal(session.principal.mfaEnrolmentRequired, true);
    assert.equal(session.principal.mfaPassed, false);
    const { secret } = await f.identity.totpEnrolStart(admin.id);
    await assert.rejects(f.identity.totpEnrolConfirm(admin.id, '000000', requestFrom('192.0.2.10', session.principal)), vigil('VIGIL_MFA_ENROLMENT_FAILED'));
    await f.identity.totpEnrolConfirm(admin.id, totpCode(secret, f.clock.now()), requestFrom('192.0.2.10', session.principal));
    const after = await f.identity.authenticateSession(session.token, requestFrom());
    assert.equal(after.mfaEnrolmentRequired, false);
    assert.equal(after.mfaPassed, true, 'the session that enrolled proved the factor');
  });

  test('NVR-5.4.1.2a: TOTP enrol then login with password + code', async () => {
    const f = identityFixture(get().store);
    const { secret } = await adminWithTotp(f);
    f.clock.advance(TOTP_STEP_MS);
    const token = await mfaToken(f);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    const session = await f.identity.loginMfaTotp(token, totpCode(secret, f.clock.now()), requestFrom());
    assert.equal(session.principal.mfaPassed, true);
    assert.equal(session.principal.mfaEnrolmentRequired, false);
    const login = f.audit.actions('auth.login').at(-1);
    assert.equal(login?.details?.['method'], 'totp');
    // The MFA token is one-time.
    await assert.rejects(f.identity.loginMfaTotp(token, totpCode(secret, f.clock.now() + TOTP_STEP_MS), requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
  });

  test('NVR-5.4.1.1a: a code already used (replay) is refused, also within its window', async () => {
    const f = identityFixture(get().store);
    const { secret } = await adminWithTotp(f);
    f.clock.advance(TOTP_STEP_MS);
    const code = totpCode(secret, f.clock.now());
    await f.identity.loginMfaTotp(await mfaToken(f), code, requestFrom());
    await assert.rejects(f.identity.loginMfaTotp(await mfaToken(f), code, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    // An older step of the window is refused once a later step was accepted.
    f.clock.advance(TOTP_STEP_MS);
    await assert.rejects(f.identity.loginMfaTotp(await mfaToken(f), code, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    await f.identity.loginMfaTotp(await mfaToken(f), totpCode(secret, f.clock.now()), requestFrom());
  });

  test('NVR-5.4.1.1a: the enrolment code itself cannot be replayed at login', async () => {
    const f = identityFixture(get().store);
    const { secret } = await adminWithTotp(f);
    await assert.rejects(f.identity.loginMfaTotp(await mfaToken(f), totpCode(secret, f.clock.now()), requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
  });

  test('NVR-5.4.2.1d: wrong codes count toward lockout', async () => {
    const f = identityFixture(get().store);
    const { secret } = await adminWithTotp(f);
    f.clock.advance(TOTP_STEP_MS);
    const good = totpCode(secret, f.clock.now());
    const wrong = good === '123456' ? '654321' : '123456';
    for (let i = 0; i < 4; i++) await assert.rejects(f.identity.loginMfaTotp(await mfaToken(f), wrong, requestFrom()), vigil('VIGIL_AUTH_MFA_FAILED'));
    await assert.rejects(f.identity.loginMfaTotp(await mfaToken(f), wrong, requestFrom()), vigil('VIGIL_AUTH_LOCKED'));
    await assert.rejects(f.identity.login({ username: 'admin', password: ADMIN_PASSWORD }, requestFrom()), vigil('VIGIL_AUTH_LOCKED'));
    assert.equal(f.audit.actions('auth.mfa').filter((e) => e.outcome === 'failure').length, 5);
    assert.equal(f.alarms.raised.filter((a) => a.type === 'auth.lockout').length, 1);
  });

  test('a session opened before MFA was enrolled elsewhere must log in again', async () => {
    const f = identityFixture(get().store);
    const admin = await firstAdmin(f);
    const other = await loginSession(f, 'admin', ADMIN_PASSWORD);
    const enrolling = await loginSession(f, 'admin', ADMIN_PASSWORD);
    const { secret } = await f.identity.totpEnrolStart(admin.id);
    await f.identity.totpEnrolConfirm(admin.id, totpCode(secret, f.clock.now()), requestFrom('192.0.2.10', enrolling.principal));
    await f.identity.authenticateSession(enrolling.token, requestFrom());
    await assert.rejects(f.identity.authenticateSession(other.token, requestFrom()), vigil('VIGIL_AUTH_MFA_REQUIRED'));
  });

  test('NVR-5.4.1.2a: an administrator reset of MFA removes the factor and ends sessions', async () => {
    const f = identityFixture(get().store);
    const { userId, session } = await adminWithTotp(f);
    await f.identity.resetMfa(userId, requestFrom('192.0.2.1', session.principal));
    await assert.rejects(f.identity.authenticateSession(session.token, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const again = await loginSession(f, 'admin', ADMIN_PASSWORD);
    assert.equal(again.principal.mfaEnrolmentRequired, true);
  });
});
