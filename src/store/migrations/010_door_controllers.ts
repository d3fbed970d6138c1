// 010: which enrolled door controller drives a door (issue #6). The platform compiles each
// controller's credential set from the doors assigned to it; a door has at most one controller.
// The controller is the device registry's device ID (007), so a revoked device keeps its rows
// but gets nothing from the sync listener.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('access_door_controllers')
    .addColumn('door_id', 'text', (c) => c.primaryKey().references('access_doors.id'))
    .addColumn('controller_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('assigned_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_door_controllers_controller').on('access_door_controllers').column('controller_id').execute();
}
