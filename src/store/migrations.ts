// Versioned migrations. Each migration is a file in ./migrations named NNN_what.ts, listed here
// in order; Kysely records applied ones in kysely_migration and runs the rest at start-up.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { VigilError } from '../core/errors.ts';
import type { DialectName } from './database.ts';
import type { Database } from './schema.ts';
import * as m001 from './migrations/001_foundation.ts';
import * as m002 from './migrations/002_identity.ts';
import * as m003 from './migrations/003_video.ts';
import * as m004 from './migrations/004_cameras.ts';
import * as m005 from './migrations/005_access.ts';
import * as m006 from './migrations/006_camera.ts';
import * as m007 from './migrations/007_devices.ts';
import * as m008 from './migrations/008_onvif.ts';
import * as m009 from './migrations/009_discovery.ts';
import * as m010 from './migrations/010_door_controllers.ts';
import * as m011 from './migrations/011_webauthn_last_used.ts';
import * as m012 from './migrations/012_edge_pin_verifiers.ts';

export type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

const MIGRATIONS: Readonly<Record<string, DialectMigration>> = {
  '001_foundation': m001,
  '002_identity': m002,
  '003_video': m003,
  '004_cameras': m004,
  '005_access': m005,
  '006_camera': m006,
  '007_devices': m007,
  '008_onvif': m008,
  '009_discovery': m009,
  '010_door_controllers': m010,
  '011_webauthn_last_used': m011,
  '012_edge_pin_verifiers': m012,
};

class ListedMigrations implements MigrationProvider {
  readonly #dialect: DialectName;
  constructor(dialect: DialectName) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(MIGRATIONS)) {
      out[name] = { up: (db) => m.up(db, this.#dialect) };
    }
    return out;
  }
}

export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName): Promise<void> {
  const migrator = new Migrator({ db, provider: new ListedMigrations(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new VigilError('VIGIL_STORE_MIGRATION_FAILED', `database migration ${failed} failed`, { cause: error });
  }
}
