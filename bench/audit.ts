// Benchmark of the security event log writer on a temp SQLite store: Vigil's AuditLog (bounded
// queue, hash chain, Ed25519 checkpoints every 1000 events, 1000-event transactions) against a
// peer doing plain batched Kysely inserts of the same rows (same batch and chunk sizes) without
// hashing or signing. The ratio is the figure to quote (testing.md, "Benchmarks").
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../src/audit/audit-log.ts';
import type { AuditEventInput } from '../src/audit/types.ts';
import type { AlarmSink } from '../src/alarms/types.ts';
import { isoTime, systemClock } from '../src/core/clock.ts';
import { createLogger } from '../src/core/logger.ts';
import { openStore, type Store } from '../src/store/database.ts';
import type { AuditEventsTable } from '../src/store/schema.ts';

const EVENTS = 50_000;
const BATCH = 1000;
const CHUNK = 500;

function inputs(n: number): AuditEventInput[] {
  const out: AuditEventInput[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      category: 'auth',
      action: i % 3 === 0 ? 'auth.login' : 'video.playback',
      actor: `user:operator${String(i % 50)}`,
      source: `192.0.2.${String(i % 250)}`,
      target: `camera:${String(i % 64)}`,
      outcome: i % 10 === 0 ? 'failure' : 'success',
      details: { sessionAgeSeconds: i % 900, method: 'password', mfa: true },
    });
  }
  return out;
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-audit-'));
  const store = await openStore({ driver: 'sqlite', file: path.join(dir, 'bench.db') });
  try {
    return await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function vigil(events: readonly AuditEventInput[]): Promise<number> {
  return withStore(async (store) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = { keyId: 'bench', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), sign: (d: Uint8Array) => sign(null, d, privateKey) };
    const alarms: AlarmSink = { raise: () => undefined, clear: () => undefined };
    const config = { retentionMonths: 12, capacityEvents: 50_000_000, checkpointEveryEvents: 1000, checkpointEverySeconds: 60 };
    const log = await AuditLog.open({ store, signer, alarms, clock: systemClock, config, logger: createLogger({ level: 'silent' }), tuning: { batchSize: BATCH } });
    const t0 = performance.now();
    for (const e of events) log.record(e);
    await log.flush();
    const seconds = (performance.now() - t0) / 1000;
    await log.close();
    return events.length / seconds;
  });
}

async function peer(events: readonly AuditEventInput[]): Promise<number> {
  return withStore(async (store) => {
    const t0 = performance.now();
    for (let b = 0; b < events.length; b += BATCH) {
      const rows: AuditEventsTable[] = events.slice(b, b + BATCH).map((e, i) => ({
        seq: b + i + 1,
        ts: isoTime(Date.now()),
        category: e.category,
        action: e.action,
        actor: e.actor,
        source: e.source,
        target: e.target,
        outcome: e.outcome,
        details: JSON.stringify(e.details ?? {}),
        prev_hash: '0'.repeat(64),
        hash: 'f'.repeat(64),
      }));
      await store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('audit_events').values(rows.slice(i, i + CHUNK)).execute();
      });
    }
    return events.length / ((performance.now() - t0) / 1000);
  });
}

export async function run(): Promise<Record<string, number>> {
  const events = inputs(EVENTS);
  await vigil(events.slice(0, 5000)); // warm-up (JIT, page cache)
  await peer(events.slice(0, 5000));
  const vigilEventsPerSec = Math.round(await vigil(events));
  const peerEventsPerSec = Math.round(await peer(events));
  return { vigilEventsPerSec, peerEventsPerSec, ratio: Math.round((vigilEventsPerSec / peerEventsPerSec) * 100) / 100 };
}

if (import.meta.main) {
  console.log(JSON.stringify(await run()));
}
