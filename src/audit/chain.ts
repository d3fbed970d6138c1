// Chaining a batch of queued events onto the log (seq, prev_hash, hash; canonical.ts) and
// signing checkpoints. No I/O: the writer stores what this returns, in one transaction.
import type { AlarmInput } from '../alarms/types.ts';
import { isoTime } from '../core/clock.ts';
import { asError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AuditCheckpointRow, AuditEventRow } from './audit-repository.ts';
import { checkpointMessage, hashEvent } from './canonical.ts';
import type { PendingEvent } from './pending-event.ts';
import type { AuditSigner } from './types.ts';

export interface ChainTail {
  lastSeq: number;
  lastHash: string;
  /** Events stored since the last checkpoint. */
  sinceCheckpoint: number;
}

export interface ChainedBatch {
  rows: AuditEventRow[];
  checkpoints: AuditCheckpointRow[];
  tail: ChainTail;
}

/**
 * Chains `events` after `tail`; `checkpointAt` is asked for a checkpoint each time
 * `checkpointEvery` events have accumulated (it may decline, e.g. when the signer is down).
 */
export function chainBatch(
  tail: ChainTail,
  events: readonly PendingEvent[],
  checkpointEvery: number,
  checkpointAt: (seq: number, hash: string) => AuditCheckpointRow | undefined,
): ChainedBatch {
  let seq = tail.lastSeq;
  let prev = tail.lastHash;
  let since = tail.sinceCheckpoint;
  const rows: AuditEventRow[] = [];
  const checkpoints: AuditCheckpointRow[] = [];
  for (const e of events) {
    seq++;
    const fields = { seq, ts: e.ts, category: e.category, action: e.action, actor: e.actor, source: e.source, target: e.target, outcome: e.outcome, details: e.details, prev_hash: prev };
    prev = hashEvent(fields);
    rows.push({ ...fields, hash: prev });
    since++;
    if (since >= checkpointEvery) {
      const cp = checkpointAt(seq, prev);
      if (cp !== undefined) {
        checkpoints.push(cp);
        since = 0;
      }
    }
  }
  return { rows, checkpoints, tail: { lastSeq: seq, lastHash: prev, sinceCheckpoint: since } };
}

const SIGNER_RETRY_MS = 5000;

/**
 * Signs checkpoints. A failing signer (an HSM gone away) must not stop events being stored:
 * the checkpoint is skipped, 'audit.checkpoint_failed' is raised once, and signing is retried
 * no more often than every SIGNER_RETRY_MS.
 */
export class CheckpointSigner {
  readonly #signer: AuditSigner;
  readonly #logger: Logger;
  readonly #raise: (alarm: AlarmInput) => void;
  readonly #clear: (dedupeKey: string, reason: string) => void;
  #failedAt: number | undefined;

  constructor(signer: AuditSigner, logger: Logger, raise: (alarm: AlarmInput) => void, clear: (dedupeKey: string, reason: string) => void) {
    this.#signer = signer;
    this.#logger = logger;
    this.#raise = raise;
    this.#clear = clear;
  }

  sign(seq: number, hash: string, now: number): AuditCheckpointRow | undefined {
    if (this.#failedAt !== undefined && now >= this.#failedAt && now - this.#failedAt < SIGNER_RETRY_MS) return undefined;
    const ts = isoTime(now);
    try {
      const signature = this.#signer.sign(checkpointMessage(seq, hash, ts)).toString('base64');
      if (this.#failedAt !== undefined) {
        this.#failedAt = undefined;
        this.#clear('audit.checkpoint_failed|audit', 'checkpoints are signed again');
      }
      return { seq, hash, ts, signature, key_id: this.#signer.keyId };
    } catch (err) {
      if (this.#failedAt === undefined) {
        this.#logger.error({ err: asError(err) }, 'audit: checkpoint signing failed');
        this.#raise({ type: 'audit.checkpoint_failed', severity: 'critical', source: 'audit', message: 'Audit checkpoints cannot be signed' });
      }
      this.#failedAt = now;
      return undefined;
    }
  }
}
