import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { migrateToLatest } from './migrations.ts';

describeOnEachStore('store', (get, dialect) => {
  test('migrations create every foundation table and are idempotent', async () => {
    const { store } = get();
    await migrateToLatest(store.db, store.dialect);
    const tables = await store.db.introspection.getTables();
    const names = tables.map((t) => t.name);
    for (const t of ['users', 'sessions', 'role_grants', 'audit_events', 'audit_checkpoints', 'alarms', 'keys', 'api_tokens']) {
      assert.ok(names.includes(t), `missing table ${t}`);
    }
  });

  test('bigint epoch milliseconds and blobs round-trip as number and Buffer', async () => {
    const { store } = get();
    const at = Date.UTC(2026, 10, 23, 12, 0, 0, 123);
    await store.db.insertInto('keys').values({ purpose: 't', wrapped_dek: Buffer.from([0, 1, 255]), kek_id: 'k', created_at: at }).execute();
    const row = await store.db.selectFrom('keys').selectAll().where('purpose', '=', 't').executeTakeFirstOrThrow();
    assert.equal(row.created_at, at);
    assert.deepEqual(Buffer.from(row.wrapped_dek), Buffer.from([0, 1, 255]));
    await sql`delete from keys`.execute(store.db);
  });

  if (dialect === 'sqlite') {
    test('the SQLite file is private to the service (0600)', () => {
      const { dir } = get();
      assert.equal(statSync(path.join(dir, 'vigil.db')).mode & 0o777, 0o600);
    });
  }
});
