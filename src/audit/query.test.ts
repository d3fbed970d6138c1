// The read API (ACS-5.6.1.17) and the signed JSONL export (ACS-5.6.1.6, ACS-5.6.1.16).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { ManualClock } from '../core/clock.ts';
import { isVigilError } from '../core/errors.ts';
import { AuditLog } from './audit-log.ts';
import { AuditQuery, verifyExport } from './query.ts';
import { RecordingAlarmSink, auditConfig, createTestSigner, resetAuditTables, silentLogger, testEvent } from './test-doubles.ts';

const signer = createTestSigner();

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of it) lines.push(line);
  return lines;
}

describeOnEachStore('audit query and export', (get) => {
  before(async () => {
    const { store } = get();
    await resetAuditTables(store);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const log = await AuditLog.open({ store, signer, alarms: new RecordingAlarmSink(), clock, config: auditConfig(), logger: silentLogger() });
    for (let i = 1; i <= 30; i++) {
      log.record(testEvent(i));
      clock.advance(60_000);
    }
    await log.close();
  });

  test('ACS-5.6.1.17: list filters, order and keyset paging', async () => {
    const q = new AuditQuery({ store: get().store });
    const newest = await q.list({ limit: 5 });
    assert.deepEqual(newest.map((e) => e.seq), [30, 29, 28, 27, 26]);
    const next = await q.list({ limit: 5, afterSeq: 26 });
    assert.deepEqual(next.map((e) => e.seq), [25, 24, 23, 22, 21]);
    const oldest = await q.list({ order: 'oldest', limit: 3, afterSeq: 10 });
    assert.deepEqual(oldest.map((e) => e.seq), [11, 12, 13]);
    const failures = await q.list({ outcome: 'failure', limit: 100 });
    assert.deepEqual(failures.map((e) => e.seq), [30, 25, 20, 15, 10, 5]);
    const actor = await q.list({ actor: 'user:u3', category: 'auth', action: 'auth.login', limit: 100 });
    assert.deepEqual(actor.map((e) => e.seq), [24, 17, 10, 3]);
    // events i were recorded at 00:(i-1) minutes
    const window = await q.list({ from: '2026-01-01T00:04:00Z', to: '2026-01-01T00:06:00.000Z', order: 'oldest', limit: 100 });
    assert.deepEqual(window.map((e) => e.seq), [5, 6, 7]);
    assert.deepEqual(newest[0]?.details, { i: 30, method: 'password' });
    assert.equal(newest[0]?.hash.length, 64);
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { from: 'yesterday' }]) {
      await assert.rejects(q.list(bad), (e: unknown) => isVigilError(e, 'VIGIL_VALIDATION'), JSON.stringify(bad));
    }
  });

  test('ACS-5.6.1.6: the signed JSONL export verifies; any change to it does not', async () => {
    const q = new AuditQuery({ store: get().store });
    const lines = await collect(q.exportJsonl({}, signer));
    assert.equal(lines.length, 31);
    const text = lines.map((l) => `${l}\n`).join('');
    const ok = verifyExport(text, signer.publicKeyPem);
    assert.deepEqual(ok, { ok: true, count: 30, keyId: signer.keyId, problems: [] });
    assert.equal(verifyExport(lines, signer.publicKeyPem).ok, true);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['type', 'seq', 'ts', 'category', 'action', 'actor', 'source', 'target', 'outcome', 'details', 'prev_hash', 'hash']);
    const sig = JSON.parse(lines[30] ?? '{}') as Record<string, unknown>;
    assert.equal(sig['type'], 'signature');
    assert.equal(sig['algorithm'], 'Ed25519');
    assert.equal(sig['count'], 30);

    const altered = [...lines];
    altered[7] = (altered[7] ?? '').replace('"actor":"user:u1"', '"actor":"user:mallory"');
    assert.notEqual(altered[7], lines[7]);
    const r1 = verifyExport(altered, signer.publicKeyPem);
    assert.equal(r1.ok, false);
    assert.ok(r1.problems.some((p) => p.includes('digest')));

    const removed = lines.filter((_, i) => i !== 3);
    assert.equal(verifyExport(removed, signer.publicKeyPem).ok, false);
    assert.equal(verifyExport(lines.slice(0, 30), signer.publicKeyPem).ok, false); // signature line cut off
    assert.equal(verifyExport(lines, createTestSigner().publicKeyPem).ok, false); // another key
    assert.equal(verifyExport([...lines, lines[0] ?? ''], signer.publicKeyPem).ok, false); // appended after signing
  });

  test('a filtered export is signed too', async () => {
    const q = new AuditQuery({ store: get().store });
    const lines = await collect(q.exportJsonl({ outcome: 'failure' }, signer));
    assert.equal(lines.length, 7);
    assert.deepEqual(verifyExport(lines, signer.publicKeyPem), { ok: true, count: 6, keyId: signer.keyId, problems: [] });
  });
});
