// SQL for webauthn_credentials (public keys only: nothing secret is stored for WebAuthn).
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, WebauthnCredentialsTable } from '../../store/schema.ts';

export type WebauthnCredentialRow = Selectable<WebauthnCredentialsTable>;

export class WebauthnCredentialsRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: Insertable<WebauthnCredentialsTable>): Promise<void> {
    await this.#db.insertInto('webauthn_credentials').values(row).execute();
  }

  async find(id: string): Promise<WebauthnCredentialRow | undefined> {
    return this.#db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listByUser(userId: string): Promise<WebauthnCredentialRow[]> {
    return this.#db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  }

  async countByUser(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('webauthn_credentials')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Moves the signature counter from `from` to `to` and records the use; false if another
   * request moved it first.
   */
  async advanceCounter(id: string, from: number, to: number, usedAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('webauthn_credentials')
      .set({ counter: to, last_used_at: usedAt })
      .where('id', '=', id)
      .where('counter', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Deletes one credential unless `refuse(remaining)` says the user would be left with too few:
   * then nothing is deleted and 'kept' is answered. The user's row is locked first (an update
   * takes the row lock in PostgreSQL and the write lock in SQLite), so two removals at once
   * cannot both see the other's credential still there.
   */
  async deleteUnless(userId: string, id: string, refuse: (remaining: number) => boolean, at: number): Promise<'deleted' | 'missing' | 'kept'> {
    return this.#db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ updated_at: at }).where('id', '=', userId).execute();
      const rows = await tx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', userId).execute();
      if (!rows.some((r) => r.id === id)) return 'missing';
      if (refuse(rows.length - 1)) return 'kept';
      await tx.deleteFrom('webauthn_credentials').where('user_id', '=', userId).where('id', '=', id).execute();
      return 'deleted';
    });
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
