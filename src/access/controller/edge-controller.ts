// The door controller's decision point (design.md §6): it holds the platform-signed credential
// set in a DecisionIndex and decides locally, online or not. Per door, an offline policy bounds
// how stale the set may be: past `maxOfflineMs` since the last sync the door fails secure (denies)
// (ACS-5.4.2.3). Every decision goes to the encrypted, hash-chained edge log, forwarded in order
// when the link returns. After a restart the controller starts locked and deciding nothing until
// it has a verified set (ACS-5.4.1.2).
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import { EdgeEventLog } from '../edge-event-log.ts';
import { scheduleActive } from '../platform/schedule.ts';
import type { ScheduleFacts } from '../platform/types.ts';
import { openCredentialSet, type CredentialSetPayload, type SignedCredentialSet } from './credential-set.ts';
import { DecisionIndex, type DenyReason, type IndexDoor } from './decision-index.ts';

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
}

export type ControllerDecision =
  | { granted: true; holderId: string }
  | { granted: false; reason: DenyReason | 'no credential set' | 'offline too long' | 'unknown door' | 'door not in the credential set'; holderId: string | null };

export class EdgeController {
  readonly log: EdgeEventLog;
  readonly #o: EdgeControllerOptions;
  readonly #index = new DecisionIndex();
  #version = 0;
  #lastSyncAt: number | null = null;
  /** The door model of the last set (undefined: a set without one), keyed by door ID. */
  #doors: Map<string, IndexDoor> | undefined;

  constructor(o: EdgeControllerOptions) {
    this.#o = o;
    this.log = o.log ?? new EdgeEventLog(o.storageKey, 100_000);
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

  decide(credentialKey: string, doorId: string): ControllerDecision {
    const now = this.#o.clock.now();
    const policy = this.#o.doors[doorId];
    let decision: ControllerDecision;
    if (policy === undefined) decision = { granted: false, reason: 'unknown door', holderId: null };
    else if (this.#lastSyncAt === null) decision = { granted: false, reason: 'no credential set', holderId: null };
    else if (now - this.#lastSyncAt > policy.maxOfflineMs) decision = { granted: false, reason: 'offline too long', holderId: null };
    else if (this.#doors !== undefined && !this.#doors.has(doorId)) decision = { granted: false, reason: 'door not in the credential set', holderId: null };
    else decision = this.#index.decide(credentialKey, doorId, now, this.#doors?.get(doorId));
    this.log.append({
      at: new Date(now).toISOString(),
      type: decision.granted ? 'access.granted' : 'access.denied',
      doorId,
      subject: decision.holderId ?? '',
      reason: decision.granted ? 'valid credential' : decision.reason,
    });
    return decision;
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
