// Login (ACS-5.1.1.9, NVR-5.4.1.2a). Every failure looks the same — unknown user, wrong
// password, disabled account: one error code, one message, and a password hash computed either
// way so the timing matches (NVR-5.4.1.1b, ACS-5.1.1.2). A user with a second factor gets a
// short-lived one-time MFA token instead of a session; a wrong code counts as a failed login.
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { VigilError } from '../core/errors.ts';
import { BoundedTtlMap } from './bounded-ttl-map.ts';
import { MINUTE_MS, recordEvent, type IdentityCore } from './core.ts';
import type { LoginLockout } from './lockout.ts';
import type { LoginNotifier } from './login-notifier.ts';
import type { PrincipalLoader } from './principal-loader.ts';
import type { UserRow } from './repositories/users.ts';
import { newToken, sha256Hex } from './secrets.ts';
import type { SessionService } from './session-service.ts';
import type { TotpService } from './totp-service.ts';
import type { IssuedSession, LoginInput, LoginResult, MfaMethod, RequestContext } from './types.ts';
import { canonicalUsername } from './username.ts';
import type { WebauthnService } from './webauthn-service.ts';

const MFA_TOKEN_TTL_MS = 5 * MINUTE_MS;
const PENDING_MAX = 1000;

interface PendingMfaLogin {
  userId: string;
  methods: MfaMethod[];
  webauthnChallenge: string | null;
}

export function authFailed(): VigilError {
  return new VigilError('VIGIL_AUTH_FAILED', 'invalid username or password');
}

export function authLocked(): VigilError {
  return new VigilError('VIGIL_AUTH_LOCKED', 'account temporarily locked after too many failed attempts; try again later');
}

function mfaFailed(): VigilError {
  return new VigilError('VIGIL_AUTH_MFA_FAILED', 'second factor refused; log in again');
}

export interface LoginCollaborators {
  principals: PrincipalLoader;
  sessions: SessionService;
  lockout: LoginLockout;
  notifier: LoginNotifier;
  totp: TotpService;
  webauthn: WebauthnService;
}

export class LoginService {
  readonly #core: IdentityCore;
  readonly #c: LoginCollaborators;
  /** Pending second steps by SHA-256 of the MFA token. */
  readonly #pending: BoundedTtlMap<string, PendingMfaLogin>;

  constructor(core: IdentityCore, collaborators: LoginCollaborators) {
    this.#core = core;
    this.#c = collaborators;
    this.#pending = new BoundedTtlMap({ capacity: PENDING_MAX, ttlMs: MFA_TOKEN_TTL_MS, clock: core.clock });
  }

  async login(input: LoginInput, ctx: RequestContext): Promise<LoginResult> {
    const { repos, hasher } = this.#core;
    const username = canonicalUsername(input.username);
    // A name that cannot exist is tracked like any unknown one (bounded, lower-cased, cut short).
    const key = username ?? input.username.slice(0, 64).toLowerCase();
    const user = username === null ? undefined : await repos.users.findByUsername(username);
    const target = `user:${key}`;
    if (this.#c.lockout.isLocked(user, key)) {
      recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.login', target, outcome: 'denied', details: { reason: 'locked' } });
      throw authLocked();
    }
    const passwordOk = user === undefined ? await hasher.verifyDummy(input.password) : await hasher.verify(input.password, user.password_hash);
    if (user === undefined || !passwordOk || user.disabled === 1) {
      const reason = user === undefined ? 'unknown-user' : user.disabled === 1 ? 'disabled' : 'bad-password';
      recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.login', target, outcome: 'failure', details: { reason } });
      if (await this.#c.lockout.recordFailure(user, key, ctx)) throw authLocked();
      throw authFailed();
    }
    const methods = await this.#c.principals.mfaMethods(user);
    if (methods.length > 0) {
      const mfaToken = newToken();
      this.#pending.set(sha256Hex(mfaToken), { userId: user.id, methods, webauthnChallenge: null });
      recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.password', target, outcome: 'success', details: { next: methods.join(',') } });
      return { kind: 'mfa', mfaToken, methods };
    }
    return { kind: 'session', session: await this.#complete(user, false, 'password', ctx) };
  }

  async loginMfaTotp(mfaToken: string, code: string, ctx: RequestContext): Promise<IssuedSession> {
    const { user, pending } = await this.#takePending(mfaToken, 'totp', ctx);
    if (!pending.methods.includes('totp') || !(await this.#c.totp.verifyAndSpend(user, code))) {
      return this.#refuseMfa(user, 'totp', ctx);
    }
    return this.#complete(user, true, 'totp', ctx);
  }

  /** Challenge for the WebAuthn second step; the MFA token stays pending until verified. */
  async loginMfaWebauthnOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const pending = this.#pending.get(sha256Hex(mfaToken));
    if (pending === undefined || !pending.methods.includes('webauthn')) throw mfaFailed();
    const user = await this.#core.repos.users.findById(pending.userId);
    if (user === undefined) throw mfaFailed();
    const options = await this.#c.webauthn.authenticationOptions(user);
    pending.webauthnChallenge = options.challenge;
    return options;
  }

  async loginMfaWebauthnVerify(mfaToken: string, response: AuthenticationResponseJSON, expectedOrigin: string | string[], ctx: RequestContext): Promise<IssuedSession> {
    const { user, pending } = await this.#takePending(mfaToken, 'webauthn', ctx);
    const challenge = pending.webauthnChallenge;
    if (challenge === null || !(await this.#c.webauthn.verifyAssertion(user, challenge, response, expectedOrigin))) {
      return this.#refuseMfa(user, 'webauthn', ctx);
    }
    return this.#complete(user, true, 'webauthn', ctx);
  }

  /** The MFA token is spent by any attempt, right or wrong (one-time). */
  async #takePending(mfaToken: string, method: MfaMethod, ctx: RequestContext): Promise<{ user: UserRow; pending: PendingMfaLogin }> {
    const pending = this.#pending.take(sha256Hex(mfaToken));
    const user = pending === undefined ? undefined : await this.#core.repos.users.findById(pending.userId);
    if (pending === undefined || user === undefined || user.disabled === 1) {
      recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.mfa', target: '', outcome: 'failure', details: { method, reason: 'no-pending-login' } });
      throw mfaFailed();
    }
    if (this.#c.lockout.isLocked(user, user.username)) {
      recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.mfa', target: `user:${user.username}`, outcome: 'denied', details: { method, reason: 'locked' } });
      throw authLocked();
    }
    return { user, pending };
  }

  async #refuseMfa(user: UserRow, method: MfaMethod, ctx: RequestContext): Promise<never> {
    recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.mfa', target: `user:${user.username}`, outcome: 'failure', details: { method } });
    if (await this.#c.lockout.recordFailure(user, user.username, ctx)) throw authLocked();
    throw mfaFailed();
  }

  async #complete(user: UserRow, mfaPassed: boolean, method: MfaMethod | 'password', ctx: RequestContext): Promise<IssuedSession> {
    await this.#c.lockout.recordSuccess(user);
    const session = await this.#c.sessions.issue(user, mfaPassed, ctx);
    const notice = await this.#c.notifier.notify(user, ctx, session.principal.sessionIdHash ?? '');
    recordEvent(this.#core, { ...ctx, actor: session.principal }, {
      category: 'auth',
      action: 'auth.login',
      target: `user:${user.username}`,
      outcome: 'success',
      details: { method, newSource: notice.newSource },
    });
    return { ...session, login: notice };
  }
}
