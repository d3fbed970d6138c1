// 005: the access-control platform (design.md §6): sites, areas, doors, schedules with holidays,
// cardholders, credentials (PINs only as keyed HMAC-SHA256, never in clear: ACS-5.3.1.2,
// NVR-5.2.4.1a), access levels and their assignment, anti-passback presence, and the access
// event log (ACS-5.6.1.1: ISO 8601 time, source, category, type, event ID, outcome).
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('access_sites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('lockdown', 'integer', (c) => c.notNull())
    .addColumn('lockdown_changed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('access_areas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('site_id', 'text', (c) => c.notNull().references('access_sites.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('anti_passback', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('access_areas_site_name', ['site_id', 'name'])
    .execute();
  await db.schema
    .createTable('access_schedules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('intervals', 'text', (c) => c.notNull())
    .addColumn('holidays', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('access_doors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('site_id', 'text', (c) => c.notNull().references('access_sites.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('area_from', 'text', (c) => c.references('access_areas.id'))
    .addColumn('area_to', 'text', (c) => c.references('access_areas.id'))
    .addColumn('lock_output', 'integer', (c) => c.notNull())
    .addColumn('door_position_input', 'integer')
    .addColumn('rex_input', 'integer')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('unlock_seconds', 'integer', (c) => c.notNull())
    .addColumn('held_open_seconds', 'integer', (c) => c.notNull())
    .addColumn('interlock_group', 'text')
    .addColumn('unlock_schedule_id', 'text', (c) => c.references('access_schedules.id'))
    .addColumn('first_person_in', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('access_doors_site_name', ['site_id', 'name'])
    .execute();
  await db.schema
    .createTable('access_cardholders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'bigint')
    .addColumn('valid_until', 'bigint')
    .addColumn('lockdown_override', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('access_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cardholder_id', 'text', (c) => c.notNull().references('access_cardholders.id'))
    .addColumn('card_format', 'text', (c) => c.notNull())
    .addColumn('card_number', 'text', (c) => c.notNull())
    .addColumn('pin_hash', 'text')
    .addColumn('duress_pin_hash', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'bigint')
    .addColumn('valid_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('access_credentials_card', ['card_format', 'card_number'])
    .execute();
  await db.schema.createIndex('access_credentials_holder').on('access_credentials').column('cardholder_id').execute();
  await db.schema
    .createTable('access_levels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('schedule_id', 'text', (c) => c.notNull().references('access_schedules.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('access_level_doors')
    .addColumn('level_id', 'text', (c) => c.notNull().references('access_levels.id'))
    .addColumn('door_id', 'text', (c) => c.notNull().references('access_doors.id'))
    .addPrimaryKeyConstraint('access_level_doors_pk', ['level_id', 'door_id'])
    .execute();
  await db.schema.createIndex('access_level_doors_door').on('access_level_doors').column('door_id').execute();
  await db.schema
    .createTable('access_cardholder_levels')
    .addColumn('cardholder_id', 'text', (c) => c.notNull().references('access_cardholders.id'))
    .addColumn('level_id', 'text', (c) => c.notNull().references('access_levels.id'))
    .addPrimaryKeyConstraint('access_cardholder_levels_pk', ['cardholder_id', 'level_id'])
    .execute();
  await db.schema.createIndex('access_cardholder_levels_level').on('access_cardholder_levels').column('level_id').execute();
  await db.schema
    .createTable('access_presence')
    .addColumn('cardholder_id', 'text', (c) => c.primaryKey().references('access_cardholders.id'))
    .addColumn('site_id', 'text', (c) => c.notNull())
    .addColumn('area_id', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('access_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('site_id', 'text')
    .addColumn('door_id', 'text')
    .addColumn('cardholder_id', 'text')
    .addColumn('credential_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_events_time').on('access_events').column('at').execute();
  await db.schema.createIndex('access_events_door_time').on('access_events').columns(['door_id', 'at']).execute();
}
