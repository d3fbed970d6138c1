// A smart lock endpoint that decides offline: platform-signed, time- and door-bound credentials;
// remote unlock only by a command signed over a nonce this lock issued (one use, short life), so
// a captured command replayed later is refused and logged. Every decision goes to the lock's
// encrypted, hash-chained event log.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { EdgeEventLog } from '../edge-event-log.ts';
import { readCredential, readUnlockCommand } from './lock-tokens.ts';

export interface SmartLockOptions {
  lockId: string;
  doorId: string;
  platformKeyPem: string;
  /** 32-byte key sealing the local event log. */
  storageKey: Buffer;
  clock: Clock;
  /** Credential ids revoked by the platform (pushed when online). */
  revoked?: Iterable<string>;
  /** Accepted clock difference with the platform. */
  skewMs?: number;
}

export interface LockDecision {
  open: boolean;
  reason: string;
  releaseSeconds: number;
}

const NONCE_TTL_MS = 30_000;
const MAX_NONCES = 64;

export class SmartLock {
  readonly log: EdgeEventLog;
  readonly #o: SmartLockOptions;
  readonly #revoked: Set<string>;
  /** Outstanding nonces → expiry. */
  readonly #nonces = new Map<string, number>();

  constructor(o: SmartLockOptions) {
    this.#o = o;
    this.log = new EdgeEventLog(o.storageKey);
    this.#revoked = new Set(o.revoked ?? []);
  }

  revoke(ids: Iterable<string>): void {
    for (const id of ids) this.#revoked.add(id);
  }

  presentCredential(token: string): LockDecision {
    const now = this.#o.clock.now();
    const skew = this.#o.skewMs ?? 60_000;
    let subject = '';
    const deny = (reason: string): LockDecision => this.#decide('access.denied', subject, reason, 0);
    let claims;
    try {
      claims = readCredential(token, this.#o.platformKeyPem);
    } catch (err) {
      return deny(isVigilError(err) ? err.message : 'unreadable credential');
    }
    subject = claims.id;
    if (this.#revoked.has(claims.id)) return deny('revoked');
    if (now + skew < claims.notBefore) return deny('not yet valid');
    if (now - skew > claims.notAfter) return deny('expired');
    if (!claims.doors.includes(this.#o.doorId)) return deny('not valid for this door');
    return this.#decide('access.granted', subject, 'valid credential', 5);
  }

  /** A fresh one-use nonce for a remote unlock (the platform signs it into the command). */
  challenge(): string {
    const now = this.#o.clock.now();
    for (const [n, exp] of this.#nonces) if (exp <= now) this.#nonces.delete(n);
    while (this.#nonces.size >= MAX_NONCES) {
      const oldest = this.#nonces.keys().next().value;
      if (oldest === undefined) break;
      this.#nonces.delete(oldest);
    }
    const nonce = randomBytes(16).toString('base64url');
    this.#nonces.set(nonce, now + NONCE_TTL_MS);
    return nonce;
  }

  remoteUnlock(token: string): LockDecision {
    const now = this.#o.clock.now();
    let subject = '';
    const refuse = (reason: string): LockDecision => this.#decide('remote.refused', subject, reason, 0);
    let cmd;
    try {
      cmd = readUnlockCommand(token, this.#o.platformKeyPem);
    } catch (err) {
      return refuse(isVigilError(err) ? err.message : 'unreadable command');
    }
    subject = cmd.actor;
    if (cmd.lockId !== this.#o.lockId || cmd.doorId !== this.#o.doorId) return refuse('command for another lock');
    const expiry = this.#nonces.get(cmd.nonce);
    // One use: the nonce is gone whatever the outcome, so a replay always finds nothing.
    this.#nonces.delete(cmd.nonce);
    if (expiry === undefined) return refuse('unknown or already used nonce (replay?)');
    if (expiry <= now) return refuse('nonce expired');
    return this.#decide('remote.unlock', subject, 'signed command', cmd.releaseSeconds);
  }

  #decide(type: 'access.granted' | 'access.denied' | 'remote.unlock' | 'remote.refused', subject: string, reason: string, releaseSeconds: number): LockDecision {
    this.log.append({ at: new Date(this.#o.clock.now()).toISOString(), type, doorId: this.#o.doorId, subject, reason });
    return { open: type === 'access.granted' || type === 'remote.unlock', reason, releaseSeconds };
  }
}
