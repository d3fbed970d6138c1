// SQL for login_sources: the addresses each user has logged in from.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

export class LoginSourcesRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async exists(userId: string, sourceIp: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('login_sources')
      .select('user_id')
      .where('user_id', '=', userId)
      .where('source_ip', '=', sourceIp)
      .executeTakeFirst();
    return row !== undefined;
  }

  async remember(userId: string, sourceIp: string, now: number): Promise<void> {
    await this.#db
      .insertInto('login_sources')
      .values({ user_id: userId, source_ip: sourceIp, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'source_ip']).doUpdateSet({ last_seen_at: now }))
      .execute();
  }

  /** The address of the user's most recent login, if any is remembered. */
  async latest(userId: string): Promise<{ sourceIp: string; at: number } | undefined> {
    const row = await this.#db
      .selectFrom('login_sources')
      .select(['source_ip', 'last_seen_at'])
      .where('user_id', '=', userId)
      .orderBy('last_seen_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { sourceIp: row.source_ip, at: Number(row.last_seen_at) };
  }

  /** Keeps only the `keep` most recently seen addresses of the user. */
  async trimUser(userId: string, keep: number): Promise<void> {
    const kept = this.#db
      .selectFrom('login_sources')
      .select('source_ip')
      .where('user_id', '=', userId)
      .orderBy('last_seen_at', 'desc')
      .orderBy('source_ip')
      .limit(keep);
    await this.#db.deleteFrom('login_sources').where('user_id', '=', userId).where('source_ip', 'not in', kept).execute();
  }
}
