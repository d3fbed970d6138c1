// The event log of an edge device (smart lock, door controller), offline first: every decision is
// kept encrypted (AES-256-GCM with the device's storage key) and hash-chained until the platform
// collects it; the platform checks the chain, so an edited, removed or reordered event is named
// (ACS-5.4.2.3, ACS-5.6.1.x at the edge).
// Bounded: when full, the oldest event is dropped and counted (`dropped`), so the platform knows
// how many it lost.
import { createHash } from 'node:crypto';
import { open as openSealed, seal } from '../crypto/aead.ts';
import { VigilError } from '../core/errors.ts';

export interface EdgeEvent {
  seq: number;
  /** ISO 8601 UTC. */
  at: string;
  /** e.g. access.granted, access.denied, remote.unlock, remote.refused */
  type: string;
  doorId: string;
  /** Credential id, command actor, or '' */
  subject: string;
  reason: string;
}

interface StoredEvent {
  seq: number;
  sealed: Buffer;
  hash: string;
  prevHash: string;
}

export const GENESIS = '0'.repeat(64);

function eventHash(prevHash: string, event: EdgeEvent): string {
  return createHash('sha256').update(prevHash).update(JSON.stringify([event.seq, event.at, event.type, event.doorId, event.subject, event.reason])).digest('hex');
}

export class EdgeEventLog {
  readonly #key: Buffer;
  readonly #capacity: number;
  readonly #events: StoredEvent[] = [];
  #lastHash = GENESIS;
  #seq = 0;
  #dropped = 0;

  constructor(storageKey: Buffer, capacity = 10_000) {
    if (storageKey.length !== 32) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'the device storage key is 32 bytes');
    this.#key = Buffer.from(storageKey);
    this.#capacity = capacity;
  }

  append(event: Omit<EdgeEvent, 'seq'>): EdgeEvent {
    if (this.#events.length >= this.#capacity) {
      this.#events.shift();
      this.#dropped++;
    }
    const full: EdgeEvent = { ...event, seq: ++this.#seq };
    const hash = eventHash(this.#lastHash, full);
    const aad = Buffer.from(`edge-event|${full.seq}`);
    this.#events.push({ seq: full.seq, sealed: seal(this.#key, Buffer.from(JSON.stringify(full)), aad), hash, prevHash: this.#lastHash });
    this.#lastHash = hash;
    return full;
  }

  /** Raw stored form (what an attacker with the flash would see). */
  get stored(): readonly StoredEvent[] {
    return this.#events;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Decrypts and checks the chain; throws naming the first event that does not verify. */
  export(): EdgeEvent[] {
    const out: EdgeEvent[] = [];
    let prev = this.#events[0]?.prevHash ?? GENESIS;
    for (const stored of this.#events) {
      let event: EdgeEvent;
      try {
        event = JSON.parse(openSealed(this.#key, stored.sealed, Buffer.from(`edge-event|${stored.seq}`)).toString('utf8')) as EdgeEvent;
      } catch {
        throw new VigilError('VIGIL_EDGE_LOG_TAMPERED', `event ${stored.seq} does not decrypt`);
      }
      if (stored.prevHash !== prev || eventHash(prev, event) !== stored.hash || event.seq !== stored.seq) {
        throw new VigilError('VIGIL_EDGE_LOG_TAMPERED', `event ${stored.seq} breaks the chain`);
      }
      prev = stored.hash;
      out.push(event);
    }
    return out;
  }

  /** After the platform stored them: forget events up to `seq`. */
  acknowledge(seq: number): void {
    while ((this.#events[0]?.seq ?? Number.POSITIVE_INFINITY) <= seq) this.#events.shift();
  }
}
