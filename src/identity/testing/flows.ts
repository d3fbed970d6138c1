// Common test flows: the first administrator, a user, a login that must yield a session.
import assert from 'node:assert/strict';
import { authenticator } from 'otplib';
import type { IssuedSession, Principal, RequestContext, UserView } from '../types.ts';
import { ADMIN_PASSWORD, USER_PASSWORD, requestFrom, type IdentityFixture } from './doubles.ts';

export async function firstAdmin(f: IdentityFixture, username = 'admin'): Promise<UserView> {
  const token = f.identity.createSetupToken();
  return f.identity.completeSetup(token, { username, password: ADMIN_PASSWORD }, requestFrom('192.0.2.1'));
}

export async function loginSession(f: IdentityFixture, username: string, password: string, ctx: RequestContext = requestFrom()): Promise<IssuedSession> {
  const result = await f.identity.login({ username, password }, ctx);
  assert.equal(result.kind, 'session');
  if (result.kind !== 'session') throw new Error('unreachable');
  return result.session;
}

/** An administrator (setup) and their actor principal, plus a created user. */
export async function adminAndUser(
  f: IdentityFixture,
  user: { username?: string; role?: string; scopeKind?: string; scopeId?: string; displayName?: string; email?: string } = {},
): Promise<{ admin: UserView; adminCtx: RequestContext; user: UserView }> {
  const admin = await firstAdmin(f);
  const adminPrincipal: Principal = {
    userId: admin.id,
    username: admin.username,
    grants: admin.grants,
    authMethod: 'session',
    mfaPassed: true,
    mfaEnrolmentRequired: false,
    passwordChangeRequired: false,
    passwordExpiresInDays: 90,
  };
  const adminCtx = requestFrom('192.0.2.1', adminPrincipal);
  const input: Parameters<IdentityFixture['identity']['createUser']>[0] = {
    username: user.username ?? 'alice',
    password: USER_PASSWORD,
    grants: [{ role: user.role ?? 'operator', scopeKind: user.scopeKind ?? 'global', scopeId: user.scopeId ?? '' }],
  };
  if (user.displayName !== undefined) input.displayName = user.displayName;
  if (user.email !== undefined) input.email = user.email;
  const created = await f.identity.createUser(input, adminCtx);
  return { admin, adminCtx, user: created };
}

export function totpCode(secret: string, at: number): string {
  return authenticator.clone({ epoch: at }).generate(secret);
}

/** Error matcher for assert.rejects: the VigilError code (and message, when given). */
export function vigil(code: string, message?: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof Error, 'expected an Error');
    assert.equal((err as { code?: unknown }).code, code, `expected ${code}, got ${String((err as { code?: unknown }).code)}: ${err.message}`);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  };
}
