// The event log of an edge device (smart lock, door controller), offline first: every decision is
// kept encrypted (AES-256-GCM with the device's storage key) and hash-chained until the platform
// collects it; the platform checks the chain, so an edited, removed or reordered event is named
// (ACS-5.4.2.3, ACS-5.6.1.x at the edge).
// Bounded: when full, the oldest event is dropped and counted (`dropped`), so the platform knows
// how many it lost. With a journal (edge-event-journal.ts) every event is on disk before the
// decision is acted on, and the log reopens after a restart where it left off: same chain, next
// seq, nothing forwarded twice or lost (ACS-5.4.2.3, ACS-5.4.1.2).
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

export interface StoredEvent {
  seq: number;
  sealed: Buffer;
  hash: string;
  prevHash: string;
}

export const GENESIS = '0'.repeat(64);

function eventHash(prevHash: string, event: EdgeEvent): string {
  return createHash('sha256').update(prevHash).update(JSON.stringify([event.seq, event.at, event.type, event.doorId, event.subject, event.reason])).digest('hex');
}

/** Where the log stands before its first stored event (after acknowledgements). */
export interface EdgeLogHead {
  seq: number;
  hash: string;
  dropped: number;
}

/** Durable storage of a log: appends one event, or replaces everything after an ack or a drop. */
export interface EdgeEventSink {
  append(event: StoredEvent): void;
  rewrite(head: EdgeLogHead, events: readonly StoredEvent[]): void;
}

export class EdgeEventLog {
  readonly #key: Buffer;
  readonly #capacity: number;
  readonly #events: StoredEvent[] = [];
  #lastHash = GENESIS;
  #seq = 0;
  #dropped = 0;
  /** Seq and hash of the last event forgotten (acknowledged or dropped). */
  #head: EdgeLogHead = { seq: 0, hash: GENESIS, dropped: 0 };
  readonly #sink: EdgeEventSink | undefined;

  /**
   * `restored`: what a journal held (its head and events, checked here: a log that does not
   * decrypt or chain is refused, VIGIL_EDGE_LOG_TAMPERED); `sink` keeps every change on disk.
   */
  constructor(storageKey: Buffer, capacity = 10_000, persistence?: { sink: EdgeEventSink; restored?: { head: EdgeLogHead; events: StoredEvent[] } }) {
    if (storageKey.length !== 32) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'the device storage key is 32 bytes');
    this.#key = Buffer.from(storageKey);
    this.#capacity = capacity;
    this.#sink = persistence?.sink;
    const restored = persistence?.restored;
    if (restored !== undefined) {
      this.#head = { ...restored.head };
      this.#dropped = restored.head.dropped;
      this.#events.push(...restored.events);
      if ((this.#events[0]?.prevHash ?? restored.head.hash) !== restored.head.hash) throw new VigilError('VIGIL_EDGE_LOG_TAMPERED', 'the first stored event does not follow the journal head');
      this.export(); // decrypts and checks every link, or throws
      const last = this.#events[this.#events.length - 1];
      this.#seq = last?.seq ?? restored.head.seq;
      this.#lastHash = last?.hash ?? restored.head.hash;
    }
  }

  /** Seq of the last event appended (0 when none ever was). */
  get lastSeq(): number {
    return this.#seq;
  }

  append(event: Omit<EdgeEvent, 'seq'>): EdgeEvent {
    let droppedOne = false;
    if (this.#events.length >= this.#capacity) {
      const gone = this.#events.shift();
      this.#dropped++;
      if (gone !== undefined) this.#head = { seq: gone.seq, hash: gone.hash, dropped: this.#dropped };
      droppedOne = true;
    }
    const full: EdgeEvent = { ...event, seq: ++this.#seq };
    const hash = eventHash(this.#lastHash, full);
    const aad = Buffer.from(`edge-event|${full.seq}`);
    const stored: StoredEvent = { seq: full.seq, sealed: seal(this.#key, Buffer.from(JSON.stringify(full)), aad), hash, prevHash: this.#lastHash };
    this.#events.push(stored);
    this.#lastHash = hash;
    if (droppedOne) this.#sink?.rewrite(this.#head, this.#events);
    else this.#sink?.append(stored);
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
    let forgot = false;
    while ((this.#events[0]?.seq ?? Number.POSITIVE_INFINITY) <= seq) {
      const gone = this.#events.shift();
      if (gone !== undefined) this.#head = { seq: gone.seq, hash: gone.hash, dropped: this.#dropped };
      forgot = true;
    }
    if (forgot) this.#sink?.rewrite(this.#head, this.#events);
  }
}
