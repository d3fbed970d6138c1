// SQL for sessions. Rows are keyed by the SHA-256 of the token; the token is never stored.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable } from '../../store/schema.ts';

export type SessionRow = Selectable<SessionsTable>;

export class SessionsRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: Insertable<SessionsTable>): Promise<void> {
    await this.#db.insertInto('sessions').values(row).execute();
  }

  async find(idHash: string): Promise<SessionRow | undefined> {
    return this.#db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  async touch(idHash: string, now: number): Promise<void> {
    await this.#db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  }

  async setCsrfHash(idHash: string, csrfHash: string): Promise<void> {
    await this.#db.updateTable('sessions').set({ csrf_hash: csrfHash }).where('id_hash', '=', idHash).execute();
  }

  async markMfaPassed(idHash: string): Promise<void> {
    await this.#db.updateTable('sessions').set({ mfa_passed: 1 }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteOfUser(userId: string, idHash: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('sessions').where('user_id', '=', userId).where('id_hash', '=', idHash).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listByUser(userId: string): Promise<SessionRow[]> {
    return this.#db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  }

  /** Keeps only the `keep` newest sessions of the user. */
  async trimUser(userId: string, keep: number): Promise<void> {
    const kept = this.#db
      .selectFrom('sessions')
      .select('id_hash')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id_hash')
      .limit(keep);
    await this.#db.deleteFrom('sessions').where('user_id', '=', userId).where('id_hash', 'not in', kept).execute();
  }

  /** Deletes sessions past their absolute end or idle since before `idleSince`. */
  async deleteExpired(now: number, idleSince: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleSince)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
