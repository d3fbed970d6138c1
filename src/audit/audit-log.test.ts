// Medium tests of the security event log on SQLite and PostgreSQL: chain, checkpoints, tamper
// detection (NVR-5.2.7.1b, ACS-5.6.1.11), redaction (ACS-5.6.1.8), retention and capacity
// (NVR-5.2.7.1c, ACS-5.6.1.13).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { ManualClock } from '../core/clock.ts';
import type { Store } from '../store/database.ts';
import { AuditLog, type AuditLogTuning } from './audit-log.ts';
import { hashEvent } from './canonical.ts';
import { verifyAuditChain, type AuditVerification } from './verify.ts';
import { RecordingAlarmSink, auditConfig, createTestSigner, resetAuditTables, silentLogger, testEvent } from './test-doubles.ts';
import type { Config } from '../core/config.ts';

const signer = createTestSigner();

async function openLog(store: Store, opts: { clock?: ManualClock; alarms?: RecordingAlarmSink; config?: Partial<Config['audit']>; tuning?: Partial<AuditLogTuning> } = {}): Promise<AuditLog> {
  return AuditLog.open({
    store,
    signer,
    alarms: opts.alarms ?? new RecordingAlarmSink(),
    clock: opts.clock ?? new ManualClock(),
    config: auditConfig(opts.config),
    logger: silentLogger(),
    ...(opts.tuning === undefined ? {} : { tuning: opts.tuning }),
  });
}

async function writeEvents(store: Store, n: number): Promise<void> {
  const log = await openLog(store);
  for (let i = 1; i <= n; i++) log.record(testEvent(i));
  await log.flush();
  await log.close();
}

function kinds(v: AuditVerification): string[] {
  return v.problems.map((p) => `${p.kind}@${String(p.seq)}`);
}

const verify = (store: Store): Promise<AuditVerification> => verifyAuditChain({ store, publicKeyPem: signer.publicKeyPem });

/** What an attacker with database access does: edit one row and recompute every later hash. */
async function rewriteChainFrom(store: Store, seq: number, actor: string): Promise<void> {
  const before = await store.db.selectFrom('audit_events').select('hash').where('seq', '=', seq - 1).executeTakeFirstOrThrow();
  const rows = await store.db.selectFrom('audit_events').selectAll().where('seq', '>=', seq).orderBy('seq').execute();
  let prev = before.hash;
  for (const r of rows) {
    const edited = { ...r, actor: r.seq === seq ? actor : r.actor, prev_hash: prev };
    const hash = hashEvent(edited);
    await store.db.updateTable('audit_events').set({ actor: edited.actor, prev_hash: prev, hash }).where('seq', '=', r.seq).execute();
    prev = hash;
  }
}

describeOnEachStore('audit log chain', (get) => {
  beforeEach(async () => {
    await resetAuditTables(get().store);
  });

  test('NVR-5.2.7.1a: 50 events are chained, checkpointed every 10 and verify', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    const v = await verify(store);
    assert.deepEqual(kinds(v), []);
    assert.equal(v.ok, true);
    assert.equal(v.checkedEvents, 50);
    assert.equal(v.firstSeq, 1);
    assert.equal(v.lastSeq, 50);
    const cps = await store.db.selectFrom('audit_checkpoints').select('seq').orderBy('seq').execute();
    assert.deepEqual(cps.map((c) => c.seq), [10, 20, 30, 40, 50]);
    const first = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 1).executeTakeFirstOrThrow();
    assert.equal(first.prev_hash, '0'.repeat(64));
    assert.match(first.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(first.details, '{"i":1,"method":"password"}');
  });

  test('NVR-5.2.7.1b: an edited actor is named by seq (hash-mismatch)', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    await store.db.updateTable('audit_events').set({ actor: 'user:mallory' }).where('seq', '=', 17).execute();
    const v = await verify(store);
    assert.equal(v.ok, false);
    assert.deepEqual(kinds(v), ['hash-mismatch@17']);
  });

  test('NVR-5.2.7.1b: a deleted middle row is named (missing)', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    await store.db.deleteFrom('audit_events').where('seq', '=', 25).execute();
    const v = await verify(store);
    assert.equal(v.ok, false);
    assert.deepEqual(kinds(v), ['missing@25']);
  });

  test('NVR-5.2.7.1b: two swapped rows are named (reordered)', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    const a = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 33).executeTakeFirstOrThrow();
    const b = await store.db.selectFrom('audit_events').selectAll().where('seq', '=', 34).executeTakeFirstOrThrow();
    const { seq: _sa, ...contentA } = a;
    const { seq: _sb, ...contentB } = b;
    await store.db.updateTable('audit_events').set(contentB).where('seq', '=', 33).execute();
    await store.db.updateTable('audit_events').set(contentA).where('seq', '=', 34).execute();
    const v = await verify(store);
    assert.equal(v.ok, false);
    assert.deepEqual(kinds(v), ['reordered@33', 'reordered@34']);
    assert.match(v.problems[0]?.message ?? '', /seq 34/);
  });

  test('NVR-5.2.7.1b: an edit with every later hash recomputed is caught by the signed checkpoint', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    await rewriteChainFrom(store, 12, 'user:mallory');
    const v = await verify(store);
    assert.equal(v.ok, false);
    // No row-level problem: the attacker made the chain self-consistent...
    assert.ok(!v.problems.some((p) => p.kind === 'hash-mismatch' || p.kind === 'chain-break'));
    // ...but the signed checkpoints no longer match, starting with the one covering seq 12.
    assert.equal(v.problems[0]?.kind, 'checkpoint-mismatch');
    assert.equal(v.problems[0]?.seq, 20);
    assert.match(v.problems[0]?.message ?? '', /after seq 10 up to 20/);
  });

  test('NVR-5.2.7.1b: a forged checkpoint signature is named (checkpoint-signature)', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    const forger = createTestSigner();
    const cp = await store.db.selectFrom('audit_checkpoints').selectAll().where('seq', '=', 30).executeTakeFirstOrThrow();
    const forged = forger.sign(Buffer.from(`vigil-audit-checkpoint\n30\n${cp.hash}\n${cp.ts}`)).toString('base64');
    await store.db.updateTable('audit_checkpoints').set({ signature: forged }).where('seq', '=', 30).execute();
    const v = await verify(store);
    assert.deepEqual(kinds(v), ['checkpoint-signature@30']);
  });

  test('NVR-5.2.7.1b: deleting the tail after a checkpoint is detected (truncated)', async () => {
    const { store } = get();
    await writeEvents(store, 50);
    await store.db.deleteFrom('audit_events').where('seq', '>', 44).execute();
    const v = await verify(store);
    assert.equal(v.lastSeq, 44);
    assert.deepEqual(kinds(v), ['truncated@50']);
  });

  test('deleting the head without an anchor is detected (truncated)', async () => {
    const { store } = get();
    await writeEvents(store, 30);
    await store.db.deleteFrom('audit_events').where('seq', '<=', 5).execute();
    const v = await verify(store);
    assert.deepEqual(kinds(v), ['truncated@6']);
  });

  test('ACS-5.6.1.8: secret-looking detail values never reach the store', async () => {
    const { store } = get();
    const log = await openLog(store);
    log.record(testEvent(1, { details: { password: 'Hunter2-Hunter2', sessionToken: 'tok-abc', user: 'alice' } }));
    log.record(testEvent(2, { actor: 'x'.repeat(10_000) }));
    await log.flush();
    await log.close();
    const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    assert.equal(rows[0]?.details, '{"password":"[redacted]","sessionToken":"[redacted]","user":"alice"}');
    assert.ok(!JSON.stringify(rows).includes('Hunter2'));
    assert.ok(!JSON.stringify(rows).includes('tok-abc'));
    assert.equal(rows[1]?.actor.length, 512);
    assert.equal((await verify(store)).ok, true);
  });

  test('reopening continues the chain; a checkpoint is written every checkpointEverySeconds and on close', async () => {
    const { store } = get();
    const clock = new ManualClock();
    const config = { checkpointEveryEvents: 1000, checkpointEverySeconds: 60 };
    let log = await openLog(store, { clock, config });
    for (let i = 1; i <= 3; i++) log.record(testEvent(i));
    await log.flush();
    assert.deepEqual(await store.db.selectFrom('audit_checkpoints').select('seq').execute(), []);
    clock.advance(61_000);
    log.record(testEvent(4));
    await log.flush();
    assert.deepEqual((await store.db.selectFrom('audit_checkpoints').select('seq').execute()).map((c) => c.seq), [4]);
    log.record(testEvent(5));
    await log.close();
    assert.deepEqual((await store.db.selectFrom('audit_checkpoints').select('seq').orderBy('seq').execute()).map((c) => c.seq), [4, 5]);
    log = await openLog(store, { clock, config });
    log.record(testEvent(6));
    await log.close();
    const v = await verify(store);
    assert.equal(v.ok, true);
    assert.equal(v.lastSeq, 6);
  });

  test('throughput sanity: 20,000 events recorded, flushed and verified', async () => {
    const { store } = get();
    const log = await openLog(store, { config: { checkpointEveryEvents: 1000 } });
    for (let i = 1; i <= 20_000; i++) log.record(testEvent(i));
    await log.flush();
    assert.deepEqual(log.health(), { ok: true, queued: 0, dropped: 0 });
    await log.close();
    const v = await verify(store);
    assert.equal(v.ok, true);
    assert.equal(v.checkedEvents, 20_000);
    assert.equal(v.checkedCheckpoints, 20);
  });

  test('a full queue drops, alarms once, and records how many were dropped', async () => {
    const { store } = get();
    const alarms = new RecordingAlarmSink();
    const log = await openLog(store, { alarms, tuning: { queueCap: 10 } });
    for (let i = 1; i <= 50; i++) log.record(testEvent(i));
    assert.equal(log.health().dropped, 40);
    assert.deepEqual(alarms.raised.map((a) => a.type), ['audit.queue_overflow']);
    await log.flush();
    await log.flush();
    await log.close();
    const dropped = await store.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.events_dropped').execute();
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.details, '{"count":40}');
    assert.equal((await verify(store)).ok, true);
  });

  test('NVR-5.2.7.1c: purge keeps the chain anchored at a signed checkpoint', async () => {
    const { store } = get();
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const log = await openLog(store, { clock, config: { retentionMonths: 12, checkpointEveryEvents: 10 } });
    for (let i = 1; i <= 35; i++) log.record(testEvent(i));
    await log.flush();
    clock.set(Date.UTC(2026, 1, 1)); // 13 months later
    for (let i = 36; i <= 40; i++) log.record(testEvent(i));
    await log.flush();
    // Expired: 1..35. Purged only to the last checkpoint before the first kept event: 30.
    assert.equal(await log.purgeExpired(), 30);
    assert.equal(await log.purgeExpired(), 0);
    await log.close();
    const v = await verify(store);
    assert.deepEqual(kinds(v), []);
    assert.equal(v.firstSeq, 31);
    const purge = await store.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.purge').executeTakeFirstOrThrow();
    assert.equal(purge.details, `{"anchorSeq":30,"count":30,"cutoff":"2025-02-01T00:00:00.000Z","firstSeq":31}`);
    // Without its anchor the remaining chain is not trusted.
    await store.db.deleteFrom('audit_checkpoints').where('seq', '=', 30).execute();
    assert.deepEqual(kinds(await verify(store)), ['truncated@31']);
  });

  test('ACS-5.6.1.13: capacity figures, and a warning alarm at 90 % of capacity', async () => {
    const { store } = get();
    const clock = new ManualClock();
    const alarms = new RecordingAlarmSink();
    let log = await openLog(store, { clock, alarms, config: { capacityEvents: 100, retentionMonths: 3 } });
    for (let i = 1; i <= 95; i++) log.record(testEvent(i));
    await log.flush();
    const c = await log.capacity();
    assert.equal(c.events, 95);
    assert.equal(c.usedRatio, 0.95);
    assert.ok(c.avgEventBytes > 150 && c.avgEventBytes < 1000, String(c.avgEventBytes));
    assert.equal(c.eventsPerDayObserved, 95 * 24); // 95 events in the minimum one-hour window
    assert.equal(c.retentionFits, false);
    assert.equal(c.estimatedDaysOfCapacity, Math.round((5 / (95 * 24)) * 10) / 10);
    await log.close();
    assert.equal(alarms.raised.length, 0);
    log = await openLog(store, { clock, alarms, config: { capacityEvents: 100, retentionMonths: 3 } });
    assert.deepEqual(alarms.raised.map((a) => `${a.type}/${a.severity}`), ['audit.capacity/warning']);
    await log.close();
  });
});
