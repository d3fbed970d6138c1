// SQL for api_tokens. Only the SHA-256 of a token's secret is stored.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ApiTokensTable, Database } from '../../store/schema.ts';

export type ApiTokenRow = Selectable<ApiTokensTable>;

export class ApiTokensRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: Insertable<ApiTokensTable>): Promise<void> {
    await this.#db.insertInto('api_tokens').values(row).execute();
  }

  async find(id: string): Promise<ApiTokenRow | undefined> {
    return this.#db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listByUser(userId: string): Promise<ApiTokenRow[]> {
    return this.#db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  }

  async countActiveByUser(userId: string, now: number): Promise<number> {
    const row = await this.#db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('revoked', '=', 0)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async revoke(userId: string, id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('api_tokens')
      .set({ revoked: 1 })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('revoked', '=', 0)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeAllOfUser(userId: string): Promise<number> {
    const result = await this.#db.updateTable('api_tokens').set({ revoked: 1 }).where('user_id', '=', userId).where('revoked', '=', 0).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.#db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }
}
