// Password changes: GCB policy and history (NVR-5.4.2.1a), minimum and maximum age
// (ACS-5.1.3.1), forced change after creation or reset (NVR-5.4.2.1c). A change ends every
// session of the user and hands the caller a fresh one (ACS-5.2.1.13, no session fixation).
import { VigilError } from '../core/errors.ts';
import { DAY_MS, mustFindUser, notifyPasswordSet, recordEvent, type IdentityCore } from './core.ts';
import type { LoginLockout } from './lockout.ts';
import { checkPasswordPolicy, passwordPolicyError, type PasswordRule } from './password-policy.ts';
import type { UserRow } from './repositories/users.ts';
import type { SessionService } from './session-service.ts';
import type { IssuedSession, RequestContext } from './types.ts';

export class PasswordService {
  readonly #core: IdentityCore;
  readonly #sessions: SessionService;
  readonly #lockout: LoginLockout;

  constructor(core: IdentityCore, sessions: SessionService, lockout: LoginLockout) {
    this.#core = core;
    this.#sessions = sessions;
    this.#lockout = lockout;
  }

  async changePassword(userId: string, current: string, next: string, ctx: RequestContext): Promise<IssuedSession> {
    const { hasher, clock, config } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    if (this.#lockout.isLocked(user, user.username)) {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.change', target, outcome: 'denied', details: { reason: 'locked' } });
      throw new VigilError('VIGIL_AUTH_LOCKED', 'account temporarily locked after too many failed attempts');
    }
    // The current password is a credential check like a login: failures count toward lockout.
    if (user.disabled === 1 || !(await hasher.verify(current, user.password_hash))) {
      const locked = await this.#lockout.recordFailure(user, user.username, ctx);
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.change', target, outcome: 'failure', details: { reason: 'current-password' } });
      if (locked) throw new VigilError('VIGIL_AUTH_LOCKED', 'account temporarily locked after too many failed attempts');
      throw new VigilError('VIGIL_AUTH_FAILED', 'the current password is not correct');
    }
    const now = clock.now();
    const rules: PasswordRule[] = checkPasswordPolicy({ password: next, username: user.username, minLength: config.passwordMinLength });
    const expired = now >= user.password_changed_at + config.passwordMaxAgeDays * DAY_MS;
    // ACS-5.1.3.1 minimum age: no cycling through the history to get back to a favourite. A
    // forced change (first access, reset, expiry) is never blocked by it.
    if (user.must_change_password === 0 && !expired && now - user.password_changed_at < config.passwordMinAgeDays * DAY_MS) {
      rules.push('min-age');
    }
    if (rules.length === 0 && (await this.#inHistory(user, next))) rules.push('history');
    if (rules.length > 0) {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.change', target, outcome: 'failure', details: { rules: rules.join(',') } });
      throw passwordPolicyError(rules);
    }
    await this.#store(user, next, false);
    await this.#lockout.recordSuccess(user);
    await this.#sessions.endAllOfUser(user.id, 'password-change', ctx);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.change', target, outcome: 'success' });
    const fresh = await mustFindUser(this.#core, user.id);
    const mfaPassed = ctx.actor !== undefined && ctx.actor.userId === user.id && ctx.actor.mfaPassed;
    return this.#sessions.issue(fresh, mfaPassed, ctx);
  }

  /**
   * An administrator sets a temporary password: the user must change it at next access, every
   * session and API token of the user ends, and a lockout is lifted.
   */
  async adminResetPassword(userId: string, newPassword: string, ctx: RequestContext): Promise<void> {
    const { config, repos } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    const rules = checkPasswordPolicy({ password: newPassword, username: user.username, minLength: config.passwordMinLength });
    if (rules.length > 0) {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.reset', target, outcome: 'failure', details: { rules: rules.join(',') } });
      throw passwordPolicyError(rules);
    }
    await this.#store(user, newPassword, true);
    await this.#lockout.unlock(user);
    await this.#sessions.endAllOfUser(user.id, 'password-reset', ctx);
    await repos.apiTokens.revokeAllOfUser(user.id);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.password.reset', target, outcome: 'success' });
  }

  /** GCB CCE-35219-5: equal to any of the last `passwordHistory` passwords (current included)? */
  async #inHistory(user: UserRow, candidate: string): Promise<boolean> {
    const { repos, hasher, config } = this.#core;
    const hashes = new Set(await repos.passwordHistory.recent(user.id, config.passwordHistory));
    hashes.add(user.password_hash);
    const matches = await Promise.all([...hashes].map((h) => hasher.verify(candidate, h)));
    return matches.includes(true);
  }

  async #store(user: UserRow, password: string, mustChange: boolean): Promise<void> {
    const { repos, hasher, clock, config } = this.#core;
    const now = clock.now();
    const hash = await hasher.hash(password);
    await repos.users.update(user.id, { password_hash: hash, password_changed_at: now, must_change_password: mustChange ? 1 : 0, updated_at: now });
    await repos.passwordHistory.insert({ userId: user.id, passwordHash: hash, createdAt: now });
    await repos.passwordHistory.prune(user.id, config.passwordHistory);
    await notifyPasswordSet(this.#core, user, password);
  }
}
