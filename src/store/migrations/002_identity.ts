// 002: identity additions — TOTP replay guard and remembered login sources.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  // NVR-5.4.1.1a: the last TOTP time-step accepted for the user; a code of this step or an
  // earlier one is a replay and is refused.
  await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();

  // CAM-T-priv-2: addresses a user has logged in from, so a login from a new one is flagged.
  await db.schema
    .createTable('login_sources')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('source_ip', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_sources_pk', ['user_id', 'source_ip'])
    .execute();
}
