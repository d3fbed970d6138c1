// The controller's credential index: millions of entries decided in microseconds and in little
// memory. Keys map to slots; a slot holds the holder, a bit set of doors (up to 64 per
// controller), and the validity window, in typed arrays rather than one object per credential.
import { VigilError } from '../../core/errors.ts';
import type { CredentialEntry } from './credential-set.ts';

export type DenyReason = 'unknown credential' | 'not valid yet' | 'expired' | 'not allowed at this door';
export type IndexDecision = { granted: true; holderId: string } | { granted: false; reason: DenyReason; holderId: string | null };

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
  readonly #free: number[] = [];
  #next = 0;

  get size(): number {
    return this.#slotOf.size;
  }

  clear(): void {
    this.#slotOf.clear();
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
  }

  remove(key: string): void {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return;
    this.#slotOf.delete(key);
    this.#free.push(slot);
  }

  decide(key: string, doorId: string, now: number): IndexDecision {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return { granted: false, reason: 'unknown credential', holderId: null };
    const holderId = this.#holders[this.#holderOf[slot] ?? 0] ?? '';
    if (now < (this.#notBefore[slot] ?? 0)) return { granted: false, reason: 'not valid yet', holderId };
    if (now > (this.#notAfter[slot] ?? 0)) return { granted: false, reason: 'expired', holderId };
    const bit = this.#doorBit.get(doorId);
    const allowed = bit !== undefined && (bit < 32 ? ((this.#doorsLo[slot] ?? 0) >>> bit) & 1 : ((this.#doorsHi[slot] ?? 0) >>> (bit - 32)) & 1);
    return allowed === 1 ? { granted: true, holderId } : { granted: false, reason: 'not allowed at this door', holderId };
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
  }
}
