// A map with a hard capacity and a fixed time-to-live, for state held in memory only (pending
// MFA logins, WebAuthn challenges, TOTP enrolments, failure counters of unknown usernames).
// Entries expire lazily; when full, the oldest entry is dropped. Insertion order is expiry
// order because the TTL is fixed and `set` re-inserts.
import type { Clock } from '../core/clock.ts';

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class BoundedTtlMap<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(options: { capacity: number; ttlMs: number; clock: Clock }) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#capacity = options.capacity;
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
  }

  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#sweep();
    while (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + this.#ttlMs });
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Get and remove: for one-time values. */
  take(key: K): V | undefined {
    const value = this.get(key);
    this.#entries.delete(key);
    return value;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      if (now < entry.expiresAt) break;
      this.#entries.delete(key);
    }
  }
}
