// All SQL of alarms. Rows are upserted by id: the service keeps the current state of each alarm
// and writes it whenever the database takes it (it may be failing: NVR-5.2.7.2a).
import type { Kysely } from 'kysely';
import type { AlarmsTable, Database } from '../store/schema.ts';

export type AlarmRow = AlarmsTable;

export class AlarmRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async upsert(rows: readonly AlarmRow[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx
          .insertInto('alarms')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              state: row.state,
              acknowledged_at: row.acknowledged_at,
              acknowledged_by: row.acknowledged_by,
              ack_comment: row.ack_comment,
              cleared_at: row.cleared_at,
            }),
          )
          .execute();
      }
    });
  }

  async get(id: string): Promise<AlarmRow | undefined> {
    return this.#db.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Alarms not cleared, newest first. */
  async listOpen(limit: number): Promise<AlarmRow[]> {
    return this.#db.selectFrom('alarms').selectAll().where('state', 'in', ['active', 'acknowledged']).orderBy('raised_at', 'desc').limit(limit).execute();
  }

  async findOpenByDedupeKey(dedupeKey: string): Promise<AlarmRow | undefined> {
    return this.#db
      .selectFrom('alarms')
      .selectAll()
      .where('state', 'in', ['active', 'acknowledged'])
      .where('dedupe_key', '=', dedupeKey)
      .orderBy('raised_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async list(filter: { state?: string | undefined; since?: number | undefined; limit: number }): Promise<AlarmRow[]> {
    let q = this.#db.selectFrom('alarms').selectAll();
    if (filter.state !== undefined) q = q.where('state', '=', filter.state);
    if (filter.since !== undefined) q = q.where('raised_at', '>=', filter.since);
    return q.orderBy('raised_at', 'desc').orderBy('id').limit(filter.limit).execute();
  }
}
