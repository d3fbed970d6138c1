// 007: devices of the site (controllers, locks, readers) enrolled with the device CA: the registry
// with one row per unique device identity (ACS-5.1.1.11), one-time enrolment tokens kept only as
// SHA-256 hashes, the revocation list checked on every connection (ACS-5.1.1.4), and the events
// each controller forwards, hash-chained per log epoch (ACS-5.4.2.3).
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trust', 'text', (c) => c.notNull())
    .addColumn('cert_serial', 'text', (c) => c.unique())
    .addColumn('cert_not_after', 'bigint')
    // ACS-5.2.1.3: a key presented by two devices is a cloned device; the second is refused.
    .addColumn('public_key_id', 'text', (c) => c.unique())
    .addColumn('measurement', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('enrolled_at', 'bigint')
    .addColumn('last_seen_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('device_enrolment_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('device_enrolment_tokens_device').on('device_enrolment_tokens').column('device_id').execute();
  await db.schema
    .createTable('device_revocations')
    .addColumn('serial', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('device_event_heads')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('device_events')
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('door_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_events_pk', ['device_id', 'epoch', 'seq'])
    .execute();
}
