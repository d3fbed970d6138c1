// The database: Kysely over better-sqlite3 (embedded default) or pg (PostgreSQL, scale-out).
// Repositories only see `Store.db` (a typed Kysely) and `Store.dialect`; nothing else in the
// product knows which engine is underneath.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { VigilError } from '../core/errors.ts';
import type { Database } from './schema.ts';
import { migrateToLatest } from './migrations.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  close(): Promise<void>;
}

export type StoreOptions =
  | { driver: 'sqlite'; file: string }
  | { driver: 'postgres'; url: string; maxConnections?: number };

// int8 (bigint) columns hold epoch milliseconds and sequence numbers: well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.driver === 'sqlite' ? openSqlite(options.file) : openPostgres(options.url, options.maxConnections ?? 10);
  try {
    await migrateToLatest(store.db, store.dialect);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function openSqlite(file: string): Store {
  try {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it: the catalog is nobody else's business.
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    }
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { db, dialect: 'sqlite', close: () => db.destroy() };
  } catch (err) {
    throw new VigilError('VIGIL_STORE_UNAVAILABLE', `cannot open SQLite database ${file}`, { cause: err });
  }
}

function openPostgres(url: string, max: number): Store {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client losing its connection (server restart, network) must not kill the process;
  // the next query gets a fresh connection or a coded error.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Liveness probe used by health checks and start-up. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
