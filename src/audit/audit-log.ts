// The security event log writer (NVR-5.2.7.1a/b, CAM-T-sys-11, ACS-5.6.1.1/5/11).
//
// record() is synchronous and never throws: the event is bounded, redacted and queued. One
// writer drains the queue in batches, each batch one transaction: seq = last + 1, prev_hash =
// the previous hash, hash over canonical bytes (canonical.ts), and a signed checkpoint every
// checkpointEveryEvents events, at least every checkpointEverySeconds, and on close.
//
// Failure (NVR-5.2.7.2a, CAM-T-sys-12, ACS-5.6.1.4): a failed write keeps the batch queued (in
// order), raises the critical alarm 'audit.store_failed' and retries with capped backoff. On
// recovery the queue is written, the alarm cleared and 'audit.store_recovered' recorded.
// One writer per database: a second process appending to the same log would fork the chain.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlarmInput, AlarmSink } from '../alarms/types.ts';
import { isoTime, type Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { VigilError, asError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/database.ts';
import { AuditRepository, type AuditCheckpointRow } from './audit-repository.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { GENESIS_HASH, boundText } from './canonical.ts';
import { CheckpointSigner, chainBatch, type ChainTail } from './chain.ts';
import { FlushWaiters } from './flush-waiters.ts';
import { preparePendingEvent, type PendingEvent } from './pending-event.ts';
import { CapacityWatch, measureCapacity, purgeExpiredEvents, type AuditCapacity } from './retention.ts';
import type { AuditEventInput, AuditSigner, AuditSink } from './types.ts';

export interface AuditLogTuning {
  /** Hard cap of queued events (held in memory while the store fails). */
  queueCap: number;
  /** Hard cap of queued memory, whatever the count. */
  queueByteCap: number;
  batchSize: number;
  /** Delay before a partial batch is written: lets bursts share a transaction. */
  flushDelayMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  capacityCheckMs: number;
  purgeEveryMs: number;
  /** How long close() keeps trying to store what is queued. */
  closeTimeoutMs: number;
}

export const DEFAULT_AUDIT_TUNING: AuditLogTuning = {
  queueCap: 100_000,
  queueByteCap: 64 * 1024 * 1024,
  batchSize: 1000,
  flushDelayMs: 5,
  retryBaseMs: 100,
  retryMaxMs: 5000,
  capacityCheckMs: 10 * 60_000,
  purgeEveryMs: 6 * 3_600_000,
  closeTimeoutMs: 5000,
};

export interface AuditLogOptions {
  store: Store;
  signer: AuditSigner;
  alarms: AlarmSink;
  clock: Clock;
  config: Config['audit'];
  logger: Logger;
  tuning?: Partial<AuditLogTuning>;
}

export interface AuditHealth {
  ok: boolean;
  queued: number;
  dropped: number;
  lastError?: string;
}

export const AUDIT_ALARM_SOURCE = 'audit';
export const STORE_FAILED_ALARM = 'audit.store_failed';
const STORE_FAILED_KEY = `${STORE_FAILED_ALARM}|${AUDIT_ALARM_SOURCE}`;

export class AuditLog implements AuditSink {
  readonly #repo: AuditRepository;
  readonly #alarms: AlarmSink;
  readonly #clock: Clock;
  readonly #config: Config['audit'];
  readonly #logger: Logger;
  readonly #tuning: AuditLogTuning;
  readonly #queue: BoundedQueue<PendingEvent>;
  #queuedBytes = 0;

  readonly #checkpointSigner: CheckpointSigner;
  readonly #capacityWatch: CapacityWatch;
  /** The chain as committed to the store. */
  #tail: ChainTail = { lastSeq: 0, lastHash: GENESIS_HASH, sinceCheckpoint: 0 };
  #lastCheckpointAt = 0;
  #checkpointDue = false;

  readonly #flushes = new FlushWaiters();
  #dropped = 0;
  #droppedUnreported = 0;
  #overflowAlarmed = false;

  #failing = false;
  #failedAttempts = 0;
  #failingSince = 0;
  #lastError: string | undefined;
  #needsResync = false;

  #drainPromise: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #intervals: NodeJS.Timeout[] = [];
  #closing = false;
  #closed = false;

  private constructor(options: AuditLogOptions, repo: AuditRepository) {
    this.#repo = repo;
    this.#alarms = options.alarms;
    this.#clock = options.clock;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#tuning = { ...DEFAULT_AUDIT_TUNING, ...options.tuning };
    this.#queue = new BoundedQueue(this.#tuning.queueCap);
    const raise = (alarm: AlarmInput): void => this.#raiseAlarm(alarm);
    const clear = (key: string, reason: string): void => this.#clearAlarm(key, reason);
    this.#checkpointSigner = new CheckpointSigner(options.signer, options.logger, raise, clear);
    this.#capacityWatch = new CapacityWatch(() => this.capacity(), raise, clear, options.logger);
  }

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options, new AuditRepository(options.store.db));
    await log.#loadTail();
    // An unclean stop can leave events after the last checkpoint: anchor them now.
    if (log.#tail.sinceCheckpoint > 0) log.#requestCheckpoint();
    await log.#capacityWatch.check();
    const t = log.#tuning;
    const checkpointTickMs = Math.max(250, options.config.checkpointEverySeconds * 500);
    log.#intervals.push(
      setInterval(() => log.#checkpointIfDue(), checkpointTickMs).unref(),
      setInterval(() => void log.#capacityWatch.check(), t.capacityCheckMs).unref(),
      setInterval(() => void log.#purgeOnSchedule(), t.purgeEveryMs).unref(),
    );
    return log;
  }

  record(event: AuditEventInput): void {
    try {
      if (this.#closed) {
        this.#dropped++;
        return;
      }
      const pending = preparePendingEvent(event, isoTime(this.#clock.now()));
      if (this.#queuedBytes + pending.bytes > this.#tuning.queueByteCap || !this.#queue.push(pending)) {
        this.#onOverflow();
        return;
      }
      this.#queuedBytes += pending.bytes;
      this.#flushes.accepted++;
      this.#schedule();
    } catch (err) {
      this.#dropped++;
      this.#logger.error({ err: asError(err) }, 'audit: event could not be queued');
    }
  }

  /** Resolves when every event recorded before the call is stored. */
  flush(): Promise<void> {
    if (this.#flushes.idle) return Promise.resolve();
    if (this.#closed) return Promise.reject(new VigilError('VIGIL_AUDIT_WRITE_FAILED', 'the audit log is closed'));
    const done = this.#flushes.wait();
    if (!this.#failing) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#kick();
    }
    return done;
  }

  health(): AuditHealth {
    const h: AuditHealth = { ok: !this.#failing, queued: this.#queue.length, dropped: this.#dropped };
    if (this.#lastError !== undefined) h.lastError = this.#lastError;
    return h;
  }

  capacity(): Promise<AuditCapacity> {
    return measureCapacity(this.#repo, this.#clock.now(), this.#config);
  }

  /**
   * NVR-5.2.7.1c retention: deletes events older than retentionMonths, up to and including a
   * checkpoint (kept as the anchor of the remaining chain). The only deletion there is.
   */
  async purgeExpired(): Promise<number> {
    const result = await purgeExpiredEvents(this.#repo, this.#clock.now(), this.#config.retentionMonths);
    if (result === undefined || result.count === 0) return 0;
    this.#logger.info({ count: result.count, anchorSeq: result.anchorSeq }, 'audit: expired events purged');
    this.record({
      category: 'audit',
      action: 'audit.purge',
      actor: 'system',
      source: 'local',
      target: 'audit',
      outcome: 'success',
      details: { count: result.count, firstSeq: result.anchorSeq + 1, anchorSeq: result.anchorSeq, cutoff: result.cutoff },
    });
    await this.#capacityWatch.check();
    return result.count;
  }

  /** Stores what is queued (bounded by closeTimeoutMs) and writes a final checkpoint. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const i of this.#intervals) clearInterval(i);
    this.#intervals = [];
    this.#checkpointDue = this.#tail.sinceCheckpoint > 0 || this.#queue.length > 0;
    const deadline = Date.now() + this.#tuning.closeTimeoutMs;
    while (this.#queue.length > 0 || this.#checkpointDue) {
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      const ac = new AbortController();
      await Promise.race([this.#kick(), sleep(left, undefined, { signal: ac.signal }).catch(() => undefined)]);
      ac.abort();
      if (this.#queue.length === 0 && !this.#checkpointDue) break;
      // Not failing: the drain that just ended predates the final checkpoint request; go again.
      if (!this.#failing) continue;
      const pause = Math.min(this.#backoffMs(), deadline - Date.now());
      if (pause > 0) await sleep(pause);
    }
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const lost = this.#queue.clear().length;
    if (lost > 0) {
      this.#dropped += lost;
      this.#logger.error({ lost, lastError: this.#lastError }, 'audit: closing with security events that could not be stored');
    }
    this.#flushes.rejectAll('the audit log closed before the events were stored');
  }

  // ---- writer -------------------------------------------------------------------------------

  async #loadTail(): Promise<void> {
    const last = await this.#repo.lastEvent();
    const checkpoint = await this.#repo.lastCheckpoint();
    // After a purge down to the anchor, or on an empty log, the chain continues from there.
    const tail = last ?? (checkpoint === undefined ? undefined : { seq: checkpoint.seq, hash: checkpoint.hash });
    const lastSeq = tail?.seq ?? 0;
    this.#tail = { lastSeq, lastHash: tail?.hash ?? GENESIS_HASH, sinceCheckpoint: Math.max(0, lastSeq - (checkpoint?.seq ?? 0)) };
    // The time-based checkpoint interval counts from the last checkpoint, or from now.
    this.#lastCheckpointAt = checkpoint === undefined ? this.#clock.now() : Date.parse(checkpoint.ts);
  }

  #schedule(): void {
    if (this.#drainPromise !== undefined || this.#timer !== undefined || this.#closed) return;
    const delay = this.#queue.length >= this.#tuning.batchSize ? 0 : this.#tuning.flushDelayMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#kick();
    }, delay);
  }

  #kick(): Promise<void> {
    this.#drainPromise ??= this.#drain().finally(() => {
      this.#drainPromise = undefined;
      // Events recorded while the last batch was being written, after the loop looked.
      if (!this.#failing && (this.#queue.length > 0 || this.#checkpointDue)) this.#schedule();
    });
    return this.#drainPromise;
  }

  async #drain(): Promise<void> {
    for (;;) {
      const n = Math.min(this.#queue.length, this.#tuning.batchSize);
      if (n === 0 && !this.#checkpointDue) return;
      try {
        if (this.#needsResync) await this.#resync();
        const batch = this.#queue.peek(Math.min(this.#queue.length, this.#tuning.batchSize));
        await this.#writeBatch(batch);
        this.#onWritten(batch);
      } catch (err) {
        this.#onWriteFailed(err);
        return;
      }
    }
  }

  async #writeBatch(batch: readonly PendingEvent[]): Promise<void> {
    const now = this.#clock.now();
    const sign = (seq: number, hash: string): AuditCheckpointRow | undefined => this.#checkpointSigner.sign(seq, hash, now);
    const chained = chainBatch(this.#tail, batch, this.#config.checkpointEveryEvents, sign);
    const { rows, checkpoints, tail } = chained;
    const timeDue = now - this.#lastCheckpointAt >= this.#config.checkpointEverySeconds * 1000;
    if (tail.sinceCheckpoint > 0 && (this.#checkpointDue || timeDue)) {
      const cp = sign(tail.lastSeq, tail.lastHash);
      if (cp !== undefined) {
        checkpoints.push(cp);
        tail.sinceCheckpoint = 0;
      }
    }
    if (rows.length > 0 || checkpoints.length > 0) await this.#repo.append(rows, checkpoints);
    this.#tail = tail;
    if (checkpoints.length > 0) this.#lastCheckpointAt = now;
    // Cleared even when the signer declined: the next batch or tick asks again.
    if (batch.length === 0 || tail.sinceCheckpoint === 0) this.#checkpointDue = false;
  }

  #onWritten(batch: readonly PendingEvent[]): void {
    this.#queue.drop(batch.length);
    for (const e of batch) this.#queuedBytes -= e.bytes;
    this.#flushes.markStored(batch.length);
    if (this.#failing) this.#onRecovered();
    if (this.#droppedUnreported > 0 && this.#queue.length < this.#queue.capacity / 2) {
      const count = this.#droppedUnreported;
      this.#droppedUnreported = 0;
      this.#overflowAlarmed = false;
      this.record({ category: 'audit', action: 'audit.events_dropped', actor: 'system', source: 'local', target: 'audit', outcome: 'failure', details: { count } });
    }
  }

  #onWriteFailed(err: unknown): void {
    this.#failedAttempts++;
    this.#lastError = boundText(asError(err).message, 300);
    this.#needsResync = true;
    if (!this.#failing) {
      this.#failing = true;
      this.#failingSince = this.#clock.now();
      this.#logger.error({ err: asError(err), queued: this.#queue.length }, 'audit: security events cannot be stored; holding them and retrying');
      // NVR-5.2.7.2a / CAM-T-sys-12 / ACS-5.6.1.4: the failure is alarmed. The alarm service's
      // own audit record of this alarm is simply queued here with the rest.
      this.#raiseAlarm({
        type: STORE_FAILED_ALARM,
        severity: 'critical',
        source: AUDIT_ALARM_SOURCE,
        message: `Security events cannot be stored (${this.#lastError}); they are held in memory and retried`,
        details: { queued: this.#queue.length },
      });
    } else if (this.#failedAttempts % 100 === 0) {
      this.#logger.error({ attempts: this.#failedAttempts, queued: this.#queue.length, lastError: this.#lastError }, 'audit: still cannot store security events');
    }
    if (this.#closing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#kick();
    }, this.#backoffMs());
  }

  #backoffMs(): number {
    const exp = Math.min(Math.max(this.#failedAttempts - 1, 0), 20);
    return Math.min(this.#tuning.retryBaseMs * 2 ** exp, this.#tuning.retryMaxMs);
  }

  #onRecovered(): void {
    const outageMs = this.#clock.now() - this.#failingSince;
    const failedAttempts = this.#failedAttempts;
    this.#failing = false;
    this.#failedAttempts = 0;
    this.#logger.info({ outageMs, failedAttempts }, 'audit: security events are stored again');
    this.#clearAlarm(STORE_FAILED_KEY, 'security events are stored again');
    this.record({
      category: 'audit',
      action: 'audit.store_recovered',
      actor: 'system',
      source: 'local',
      target: 'audit',
      outcome: 'success',
      details: { failedAttempts, outageMs, lastError: this.#lastError ?? null },
    });
  }

  /**
   * After a failed write, the store may hold more than we think (a commit whose reply was
   * lost). If its tail is exactly what our queue head would have produced, those events are
   * stored: drop them instead of writing them twice. A tail we cannot explain is alarmed.
   */
  async #resync(): Promise<void> {
    const last = await this.#repo.lastEvent();
    const checkpoint = await this.#repo.lastCheckpoint();
    const dbSeq = last?.seq ?? checkpoint?.seq ?? 0;
    if (dbSeq > this.#tail.lastSeq && last !== undefined) {
      const k = dbSeq - this.#tail.lastSeq;
      const head = this.#queue.peek(k);
      const replay = chainBatch(this.#tail, head, Number.MAX_SAFE_INTEGER, () => undefined);
      if (head.length === k && replay.tail.lastHash === last.hash) {
        this.#tail = replay.tail;
        this.#onWritten(head);
      } else {
        this.#logger.error({ dbSeq, ourSeq: this.#tail.lastSeq }, 'audit: the stored log grew without this writer; continuing from the stored tail');
        this.#raiseAlarm({ type: 'audit.chain_conflict', severity: 'critical', source: AUDIT_ALARM_SOURCE, message: `The security log was appended by another writer (stored seq ${String(dbSeq)})` });
        this.#tail = { ...this.#tail, lastSeq: dbSeq, lastHash: last.hash };
      }
    }
    this.#tail.sinceCheckpoint = Math.max(0, this.#tail.lastSeq - (checkpoint?.seq ?? 0));
    this.#needsResync = false;
  }

  #onOverflow(): void {
    this.#dropped++;
    this.#droppedUnreported++;
    if (this.#overflowAlarmed) return;
    this.#overflowAlarmed = true; // set first: the alarm's own audit record overflows too
    this.#logger.error({ queued: this.#queue.length }, 'audit: event queue full; security events are being dropped');
    this.#raiseAlarm({
      type: 'audit.queue_overflow',
      severity: 'critical',
      source: AUDIT_ALARM_SOURCE,
      message: 'The security event queue is full: events are being dropped',
      details: { queued: this.#queue.length },
    });
  }

  #requestCheckpoint(): void {
    this.#checkpointDue = true;
    this.#schedule();
  }

  #checkpointIfDue(): void {
    if (this.#tail.sinceCheckpoint === 0 || this.#failing) return;
    if (this.#clock.now() - this.#lastCheckpointAt >= this.#config.checkpointEverySeconds * 1000) this.#requestCheckpoint();
  }

  // The alarm sink must not be able to break the writer, whatever it does.
  #raiseAlarm(alarm: AlarmInput): void {
    try {
      this.#alarms.raise(alarm);
    } catch (err) {
      this.#logger.error({ err: asError(err), alarm: alarm.type }, 'audit: alarm could not be raised');
    }
  }

  #clearAlarm(dedupeKey: string, reason: string): void {
    try {
      this.#alarms.clear(dedupeKey, reason);
    } catch (err) {
      this.#logger.error({ err: asError(err), dedupeKey }, 'audit: alarm could not be cleared');
    }
  }

  async #purgeOnSchedule(): Promise<void> {
    try {
      await this.purgeExpired();
    } catch (err) {
      this.#logger.error({ err: asError(err) }, 'audit: retention purge failed');
    }
  }
}
