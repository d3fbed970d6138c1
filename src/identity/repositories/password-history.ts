// SQL for password_history: every password hash a user has had, newest first.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

let sequence = 0;

/**
 * Row ids sort in insertion order within one millisecond (time, then a process counter), so
 * "newest first" is exact even when two passwords are set in the same millisecond.
 */
function orderedId(createdAt: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(createdAt).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomUUID()}`;
}

export class PasswordHistoryRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: { userId: string; passwordHash: string; createdAt: number }): Promise<void> {
    await this.#db
      .insertInto('password_history')
      .values({ id: orderedId(row.createdAt), user_id: row.userId, password_hash: row.passwordHash, created_at: row.createdAt })
      .execute();
  }

  /** The `count` most recent hashes, newest first. */
  async recent(userId: string, count: number): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('password_history')
      .select('password_hash')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(count)
      .execute();
    return rows.map((r) => r.password_hash);
  }

  /** Deletes all but the `keep` most recent rows of the user. */
  async prune(userId: string, keep: number): Promise<void> {
    const kept = this.#db
      .selectFrom('password_history')
      .select('id')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(keep);
    await this.#db.deleteFrom('password_history').where('user_id', '=', userId).where('id', 'not in', kept).execute();
  }
}
