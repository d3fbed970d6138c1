// Brute-force lockout (NVR-5.4.2.1d, CAM-T-auth-4): `lockoutThreshold` (≤ 5) failures in a row,
// each within `lockoutMinutes` of the previous, lock the account for `lockoutMinutes` (≥ 15).
// Unknown usernames are counted and locked the same way in a bounded in-memory map, so the
// lock itself does not tell which usernames exist (NVR-5.4.1.1b).
import { BoundedTtlMap } from './bounded-ttl-map.ts';
import { MINUTE_MS, recordEvent, type IdentityCore } from './core.ts';
import type { UserRow } from './repositories/users.ts';
import type { RequestContext } from './types.ts';

/**
 * Unknown usernames tracked at once. When full the oldest is forgotten; reaching that takes this
 * many distinct failed logins inside one window, which the auth rate limit makes slow.
 */
const UNKNOWN_TRACKED_MAX = 10_000;

interface UnknownFailures {
  failures: number;
  lockedUntil: number;
}

export class LoginLockout {
  readonly #core: IdentityCore;
  readonly #unknown: BoundedTtlMap<string, UnknownFailures>;

  constructor(core: IdentityCore) {
    this.#core = core;
    // An entry lives one window after its last failure or lock: exactly as long as it matters.
    this.#unknown = new BoundedTtlMap({ capacity: UNKNOWN_TRACKED_MAX, ttlMs: this.#windowMs, clock: core.clock });
  }

  get #windowMs(): number {
    return this.#core.config.lockoutMinutes * MINUTE_MS;
  }

  /** `key` is the canonical username, or the attempted name when it is not one. */
  isLocked(user: UserRow | undefined, key: string): boolean {
    const now = this.#core.clock.now();
    if (user !== undefined) return user.locked_until !== null && now < user.locked_until;
    const entry = this.#unknown.get(key);
    return entry !== undefined && now < entry.lockedUntil;
  }

  /** Counts a failure; true when it locked the account. */
  async recordFailure(user: UserRow | undefined, key: string, ctx: RequestContext): Promise<boolean> {
    const { config, clock, repos } = this.#core;
    const now = clock.now();
    let failures: number;
    if (user !== undefined) {
      failures = await repos.users.addFailedLogin(user.id, now, now - this.#windowMs);
    } else {
      const entry = this.#unknown.get(key);
      failures = (entry?.failures ?? 0) + 1;
      this.#unknown.set(key, { failures, lockedUntil: 0 });
    }
    if (failures < config.lockoutThreshold) return false;
    const until = now + this.#windowMs;
    if (user !== undefined) await repos.users.lock(user.id, until);
    else this.#unknown.set(key, { failures: 0, lockedUntil: until });
    recordEvent(this.#core, ctx, {
      category: 'auth',
      action: 'auth.lockout',
      target: `user:${key}`,
      outcome: 'success',
      details: { failures, lockedUntil: new Date(until).toISOString(), knownUser: user !== undefined },
    });
    this.#core.alarms.raise({
      type: 'auth.lockout',
      severity: 'warning',
      source: 'identity',
      message: `account ${key} locked for ${config.lockoutMinutes} minutes after ${failures} failed logins`,
      dedupeKey: `auth.lockout|${key}`,
      details: { username: key, sourceIp: ctx.sourceIp },
    });
    return true;
  }

  async recordSuccess(user: UserRow): Promise<void> {
    if (user.failed_logins !== 0 || user.locked_until !== null || user.last_failed_at !== null) {
      await this.#core.repos.users.clearFailedLogins(user.id);
    }
  }

  /** Admin unlock. */
  async unlock(user: UserRow): Promise<void> {
    await this.#core.repos.users.clearFailedLogins(user.id);
  }
}
