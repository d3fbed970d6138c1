// Sessions (NVR-5.4.3.1b, ACS-5.2.1.13, CAM-T-auth-5): 256-bit random tokens from the CSPRNG,
// stored only as SHA-256; an idle timeout and an absolute lifetime; ended at once on logout,
// password change, role change and disable.
import { VigilError } from '../core/errors.ts';
import { MINUTE_MS, recordEvent, type IdentityCore } from './core.ts';
import type { PrincipalLoader } from './principal-loader.ts';
import type { SessionRow } from './repositories/sessions.ts';
import type { UserRow } from './repositories/users.ts';
import { digestsEqual, newToken, sha256Hex } from './secrets.ts';
import type { IssuedSession, Principal, RequestContext, SessionView } from './types.ts';

/** Oldest sessions of a user beyond this are ended: a stolen password cannot fill the table. */
export const SESSIONS_PER_USER = 20;
/** last_seen_at is written at most this often; the idle timeout can only end earlier by it. */
const TOUCH_INTERVAL_MS = 5_000;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const USER_AGENT_MAX = 256;

export type SessionEndReason = 'logout-everywhere' | 'password-change' | 'password-reset' | 'role-change' | 'disabled' | 'mfa-reset' | 'admin-logout';

export class SessionService {
  readonly #core: IdentityCore;
  readonly #principals: PrincipalLoader;

  constructor(core: IdentityCore, principals: PrincipalLoader) {
    this.#core = core;
    this.#principals = principals;
  }

  get idleTimeoutMs(): number {
    return this.#core.config.sessionIdleMinutes * MINUTE_MS;
  }

  get lifetimeMs(): number {
    return this.#core.config.sessionAbsoluteHours * 60 * MINUTE_MS;
  }

  async issue(user: UserRow, mfaPassed: boolean, ctx: RequestContext): Promise<IssuedSession> {
    const { repos, clock } = this.#core;
    const token = newToken();
    const csrfToken = newToken();
    const idHash = sha256Hex(token);
    const now = clock.now();
    const expiresAt = now + this.lifetimeMs;
    await repos.sessions.insert({
      id_hash: idHash,
      user_id: user.id,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      mfa_passed: mfaPassed ? 1 : 0,
      csrf_hash: sha256Hex(csrfToken),
      source_ip: ctx.sourceIp,
      user_agent: ctx.userAgent.slice(0, USER_AGENT_MAX),
    });
    await repos.sessions.trimUser(user.id, SESSIONS_PER_USER);
    const principal = await this.#principals.load(user, { method: 'session', sessionIdHash: idHash, mfaPassed });
    recordEvent(this.#core, { ...ctx, actor: principal }, {
      category: 'session',
      action: 'session.create',
      target: `user:${user.username}`,
      outcome: 'success',
      details: { mfa: mfaPassed },
    });
    return { token, csrfToken, expiresAt, idleTimeoutMs: this.idleTimeoutMs, principal };
  }

  async authenticate(token: string, ctx: RequestContext): Promise<Principal> {
    const { repos, clock } = this.#core;
    if (!TOKEN_SHAPE.test(token)) throw authRequired();
    const idHash = sha256Hex(token);
    const row = await repos.sessions.find(idHash);
    if (row === undefined) throw authRequired();
    const now = clock.now();
    if (this.#expired(row, now)) {
      await repos.sessions.delete(idHash);
      recordEvent(this.#core, ctx, { category: 'session', action: 'session.expire', target: `user-id:${row.user_id}`, outcome: 'success' });
      throw new VigilError('VIGIL_AUTH_SESSION_EXPIRED', 'session expired; log in again');
    }
    const user = await repos.users.findById(row.user_id);
    if (user === undefined || user.disabled === 1) {
      await repos.sessions.delete(idHash);
      throw authRequired();
    }
    const [grants, methods] = await Promise.all([this.#principals.grants(user.id), this.#principals.mfaMethods(user)]);
    // Once a user has a second factor every session must have passed it: a session opened
    // before the factor was enrolled elsewhere ends (NVR-5.4.1.2a).
    if (row.mfa_passed === 0 && methods.length > 0) {
      await repos.sessions.delete(idHash);
      throw new VigilError('VIGIL_AUTH_MFA_REQUIRED', 'log in again with your second factor');
    }
    // A background poll is not activity: an open tab must not hold an idle session open.
    if (ctx.background !== true && now - row.last_seen_at >= TOUCH_INTERVAL_MS) await repos.sessions.touch(idHash, now);
    return this.#principals.build(user, grants, methods.length > 0, { method: 'session', sessionIdHash: idHash, mfaPassed: row.mfa_passed === 1 });
  }

  /**
   * A new CSRF token for an authenticated session (a reloaded page lost it): only its hash is
   * kept, so it cannot be handed out again; the old one stops working.
   */
  async rotateCsrf(token: string): Promise<{ csrfToken: string; idleTimeoutMs: number }> {
    if (!TOKEN_SHAPE.test(token)) throw authRequired();
    const csrfToken = newToken();
    await this.#core.repos.sessions.setCsrfHash(sha256Hex(token), sha256Hex(csrfToken));
    return { csrfToken, idleTimeoutMs: this.idleTimeoutMs };
  }

  /** Constant-time check of the CSRF token bound to the session. */
  async verifyCsrf(token: string, csrfToken: string): Promise<boolean> {
    if (!TOKEN_SHAPE.test(token)) return false;
    const row = await this.#core.repos.sessions.find(sha256Hex(token));
    if (row === undefined) return false;
    return digestsEqual(sha256Hex(csrfToken), row.csrf_hash);
  }

  async logout(token: string, ctx: RequestContext): Promise<void> {
    if (!TOKEN_SHAPE.test(token)) return;
    const idHash = sha256Hex(token);
    const row = await this.#core.repos.sessions.find(idHash);
    if (row === undefined) return;
    await this.#core.repos.sessions.delete(idHash);
    recordEvent(this.#core, ctx, { category: 'session', action: 'session.logout', target: `user-id:${row.user_id}`, outcome: 'success' });
  }

  /** Ends every session of the user; returns how many there were. */
  async endAllOfUser(userId: string, reason: SessionEndReason, ctx: RequestContext): Promise<number> {
    const count = await this.#core.repos.sessions.deleteAllOfUser(userId);
    recordEvent(this.#core, ctx, { category: 'session', action: 'session.revoke', target: `user-id:${userId}`, outcome: 'success', details: { reason, count } });
    return count;
  }

  async list(userId: string): Promise<SessionView[]> {
    const now = this.#core.clock.now();
    const rows = await this.#core.repos.sessions.listByUser(userId);
    return rows
      .filter((r) => !this.#expired(r, now))
      .map((r) => ({
        id: r.id_hash,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
        mfaPassed: r.mfa_passed === 1,
        sourceIp: r.source_ip,
        userAgent: r.user_agent,
      }));
  }

  async revoke(userId: string, sessionId: string, ctx: RequestContext): Promise<void> {
    const removed = await this.#core.repos.sessions.deleteOfUser(userId, sessionId);
    recordEvent(this.#core, ctx, { category: 'session', action: 'session.revoke', target: `user-id:${userId}`, outcome: removed ? 'success' : 'failure' });
    if (!removed) throw new VigilError('VIGIL_NOT_FOUND', 'no such session');
  }

  /**
   * The session enrolling a second factor has just proved it (a valid code or a verified key):
   * it counts as MFA-passed. Called before the factor is enabled, so no request of that session
   * can fall between "factor on" and "session passed" and be ended as a pre-MFA session.
   */
  async passEnrollingSession(userId: string, ctx: RequestContext): Promise<void> {
    const actor = ctx.actor;
    if (actor !== undefined && actor.userId === userId && actor.sessionIdHash !== undefined) await this.#core.repos.sessions.markMfaPassed(actor.sessionIdHash);
  }

  /** Deletes expired rows; for a periodic sweep by the host. */
  async purgeExpired(): Promise<number> {
    const now = this.#core.clock.now();
    return this.#core.repos.sessions.deleteExpired(now, now - this.idleTimeoutMs);
  }

  #expired(row: SessionRow, now: number): boolean {
    return now >= row.expires_at || now - row.last_seen_at > this.idleTimeoutMs;
  }
}

function authRequired(): VigilError {
  return new VigilError('VIGIL_AUTH_REQUIRED', 'authentication required');
}
