// Runs a repository/service suite on both database engines (testing.md, "medium" tests):
// SQLite in a temp dir and a fresh PostgreSQL database on 127.0.0.1:5432 (trust auth).
// PostgreSQL not answering is a failure, never a skip: .ci/run makes sure it is running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, after, before } from 'node:test';
import pg from 'pg';
import { openStore, type DialectName, type Store } from '../../src/store/database.ts';

export const POSTGRES_ADMIN_URL = process.env['VIGIL_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore {
  store: Store;
  /** Directory owned by this test store (the SQLite file lives here). */
  dir: string;
  dispose(): Promise<void>;
}

export async function createTestStore(dialect: DialectName): Promise<TestStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-store-'));
  if (dialect === 'sqlite') {
    const store = await openStore({ driver: 'sqlite', file: path.join(dir, 'vigil.db') });
    return { store, dir, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const name = `vigil_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openStore({ driver: 'postgres', url: url.toString(), maxConnections: 4 });
  return {
    store,
    dir,
    dispose: async () => {
      await store.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL} (${(err as Error).message}); ` +
        'install and start it (apt-get install postgresql; .ci/run does this)',
    );
  }
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Declares `suite` once per engine. `get()` returns the live store inside tests; a fresh
 * database is made per engine for the whole suite.
 */
export function describeOnEachStore(title: string, suite: (get: () => TestStore, dialect: DialectName) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${dialect}]`, () => {
      let current: TestStore | undefined;
      before(async () => {
        current = await createTestStore(dialect);
      });
      after(async () => {
        await current?.dispose();
      });
      suite(() => {
        if (current === undefined) throw new Error('test store not ready');
        return current;
      }, dialect);
    });
  }
}
