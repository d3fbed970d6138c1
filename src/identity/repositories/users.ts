// SQL for the users table. No rules here: the services decide, this stores.
import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Database, UsersTable } from '../../store/schema.ts';

export type UserRow = Selectable<UsersTable>;

export class UsersRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: Insertable<UsersTable>): Promise<void> {
    await this.#db.insertInto('users').values(row).execute();
  }

  async findById(id: string): Promise<UserRow | undefined> {
    return this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    return this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async list(limit: number, offset: number): Promise<UserRow[]> {
    return this.#db.selectFrom('users').selectAll().orderBy('username').limit(limit).offset(offset).execute();
  }

  async count(): Promise<number> {
    const row = await this.#db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async update(id: string, patch: Updateable<UsersTable>): Promise<boolean> {
    const result = await this.#db.updateTable('users').set(patch).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Adds one failure in a single statement (concurrent failures all count): the count restarts
   * at 1 when the previous failure is older than `windowStart`. Returns the new count.
   */
  async addFailedLogin(id: string, now: number, windowStart: number): Promise<number> {
    const row = await this.#db
      .updateTable('users')
      .set({
        failed_logins: sql<number>`case when last_failed_at is not null and last_failed_at >= ${windowStart} then failed_logins + 1 else 1 end`,
        last_failed_at: now,
      })
      .where('id', '=', id)
      .returning('failed_logins')
      .executeTakeFirst();
    return row?.failed_logins ?? 0;
  }

  async lock(id: string, until: number): Promise<void> {
    await this.#db.updateTable('users').set({ locked_until: until, failed_logins: 0 }).where('id', '=', id).execute();
  }

  async clearFailedLogins(id: string): Promise<void> {
    await this.#db.updateTable('users').set({ failed_logins: 0, last_failed_at: null, locked_until: null }).where('id', '=', id).execute();
  }

  /** Records `step` as used unless it, or a later step, already was. True when recorded. */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
