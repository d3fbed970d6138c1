// All SQL of the security event log. Append, read and the one retention purge: there is no
// update and no other delete (NVR-5.2.7.1b, ACS-5.6.1.11).
import { sql, type Kysely } from 'kysely';
import type { AuditCheckpointsTable, AuditEventsTable, Database } from '../store/schema.ts';

export type AuditEventRow = AuditEventsTable;
export type AuditCheckpointRow = AuditCheckpointsTable;

export interface AuditRowFilter {
  /** Inclusive ISO 8601 lower bound on ts. */
  from?: string | undefined;
  /** Inclusive ISO 8601 upper bound on ts. */
  to?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  category?: string | undefined;
  outcome?: string | undefined;
  /** Continue after this seq in the chosen order (keyset paging). */
  afterSeq?: number | undefined;
  order: 'newest' | 'oldest';
  limit: number;
}

// 11 parameters a row: 500 rows stay far below SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK = 500;

export class AuditRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async lastEvent(): Promise<{ seq: number; hash: string } | undefined> {
    return this.#db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  async lastCheckpoint(): Promise<AuditCheckpointRow | undefined> {
    return this.#db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  /** Appends events and checkpoints atomically: a batch is stored whole or not at all. */
  async append(events: readonly AuditEventRow[], checkpoints: readonly AuditCheckpointRow[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += INSERT_CHUNK) {
        await trx.insertInto('audit_events').values(events.slice(i, i + INSERT_CHUNK)).execute();
      }
      if (checkpoints.length > 0) await trx.insertInto('audit_checkpoints').values([...checkpoints]).execute();
    });
  }

  async eventsAfter(afterSeq: number, limit: number): Promise<AuditEventRow[]> {
    return this.#db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(limit).execute();
  }

  async checkpointsAfter(afterSeq: number, limit: number): Promise<AuditCheckpointRow[]> {
    return this.#db.selectFrom('audit_checkpoints').selectAll().where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(limit).execute();
  }

  async list(filter: AuditRowFilter): Promise<AuditEventRow[]> {
    let q = this.#db.selectFrom('audit_events').selectAll();
    if (filter.from !== undefined) q = q.where('ts', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('ts', '<=', filter.to);
    if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
    if (filter.action !== undefined) q = q.where('action', '=', filter.action);
    if (filter.category !== undefined) q = q.where('category', '=', filter.category);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    const newest = filter.order === 'newest';
    if (filter.afterSeq !== undefined) q = q.where('seq', newest ? '<' : '>', filter.afterSeq);
    return q.orderBy('seq', newest ? 'desc' : 'asc').limit(filter.limit).execute();
  }

  async seqBounds(): Promise<{ first: number; last: number } | undefined> {
    const row = await this.#db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last')])
      .executeTakeFirst();
    if (row === undefined || row.first === null || row.last === null) return undefined;
    return { first: Number(row.first), last: Number(row.last) };
  }

  /** The earliest event (by time) at or after `ts`; uses the ts index. */
  async earliestAtOrAfter(ts: string): Promise<{ seq: number; ts: string } | undefined> {
    return this.#db.selectFrom('audit_events').select(['seq', 'ts']).where('ts', '>=', ts).orderBy('ts', 'asc').limit(1).executeTakeFirst();
  }

  /** The lowest seq whose ts is at or after `ts` (walks seq order from the oldest). */
  async lowestSeqAtOrAfter(ts: string): Promise<number | undefined> {
    const row = await this.#db.selectFrom('audit_events').select('seq').where('ts', '>=', ts).orderBy('seq', 'asc').limit(1).executeTakeFirst();
    return row?.seq;
  }

  async lastCheckpointAtOrBefore(seq: number): Promise<AuditCheckpointRow | undefined> {
    return this.#db.selectFrom('audit_checkpoints').selectAll().where('seq', '<=', seq).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  /** Text characters of the newest `limit` events, to estimate the stored size of an event. */
  async sampleTextChars(limit: number): Promise<{ rows: number; chars: number }> {
    const result = await sql<{ n: number | string | null; chars: number | string | null }>`
      select count(*) as n,
             sum(length(ts) + length(category) + length(action) + length(actor) + length(source) +
                 length(target) + length(outcome) + length(details) + length(prev_hash) + length(hash)) as chars
      from (select * from audit_events order by seq desc limit ${limit}) s`.execute(this.#db);
    const row = result.rows[0];
    return { rows: Number(row?.n ?? 0), chars: Number(row?.chars ?? 0) };
  }

  /**
   * Retention purge, the only delete there is: events up to and including the anchor checkpoint
   * `seq`, and the checkpoints before it. The anchor row is kept: the remaining chain starts
   * from its signed hash.
   */
  async purgeThrough(seq: number): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('audit_events').where('seq', '<=', seq).executeTakeFirst();
      await trx.deleteFrom('audit_checkpoints').where('seq', '<', seq).execute();
      return Number(deleted.numDeletedRows);
    });
  }
}
