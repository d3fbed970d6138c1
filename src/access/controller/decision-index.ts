// The controller's credential index: millions of entries decided in microseconds and in little
// memory. Keys map to slots; a slot holds the holder, a bit set of doors (up to 64 per
// controller), and the validity window, in typed arrays rather than one object per credential.
// Per-door schedules are interned: holders with the same access levels share one profile.
//
// The order of the checks is the platform's (src/access/platform/decision-engine.ts), so the
// edge refuses or grants exactly where the platform would: credential and holder window, PIN
// (card-and-PIN doors need one, which a card-only read lacks), lockdown and its override, a
// locked door, the access level, its schedule. Inactive credentials and holders are never
// published, so they are unknown here.
//
// PINs (issue #6): the index keeps each credential's edge verifiers (src/access/edge-pin.ts);
// the controller checks a keypad PIN against them (slow, async) and passes the outcome to
// decide(): a duress PIN grants wherever the credential would and is flagged; a card-and-PIN
// door needs the right PIN ('pin required' without one, 'wrong pin'), and refuses a credential
// whose PIN the platform could not publish ('pin not at the edge').
import { VigilError } from '../../core/errors.ts';
import { parseEdgePinVerifier, type EdgePinVerifier } from '../edge-pin.ts';
import type { CredentialEntry, EdgeDoorFacts } from './credential-set.ts';

export type DenyReason = 'unknown credential' | 'not valid yet' | 'expired' | 'pin required' | 'wrong pin' | 'pin not at the edge' | 'lockdown' | 'door locked' | 'not allowed at this door' | 'outside schedule';

/** A keypad PIN checked against the credential's verifiers: undefined when none was entered. */
export type PinOutcome = 'match' | 'duress' | 'mismatch';

/** The edge verifiers of one credential; `notAtEdge`: it has a PIN the edge cannot check. */
export interface CredentialPins {
  pin?: EdgePinVerifier;
  duress?: EdgePinVerifier;
  notAtEdge: boolean;
}

/** The door as the set describes it, and the schedule check in its time zone. */
export interface IndexDoor {
  facts: EdgeDoorFacts;
  scheduleActive(scheduleId: string, now: number): boolean;
}
export type IndexDecision = { granted: true; holderId: string; duress?: true } | { granted: false; reason: DenyReason; holderId: string | null };

const MAX_DOORS = 64;

export class DecisionIndex {
  readonly #slotOf = new Map<string, number>();
  readonly #doorBit = new Map<string, number>();
  readonly #holders: string[] = [];
  readonly #holderIndex = new Map<string, number>();
  #holderOf = new Uint32Array(1024);
  #doorsLo = new Uint32Array(1024);
  #doorsHi = new Uint32Array(1024);
  #notBefore = new Float64Array(1024);
  #notAfter = new Float64Array(1024);
  /** Index into #profiles (0: no schedules) and the lockdown-override flag, per slot. */
  #profileOf = new Uint32Array(1024);
  #override = new Uint8Array(1024);
  readonly #profiles: Array<Record<string, string[]> | undefined> = [undefined];
  readonly #profileIndex = new Map<string, number>();
  readonly #free: number[] = [];
  /** Per slot, only for credentials with a PIN: most have none, so a sparse map. */
  readonly #pins = new Map<number, CredentialPins>();
  #next = 0;

  get size(): number {
    return this.#slotOf.size;
  }

  clear(): void {
    this.#slotOf.clear();
    this.#pins.clear();
    this.#profiles.length = 1;
    this.#profileIndex.clear();
    this.#free.length = 0;
    this.#next = 0;
  }

  upsert(e: CredentialEntry): void {
    let slot = this.#slotOf.get(e.key);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#next++;
      this.#grow(slot + 1);
      this.#slotOf.set(e.key, slot);
    }
    let lo = 0;
    let hi = 0;
    for (const door of e.doors) {
      const bit = this.#bit(door);
      if (bit < 32) lo |= 1 << bit;
      else hi |= 1 << (bit - 32);
    }
    this.#holderOf[slot] = this.#holder(e.holderId);
    this.#doorsLo[slot] = lo >>> 0;
    this.#doorsHi[slot] = hi >>> 0;
    this.#notBefore[slot] = e.notBefore;
    this.#notAfter[slot] = e.notAfter;
    this.#profileOf[slot] = this.#profile(e.schedules);
    this.#override[slot] = e.lockdownOverride === true ? 1 : 0;
    const pins = entryPins(e);
    if (pins === undefined) this.#pins.delete(slot);
    else this.#pins.set(slot, pins);
  }

  /** The edge verifiers of a credential (undefined: unknown, or no PIN at all). */
  pinsOf(key: string): CredentialPins | undefined {
    const slot = this.#slotOf.get(key);
    return slot === undefined ? undefined : this.#pins.get(slot);
  }

  remove(key: string): void {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return;
    this.#slotOf.delete(key);
    this.#pins.delete(slot);
    this.#free.push(slot);
  }

  /**
   * `door`: the door as the set describes it; undefined for a set without a door model.
   * `pin`: the keypad PIN checked against this credential's verifiers, if one was entered.
   */
  decide(key: string, doorId: string, now: number, door?: IndexDoor, pin?: PinOutcome): IndexDecision {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return { granted: false, reason: 'unknown credential', holderId: null };
    const holderId = this.#holders[this.#holderOf[slot] ?? 0] ?? '';
    const deny = (reason: DenyReason): IndexDecision => ({ granted: false, reason, holderId });
    if (now < (this.#notBefore[slot] ?? 0)) return deny('not valid yet');
    if (now >= (this.#notAfter[slot] ?? 0)) return deny('expired');
    // As the platform: a duress PIN grants like the real one on any door mode (and is flagged).
    const duress = pin === 'duress';
    if (!duress && door?.facts.mode === 'card_and_pin') {
      if (this.#pins.get(slot)?.notAtEdge === true) return deny('pin not at the edge');
      if (pin === undefined) return deny('pin required');
      if (pin !== 'match') return deny('wrong pin');
    }
    const grant: IndexDecision = duress ? { granted: true, holderId, duress: true } : { granted: true, holderId };
    if (door?.facts.lockdown === true) return this.#override[slot] === 1 ? grant : deny('lockdown');
    if (door?.facts.mode === 'locked') return deny('door locked');
    const bit = this.#doorBit.get(doorId);
    const allowed = bit !== undefined && (bit < 32 ? ((this.#doorsLo[slot] ?? 0) >>> bit) & 1 : ((this.#doorsHi[slot] ?? 0) >>> (bit - 32)) & 1);
    if (allowed !== 1) return deny('not allowed at this door');
    const schedules = this.#profiles[this.#profileOf[slot] ?? 0]?.[doorId];
    if (schedules !== undefined && !(door !== undefined && schedules.some((id) => door.scheduleActive(id, now)))) return deny('outside schedule');
    return grant;
  }

  #profile(schedules: Record<string, string[]> | undefined): number {
    if (schedules === undefined) return 0;
    const text = JSON.stringify(Object.entries(schedules).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let i = this.#profileIndex.get(text);
    if (i === undefined) {
      i = this.#profiles.length;
      this.#profiles.push(schedules);
      this.#profileIndex.set(text, i);
    }
    return i;
  }

  #bit(door: string): number {
    let bit = this.#doorBit.get(door);
    if (bit === undefined) {
      if (this.#doorBit.size >= MAX_DOORS) throw new VigilError('VIGIL_CREDENTIAL_SET_INVALID', `a controller serves at most ${MAX_DOORS} doors`);
      bit = this.#doorBit.size;
      this.#doorBit.set(door, bit);
    }
    return bit;
  }

  #holder(id: string): number {
    let i = this.#holderIndex.get(id);
    if (i === undefined) {
      i = this.#holders.length;
      this.#holders.push(id);
      this.#holderIndex.set(id, i);
    }
    return i;
  }

  #grow(need: number): void {
    if (need <= this.#holderOf.length) return;
    const size = Math.max(need, this.#holderOf.length * 2);
    const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.#holderOf = grow(this.#holderOf, (n) => new Uint32Array(n));
    this.#doorsLo = grow(this.#doorsLo, (n) => new Uint32Array(n));
    this.#doorsHi = grow(this.#doorsHi, (n) => new Uint32Array(n));
    this.#notBefore = grow(this.#notBefore, (n) => new Float64Array(n));
    this.#notAfter = grow(this.#notAfter, (n) => new Float64Array(n));
    this.#profileOf = grow(this.#profileOf, (n) => new Uint32Array(n));
    const override = new Uint8Array(size);
    override.set(this.#override);
    this.#override = override;
  }
}

/** A malformed verifier in a signed set is treated as one the edge cannot check: fail secure. */
function entryPins(e: CredentialEntry): CredentialPins | undefined {
  if (e.pinNotAtEdge === true) return { notAtEdge: true };
  if (e.pinVerifier === undefined && e.duressVerifier === undefined) return undefined;
  const pin = e.pinVerifier === undefined ? undefined : parseEdgePinVerifier(e.pinVerifier);
  const duress = e.duressVerifier === undefined ? undefined : parseEdgePinVerifier(e.duressVerifier);
  if ((e.pinVerifier !== undefined && pin === undefined) || (e.duressVerifier !== undefined && duress === undefined)) return { notAtEdge: true };
  return { ...(pin === undefined ? {} : { pin }), ...(duress === undefined ? {} : { duress }), notAtEdge: false };
}
