// TOTP second factor (NVR-5.4.1.2a; RFC 6238: 6 digits, 30 s, ±1 step). The secret is sealed at
// rest (NVR-5.2.4.1a). A time-step once accepted for a user is never accepted again, so a code
// seen by an eavesdropper is useless (NVR-5.4.1.1a): the last accepted step is kept in the users
// row and advanced with a conditional update, which also settles two concurrent uses.
import { authenticator } from 'otplib';
import { VigilError } from '../core/errors.ts';
import { BoundedTtlMap } from './bounded-ttl-map.ts';
import { MINUTE_MS, SEAL_PURPOSE, mustFindUser, recordEvent, type IdentityCore } from './core.ts';
import type { UserRow } from './repositories/users.ts';
import type { SessionService } from './session-service.ts';
import type { RequestContext, TotpEnrolment } from './types.ts';

export const TOTP_STEP_MS = 30_000;
const CODE = /^\d{6}$/;
const PENDING_MAX = 1000;
const PENDING_TTL_MS = 10 * MINUTE_MS;
const CONFIRM_ATTEMPTS_MAX = 5;
/** 160-bit secrets (RFC 4226 §4 recommends at least 128, 160 preferred). */
const SECRET_BYTES = 20;

interface PendingEnrolment {
  secret: string;
  attempts: number;
}

function aad(userId: string): string {
  return `users.totp:${userId}`;
}

export class TotpService {
  readonly #core: IdentityCore;
  readonly #sessions: SessionService;
  readonly #pending: BoundedTtlMap<string, PendingEnrolment>;

  constructor(core: IdentityCore, sessions: SessionService) {
    this.#core = core;
    this.#sessions = sessions;
    this.#pending = new BoundedTtlMap({ capacity: PENDING_MAX, ttlMs: PENDING_TTL_MS, clock: core.clock });
  }

  /** Starts enrolment: a new secret, kept in memory only until confirmed with a code. */
  async enrolStart(userId: string): Promise<TotpEnrolment> {
    const user = await mustFindUser(this.#core, userId);
    if (user.totp_enabled === 1) throw new VigilError('VIGIL_CONFLICT', 'TOTP is already enabled for this user');
    const secret = authenticator.generateSecret(SECRET_BYTES);
    this.#pending.set(user.id, { secret, attempts: 0 });
    return { secret, otpauthUrl: authenticator.keyuri(user.username, this.#core.config.webauthnRpName, secret) };
  }

  /** Confirms enrolment with a code from the app; the session that did it counts as MFA-passed. */
  async enrolConfirm(userId: string, code: string, ctx: RequestContext): Promise<void> {
    const { repos, sealer, clock } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    const pending = this.#pending.get(user.id);
    if (pending === undefined) throw new VigilError('VIGIL_MFA_ENROLMENT_FAILED', 'no TOTP enrolment in progress (it lasts 10 minutes); start again');
    const step = this.#acceptedStep(pending.secret, code);
    if (step === null) {
      pending.attempts += 1;
      if (pending.attempts >= CONFIRM_ATTEMPTS_MAX) this.#pending.delete(user.id);
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.totp.enrol', target, outcome: 'failure' });
      throw new VigilError('VIGIL_MFA_ENROLMENT_FAILED', 'the code does not match; check the device clock and try again');
    }
    this.#pending.delete(user.id);
    await this.#sessions.passEnrollingSession(user.id, ctx);
    await repos.users.update(user.id, {
      totp_secret_sealed: await sealer.seal(SEAL_PURPOSE, pending.secret, aad(user.id)),
      totp_enabled: 1,
      // The confirming code is spent too.
      totp_last_step: step,
      updated_at: clock.now(),
    });
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.totp.enrol', target, outcome: 'success' });
  }

  /** Checks a login code and spends its time-step. False for a wrong, stale or replayed code. */
  async verifyAndSpend(user: UserRow, code: string): Promise<boolean> {
    if (user.totp_enabled !== 1 || user.totp_secret_sealed === null) return false;
    const secret = (await this.#core.sealer.open(SEAL_PURPOSE, user.totp_secret_sealed, aad(user.id))).toString('utf8');
    const step = this.#acceptedStep(secret, code);
    if (step === null) return false;
    return this.#core.repos.users.claimTotpStep(user.id, step);
  }

  async disable(user: UserRow): Promise<void> {
    this.#pending.delete(user.id);
    await this.#core.repos.users.update(user.id, { totp_secret_sealed: null, totp_enabled: 0, totp_last_step: null, updated_at: this.#core.clock.now() });
  }

  /** The RFC 6238 time-step the code belongs to, within ±1 step of now; null when none. */
  #acceptedStep(secret: string, code: string): number | null {
    if (!CODE.test(code)) return null;
    const now = this.#core.clock.now();
    const delta = authenticator.clone({ epoch: now, window: 1 }).checkDelta(code, secret);
    return delta === null ? null : Math.floor(now / TOTP_STEP_MS) + delta;
  }
}
