// Offline-style verification of the stored security event log (NVR-5.2.7.1b: tamper →
// detected; ACS-5.6.1.11). Streams events and checkpoints in seq order, a page at a time, and
// names the row of every problem:
// - hash-mismatch: a row's fields do not hash to its stored hash (an edited field);
// - reordered: a row holds, intact, the event of another seq (rows swapped);
// - missing: a gap in seq (a deleted row);
// - chain-break: a row's prev_hash is not the previous row's hash;
// - checkpoint-signature: a checkpoint whose Ed25519 signature does not verify;
// - checkpoint-mismatch: a validly signed checkpoint whose hash differs from the stored event,
//   which catches an edit followed by recomputing every later hash;
// - truncated: a checkpoint beyond the last event (tail deleted), or a log whose first event
//   is not seq 1 and is not anchored by a signed checkpoint at first seq − 1 (head deleted).
import type { Store } from '../store/database.ts';
import { AuditRepository, type AuditCheckpointRow, type AuditEventRow } from './audit-repository.ts';
import { GENESIS_HASH, checkpointMessage, hashEvent, verifyEd25519 } from './canonical.ts';

export type AuditProblemKind = 'hash-mismatch' | 'chain-break' | 'missing' | 'reordered' | 'checkpoint-signature' | 'checkpoint-mismatch' | 'truncated';

export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  checkedEvents: number;
  checkedCheckpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  problems: AuditProblem[];
  /** Problems beyond MAX_PROBLEMS, counted but not listed. */
  problemsOmitted: number;
}

export const MAX_PROBLEMS = 1000;
const PAGE_SIZE = 1000;
/** How far away a reordered row's own seq is looked for. */
const REORDER_WINDOW = 16;

async function* paged<T extends { seq: number }>(fetch: (after: number, limit: number) => Promise<T[]>): AsyncGenerator<T> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await fetch(after, PAGE_SIZE);
    yield* page;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE_SIZE) return;
    after = last.seq;
  }
}

class ProblemList {
  readonly items: AuditProblem[] = [];
  omitted = 0;
  add(seq: number, kind: AuditProblemKind, message: string): void {
    if (this.items.length < MAX_PROBLEMS) this.items.push({ seq, kind, message });
    else this.omitted++;
  }
}

/** The seq whose hash this row's content produces, when it is not the row's own (a swap). */
function originalSeqOf(row: AuditEventRow): number | undefined {
  for (let d = 1; d <= REORDER_WINDOW; d++) {
    for (const seq of [row.seq + d, row.seq - d]) {
      if (seq >= 1 && hashEvent({ ...row, seq }) === row.hash) return seq;
    }
  }
  return undefined;
}

export async function verifyAuditChain(options: { store: Store; publicKeyPem: string }): Promise<AuditVerification> {
  const repo = new AuditRepository(options.store.db);
  const problems = new ProblemList();
  const checkpoints = paged((after, limit) => repo.checkpointsAfter(after, limit));
  let checkedCheckpoints = 0;
  const nextCheckpoint = async (): Promise<AuditCheckpointRow | undefined> => {
    const r = await checkpoints.next();
    if (r.done === true) return undefined;
    checkedCheckpoints++;
    return r.value;
  };
  const signatureOk = (c: AuditCheckpointRow): boolean => {
    if (verifyEd25519(options.publicKeyPem, checkpointMessage(c.seq, c.hash, c.ts), c.signature)) return true;
    problems.add(c.seq, 'checkpoint-signature', `checkpoint at seq ${String(c.seq)} has no valid signature (key ${c.key_id})`);
    return false;
  };

  let ck = await nextCheckpoint();
  let anchor: AuditCheckpointRow | undefined;
  let lastCheckpointSeq = 0;
  let prev: { seq: number; hash: string; reordered: boolean } | undefined;
  let firstSeq: number | null = null;
  let checkedEvents = 0;

  for await (const row of paged((after, limit) => repo.eventsAfter(after, limit))) {
    // Checkpoints before this row: the anchor of the first row, or ones inside a reported gap.
    while (ck !== undefined && ck.seq < row.seq) {
      const ok = signatureOk(ck);
      if (prev === undefined && ck.seq === row.seq - 1 && ok) anchor = ck;
      lastCheckpointSeq = ck.seq;
      ck = await nextCheckpoint();
    }
    checkedEvents++;
    firstSeq ??= row.seq;

    let reordered = false;
    if (hashEvent(row) !== row.hash) {
      const original = originalSeqOf(row);
      reordered = original !== undefined;
      if (original !== undefined) problems.add(row.seq, 'reordered', `row at seq ${String(row.seq)} holds the event of seq ${String(original)}`);
      else problems.add(row.seq, 'hash-mismatch', `event at seq ${String(row.seq)} does not match its hash: a field was changed`);
    }

    if (prev === undefined) {
      if (row.seq === 1) {
        if (row.prev_hash !== GENESIS_HASH && !reordered) problems.add(row.seq, 'chain-break', 'the first event does not start from the genesis hash');
      } else if (anchor === undefined) {
        problems.add(row.seq, 'truncated', `the log starts at seq ${String(row.seq)} without a signed checkpoint at seq ${String(row.seq - 1)}: earlier events were removed`);
      } else if (anchor.hash !== row.prev_hash && !reordered) {
        problems.add(row.seq, 'chain-break', `event at seq ${String(row.seq)} does not continue the anchor checkpoint at seq ${String(anchor.seq)}`);
      }
    } else if (row.seq > prev.seq + 1) {
      const range = row.seq - 1 === prev.seq + 1 ? String(prev.seq + 1) : `${String(prev.seq + 1)}–${String(row.seq - 1)}`;
      problems.add(prev.seq + 1, 'missing', `event(s) at seq ${range} are missing`);
    } else if (row.prev_hash !== prev.hash && !reordered && !prev.reordered) {
      problems.add(row.seq, 'chain-break', `event at seq ${String(row.seq)} does not link to the event at seq ${String(prev.seq)}`);
    }

    if (ck !== undefined && ck.seq === row.seq) {
      if (signatureOk(ck) && ck.hash !== row.hash) {
        problems.add(
          ck.seq,
          'checkpoint-mismatch',
          `signed checkpoint at seq ${String(ck.seq)} does not match the stored chain: events after seq ${String(lastCheckpointSeq)} up to ${String(ck.seq)} were rewritten`,
        );
      }
      lastCheckpointSeq = ck.seq;
      ck = await nextCheckpoint();
    }
    prev = { seq: row.seq, hash: row.hash, reordered };
  }

  // Checkpoints past the last event: the tail was deleted.
  let beyond: AuditCheckpointRow | undefined;
  let beyondCount = 0;
  while (ck !== undefined) {
    signatureOk(ck);
    if (prev === undefined || ck.seq > prev.seq) {
      beyond ??= ck;
      beyondCount++;
    }
    ck = await nextCheckpoint();
  }
  if (beyond !== undefined) {
    const end = prev === undefined ? 'the log is empty' : `the log ends at seq ${String(prev.seq)}`;
    problems.add(beyond.seq, 'truncated', `a signed checkpoint covers seq ${String(beyond.seq)} but ${end}: events were removed from the end (${String(beyondCount)} checkpoint(s) beyond)`);
  }

  return {
    ok: problems.items.length === 0 && problems.omitted === 0,
    checkedEvents,
    checkedCheckpoints,
    firstSeq,
    lastSeq: prev?.seq ?? null,
    problems: problems.items,
    problemsOmitted: problems.omitted,
  };
}
