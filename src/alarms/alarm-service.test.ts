// Medium tests of the alarm model on SQLite and PostgreSQL: lifecycle, de-duplication, audit
// records, live push and webhook delivery (NVR-5.2.7.2a, ACS-5.2.1.14).
import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { RecordingAuditSink, silentLogger, waitFor } from '../audit/test-doubles.ts';
import { ManualClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { isVigilError } from '../core/errors.ts';
import type { Store } from '../store/database.ts';
import { AlarmService } from './alarm-service.ts';
import type { AlarmChange } from './types.ts';
import { startHttpsReceiver } from './test-receiver.ts';

const noWebhooks: Config['alarms'] = { webhooks: [], webhookAllowLoopbackHttp: false };
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alarms-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openService(store: Store, audit: RecordingAuditSink, clock = new ManualClock(), config = noWebhooks, env?: NodeJS.ProcessEnv): Promise<AlarmService> {
  return AlarmService.open({ store, audit, clock, config, logger: silentLogger(), tuning: { retryBaseMs: 10, retryMaxMs: 50, webhook: { baseDelayMs: 5, maxDelayMs: 20 } }, ...(env === undefined ? {} : { env }) });
}

describeOnEachStore('alarm service', (get) => {
  beforeEach(async () => {
    await sql`delete from alarms`.execute(get().store.db);
  });

  test('raise → acknowledge → clearById, each change audited, persisted and pushed', async () => {
    const { store } = get();
    const audit = new RecordingAuditSink();
    const clock = new ManualClock();
    const alarms = await openService(store, audit, clock);
    const changes: AlarmChange[] = [];
    const unsubscribe = alarms.onChange((c) => changes.push(c));

    alarms.raise({ type: 'video.tamper', severity: 'critical', source: 'camera:1', message: 'segment altered', details: { segment: 's1', token: 'x' } });
    const [raised] = alarms.active();
    assert.ok(raised !== undefined);
    assert.equal(raised.state, 'active');
    assert.equal(raised.dedupeKey, 'video.tamper|camera:1');
    assert.equal(raised.details['token'], '[redacted]');

    clock.advance(1000);
    const acked = await alarms.acknowledge(raised.id, { by: 'user:alice', comment: 'looking' });
    assert.equal(acked.state, 'acknowledged');
    assert.equal(acked.acknowledgedBy, 'user:alice');
    assert.equal(alarms.active()[0]?.state, 'acknowledged'); // acknowledged is still open

    await assert.rejects(alarms.acknowledge(raised.id, { by: 'user:alice' }), (e: unknown) => isVigilError(e, 'VIGIL_ALARM_STATE'));
    clock.advance(1000);
    const cleared = await alarms.clearById(raised.id, 'user:bob');
    assert.equal(cleared.state, 'cleared');
    assert.deepEqual(alarms.active(), []);
    await assert.rejects(alarms.clearById(raised.id, 'user:bob'), (e: unknown) => isVigilError(e, 'VIGIL_ALARM_STATE'));
    await assert.rejects(alarms.acknowledge('00000000-0000-0000-0000-000000000000', { by: 'user:alice' }), (e: unknown) => isVigilError(e, 'VIGIL_ALARM_NOT_FOUND'));

    await alarms.flush();
    const row = await store.db.selectFrom('alarms').selectAll().where('id', '=', raised.id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'cleared');
    assert.equal(row.acknowledged_by, 'user:alice');
    assert.equal(row.ack_comment, 'looking');
    assert.equal(row.cleared_at, Date.UTC(2026, 0, 1) + 2000);

    assert.deepEqual(
      audit.events.map((e) => `${e.category}/${e.action}/${e.actor}/${e.target}`),
      [`alarm/alarm.raise/system/alarm:${raised.id}`, `alarm/alarm.acknowledge/user:alice/alarm:${raised.id}`, `alarm/alarm.clear/user:bob/alarm:${raised.id}`],
    );
    assert.deepEqual(changes.map((c) => c.kind), ['raised', 'acknowledged', 'cleared']);
    unsubscribe();
    alarms.raise({ type: 'x', severity: 'info', source: 'y', message: 'z' });
    assert.equal(changes.length, 3);
    await alarms.close();
  });

  test('one open alarm per dedupe key; clear(key) ends it and a new raise opens a new one', async () => {
    const { store } = get();
    const audit = new RecordingAuditSink();
    const alarms = await openService(store, audit);
    alarms.raise({ type: 'audit.store_failed', severity: 'critical', source: 'audit', message: 'a' });
    alarms.raise({ type: 'audit.store_failed', severity: 'critical', source: 'audit', message: 'b' });
    alarms.raise({ type: 'storage.low_space', severity: 'warning', source: 'volume:1', message: 'c', dedupeKey: 'disk' });
    alarms.raise({ type: 'storage.low_space', severity: 'warning', source: 'volume:2', message: 'd', dedupeKey: 'disk' });
    assert.equal(alarms.active().length, 2);
    const first = alarms.active().find((a) => a.type === 'audit.store_failed');
    assert.equal(first?.message, 'a');
    alarms.clear('audit.store_failed|audit', 'stored again');
    alarms.clear('no-such-key', 'nothing');
    assert.deepEqual(alarms.active().map((a) => a.dedupeKey), ['disk']);
    alarms.raise({ type: 'audit.store_failed', severity: 'critical', source: 'audit', message: 'e' });
    assert.equal(alarms.active().length, 2);
    await alarms.flush();
    assert.equal((await alarms.list({ limit: 10 })).length, 4 - 1);
    assert.equal((await alarms.list({ state: 'cleared', limit: 10 })).length, 1);
    assert.equal(audit.events.filter((e) => e.action === 'alarm.raise').length, 3);
    await assert.rejects(alarms.list({ limit: 1001 }), (e: unknown) => isVigilError(e, 'VIGIL_VALIDATION'));
    await alarms.close();
  });

  test('open alarms survive a restart (loaded into memory at open)', async () => {
    const { store } = get();
    const audit = new RecordingAuditSink();
    let alarms = await openService(store, audit);
    alarms.raise({ type: 'device.offline', severity: 'warning', source: 'door:3', message: 'offline' });
    await alarms.close();
    alarms = await openService(store, audit);
    assert.deepEqual(alarms.active().map((a) => a.type), ['device.offline']);
    alarms.raise({ type: 'device.offline', severity: 'warning', source: 'door:3', message: 'again' });
    assert.equal(alarms.active().length, 1); // still de-duplicated after the restart
    alarms.clear('device.offline|door:3', 'back online');
    await alarms.flush();
    assert.equal((await alarms.list({ state: 'active', limit: 10 })).length, 0);
    await alarms.close();
  });

  test('NVR-5.2.7.2a: with the alarms table unwritable the alarm is still shown and delivered, then written', async () => {
    const { store } = get();
    const audit = new RecordingAuditSink();
    const receiver = await startHttpsReceiver(dir, `r-${store.dialect}`);
    try {
      const config: Config['alarms'] = { webhooks: [{ url: receiver.url, secretEnv: 'HOOK_KEY', caFile: receiver.certFile }], webhookAllowLoopbackHttp: false };
      const alarms = await openService(store, audit, new ManualClock(), config, { HOOK_KEY: 'secret-key' });
      await sql`alter table alarms rename to alarms_off`.execute(store.db);
      try {
        alarms.raise({ type: 'audit.store_failed', severity: 'critical', source: 'audit', message: 'cannot store' });
        assert.equal(alarms.active()[0]?.type, 'audit.store_failed');
        const listed = await alarms.list({ limit: 10 });
        assert.equal(listed[0]?.type, 'audit.store_failed'); // served from memory
        await waitFor(() => alarms.deliveryStats().delivered === 1, 'webhook delivery');
        const req = receiver.received[0];
        assert.ok(req !== undefined);
        assert.equal(req.headers['x-vigil-signature'], `sha256=${createHmac('sha256', 'secret-key').update(req.body).digest('hex')}`);
        const payload = JSON.parse(req.body) as { type: string; alarm: { type: string; state: string } };
        assert.equal(payload.type, 'alarm.raised');
        assert.equal(payload.alarm.type, 'audit.store_failed');
      } finally {
        await sql`alter table alarms_off rename to alarms`.execute(store.db);
      }
      await alarms.flush();
      const rows = await store.db.selectFrom('alarms').selectAll().execute();
      assert.deepEqual(rows.map((r) => `${r.type}/${r.state}`), ['audit.store_failed/active']);
      await alarms.close();
    } finally {
      await receiver.close();
    }
  });
});
