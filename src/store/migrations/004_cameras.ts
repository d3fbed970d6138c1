// 004: cameras the recorder records. Credentials are stored sealed by the keyring, never in
// clear and never returned (NVR-5.2.4.1a).
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';
import { blobType } from '../columns.ts';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('cameras')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('sealed_credentials', blobType(dialect))
    .addColumn('tls_fingerprint256', 'text')
    .addColumn('tls_ca_pem', 'text')
    .addColumn('recording_mode', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text', (c) => c.notNull())
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
