// The door controller's decision point (design.md §6): it holds the platform-signed credential
// set in a DecisionIndex and decides locally, online or not. Per door, an offline policy bounds
// how stale the set may be: past `maxOfflineMs` since the last sync the door fails secure (denies)
// (ACS-5.4.2.3). Every decision goes to the encrypted, hash-chained edge log, forwarded in order
// when the link returns. After a restart the controller starts locked and deciding nothing until
// it has a verified set (ACS-5.4.1.2).
//
// Card and PIN (issue #6): decideWithPin() checks a keypad PIN against the credential's edge
// verifiers (PBKDF2, edge-pin.ts) off the event loop, then decides as the platform would. A
// duress PIN grants and is logged with reason 'duress' (forwarded: the platform raises its duress
// alarm). Wrong PINs are counted per credential: after `pinAttempts` the credential is locked
// out of PIN entry for `pinLockoutMs`, logged, and no PIN is checked meanwhile (brute force at
// the keypad; modelled on NVR-5.4.2.1d: lock ≥ 1 min, counter kept ≥ 1 min).
import { parseEdgePinVerifier, verifyEdgePin, EDGE_PIN_ITERATIONS, type EdgePinVerifier } from '../edge-pin.ts';
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import { EdgeEventLog } from '../edge-event-log.ts';
import { scheduleActive } from '../platform/schedule.ts';
import type { ScheduleFacts } from '../platform/types.ts';
import { openCredentialSet, type CredentialSetPayload, type SignedCredentialSet } from './credential-set.ts';
import { DecisionIndex, type DenyReason, type IndexDoor, type PinOutcome } from './decision-index.ts';

export interface DoorPolicy {
  /** Keep deciding from the last set for this long without a sync, then deny (fail secure). */
  maxOfflineMs: number;
}

export interface EdgeControllerOptions {
  controllerId: string;
  platformKeyPem: string;
  storageKey: Buffer;
  clock: Clock;
  doors: Record<string, DoorPolicy>;
  /** A journaled log (a controller process); default: in memory. */
  log?: EdgeEventLog;
  /** Called after a set is applied or the platform confirmed it current: keep it on disk. */
  onSetChange?: (change: { applied?: SignedCredentialSet; full: boolean; syncedAt: number }) => void;
  /** Wrong PINs in a row before a credential is locked out of PIN entry (default 3). */
  pinAttempts?: number;
  /** How long that lockout lasts (default 5 minutes). */
  pinLockoutMs?: number;
  /** PBKDF2 count of the stand-in verifier checked when a credential has none (default: the platform's). */
  dummyPinIterations?: number;
  /** Told when a credential is locked out of PIN entry (the controller raises an alarm). */
  onPinLockout?: (lockout: { doorId: string; holderId: string | null; reason: string }) => void;
}

/** Credentials with a wrong-PIN count kept at once; the oldest is forgotten past it (bounded). */
const MAX_PIN_FAILURE_RECORDS = 10_000;
/** Checked when a credential has no verifier, so an unknown card takes as long as a known one. */
function dummyVerifier(iterations: number): EdgePinVerifier | undefined {
  return parseEdgePinVerifier(`pbkdf2-sha256$${iterations}$${'A'.repeat(22)}==$${'A'.repeat(43)}=`);
}

export type ControllerDecision =
  | { granted: true; holderId: string; duress?: true }
  | { granted: false; reason: DenyReason | 'no credential set' | 'offline too long' | 'unknown door' | 'door not in the credential set' | 'pin locked out'; holderId: string | null };

export class EdgeController {
  readonly log: EdgeEventLog;
  readonly #o: EdgeControllerOptions;
  readonly #index = new DecisionIndex();
  #version = 0;
  #lastSyncAt: number | null = null;
  /** The door model of the last set (undefined: a set without one), keyed by door ID. */
  #doors: Map<string, IndexDoor> | undefined;
  /** Per credential key: wrong PINs in a row, the last one's time, and a lockout end. */
  readonly #pinFailures = new Map<string, { count: number; lastAt: number; lockedUntil: number }>();
  readonly #dummy: EdgePinVerifier | undefined;

  constructor(o: EdgeControllerOptions) {
    this.#o = o;
    this.log = o.log ?? new EdgeEventLog(o.storageKey, 100_000);
    this.#dummy = dummyVerifier(o.dummyPinIterations ?? EDGE_PIN_ITERATIONS);
  }

  /**
   * After a restart: the sets kept on disk (a full set, then its deltas, in order) and when the
   * platform last confirmed them, so the offline bound counts from the real last sync, not the
   * restart (ACS-5.4.2.3). Any set that does not verify stops the restore: fail secure.
   */
  restore(sets: readonly SignedCredentialSet[], lastSyncAt: number): void {
    for (const set of sets) this.#applyVerified(set);
    if (this.#version > 0) this.#lastSyncAt = lastSyncAt;
  }

  /** Time of the last sync with the platform, or null. */
  get lastSyncAt(): number | null {
    return this.#lastSyncAt;
  }

  get version(): number {
    return this.#version;
  }

  get credentials(): number {
    return this.#index.size;
  }

  /** Applies a full set or a delta on the version held; anything else is refused unchanged. */
  apply(set: SignedCredentialSet): { version: number; upserts: number; removals: number } {
    const result = this.#applyVerified(set);
    this.#lastSyncAt = this.#o.clock.now();
    this.#o.onSetChange?.({ applied: set, full: result.full, syncedAt: this.#lastSyncAt });
    return { version: result.version, upserts: result.upserts, removals: result.removals };
  }

  #applyVerified(set: SignedCredentialSet): { version: number; upserts: number; removals: number; full: boolean } {
    const p = openCredentialSet(set, this.#o.platformKeyPem, this.#o.controllerId);
    if (p.version <= this.#version) throw new VigilError('VIGIL_CREDENTIAL_SET_INVALID', `version ${p.version} is not newer than ${this.#version} (replay or rollback)`);
    if (p.baseVersion !== null && p.baseVersion !== this.#version) {
      throw new VigilError('VIGIL_CREDENTIAL_SET_INVALID', `delta on version ${p.baseVersion}, but this controller holds ${this.#version}: send a full set`);
    }
    if (p.baseVersion === null) this.#index.clear();
    for (const key of p.removals) this.#index.remove(key);
    for (const e of p.upserts) this.#index.upsert(e);
    this.#doors = doorModel(p);
    this.#version = p.version;
    return { version: p.version, upserts: p.upserts.length, removals: p.removals.length, full: p.baseVersion === null };
  }

  /** The platform is reachable and has nothing newer: the set is current as of now. */
  markSynced(): void {
    if (this.#version === 0) return;
    this.#lastSyncAt = this.#o.clock.now();
    this.#o.onSetChange?.({ full: false, syncedAt: this.#lastSyncAt });
  }

  /** Whether the door asks for a PIN after a card (its mode in the set's door model). */
  needsPin(doorId: string): boolean {
    return this.#doors?.get(doorId)?.facts.mode === 'card_and_pin';
  }

  /**
   * A card and the PIN typed after it (undefined: none was typed before the timeout). The PIN
   * is checked against both verifiers in parallel, always (and against a dummy when there are
   * none), so how long it takes does not tell which matched or whether the card is known.
   */
  async decideWithPin(credentialKey: string, doorId: string, pin: string | undefined): Promise<ControllerDecision> {
    if (pin === undefined) return this.decide(credentialKey, doorId);
    const now = this.#o.clock.now();
    const failures = this.#pinFailures.get(credentialKey);
    if (failures !== undefined && now < failures.lockedUntil) return this.#record(doorId, now, { granted: false, reason: 'pin locked out', holderId: null });
    const pins = this.#index.pinsOf(credentialKey);
    const check = async (v: EdgePinVerifier | undefined): Promise<boolean> => (v === undefined ? false : verifyEdgePin(v, pin));
    const [isPin, isDuress] = await Promise.all([check(pins?.pin ?? this.#dummy), check(pins?.duress ?? this.#dummy)]);
    const outcome: PinOutcome = isDuress && pins?.duress !== undefined ? 'duress' : isPin && pins?.pin !== undefined ? 'match' : 'mismatch';
    const decision = this.decide(credentialKey, doorId, outcome);
    this.#countPin(credentialKey, doorId, decision);
    return decision;
  }

  decide(credentialKey: string, doorId: string, pin?: PinOutcome): ControllerDecision {
    const now = this.#o.clock.now();
    const policy = this.#o.doors[doorId];
    let decision: ControllerDecision;
    if (policy === undefined) decision = { granted: false, reason: 'unknown door', holderId: null };
    else if (this.#lastSyncAt === null) decision = { granted: false, reason: 'no credential set', holderId: null };
    else if (now - this.#lastSyncAt > policy.maxOfflineMs) decision = { granted: false, reason: 'offline too long', holderId: null };
    else if (this.#doors !== undefined && !this.#doors.has(doorId)) decision = { granted: false, reason: 'door not in the credential set', holderId: null };
    else decision = this.#index.decide(credentialKey, doorId, now, this.#doors?.get(doorId), pin);
    return this.#record(doorId, now, decision);
  }

  #record(doorId: string, now: number, decision: ControllerDecision): ControllerDecision {
    this.log.append({
      at: new Date(now).toISOString(),
      type: decision.granted ? 'access.granted' : 'access.denied',
      doorId,
      subject: decision.holderId ?? '',
      // The duress grant is an event of its own kind at the platform (alarm on ingest).
      reason: decision.granted ? (decision.duress === true ? 'duress' : 'valid credential') : decision.reason,
    });
    return decision;
  }

  /** Wrong PINs count towards the lockout; a right one (or the duress PIN) resets the count. */
  #countPin(credentialKey: string, doorId: string, decision: ControllerDecision): void {
    const now = this.#o.clock.now();
    const lockoutMs = this.#o.pinLockoutMs ?? 5 * 60_000;
    if (decision.granted) {
      this.#pinFailures.delete(credentialKey);
      return;
    }
    if (decision.reason !== 'wrong pin') return;
    const before = this.#pinFailures.get(credentialKey);
    // A count left alone for a lockout period starts again (never sooner than that).
    const count = before === undefined || now - before.lastAt > lockoutMs ? 1 : before.count + 1;
    this.#pinFailures.delete(credentialKey);
    if (this.#pinFailures.size >= MAX_PIN_FAILURE_RECORDS) {
      const oldest = this.#pinFailures.keys().next();
      if (oldest.done !== true) this.#pinFailures.delete(oldest.value);
    }
    const locked = count >= (this.#o.pinAttempts ?? 3);
    this.#pinFailures.set(credentialKey, { count: locked ? 0 : count, lastAt: now, lockedUntil: locked ? now + lockoutMs : 0 });
    if (locked) {
      const reason = `${count} wrong PINs: PIN entry locked for ${Math.round(lockoutMs / 1000)} s`;
      this.log.append({ at: new Date(now).toISOString(), type: 'access.pin_lockout', doorId, subject: decision.holderId ?? '', reason });
      this.#o.onPinLockout?.({ doorId, holderId: decision.holderId, reason });
    }
  }
}

/** Each set carries the whole door model: the doors with their time zones, and the schedules. */
function doorModel(p: CredentialSetPayload): Map<string, IndexDoor> | undefined {
  if (p.doors === undefined) return undefined;
  const schedules = new Map<string, ScheduleFacts>((p.schedules ?? []).map((s) => [s.id, s]));
  return new Map(
    p.doors.map((facts) => [
      facts.id,
      {
        facts,
        // Evaluated by the platform's own function: same intervals, holidays and time zone rules.
        scheduleActive: (id: string, now: number) => {
          const schedule = schedules.get(id);
          return schedule !== undefined && scheduleActive(schedule, now, facts.timezone);
        },
      },
    ]),
  );
}
