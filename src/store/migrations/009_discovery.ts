// 009: network discovery toggles (NVR-5.3.2.1a, CAM-5.3.2.2, CAM-T-com-2). One row per protocol
// once an administrator has changed it; no row means off, so a fresh install answers nothing.
// The SNMPv3 USM user's passphrases are kept sealed by the keyring (NVR-5.2.4.1a), never in clear.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';
import { blobType } from '../columns.ts';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('discovery_protocols')
    .addColumn('protocol', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('snmp_users')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('auth_protocol', 'text', (c) => c.notNull())
    .addColumn('priv_protocol', 'text', (c) => c.notNull())
    .addColumn('sealed_passphrases', blobType(dialect), (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
