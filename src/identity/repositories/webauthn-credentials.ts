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

  /** Moves the signature counter from `from` to `to`; false if another request moved it first. */
  async advanceCounter(id: string, from: number, to: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('webauthn_credentials')
      .set({ counter: to })
      .where('id', '=', id)
      .where('counter', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
