// NVR-5.2.7.2a, CAM-T-sys-12, ACS-5.6.1.4: when security events cannot be stored, an alarm is
// raised and shown (while the database is failing), the events are held in order, and on
// recovery they are stored, the chain verifies and the alarm is cleared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { AlarmService } from '../alarms/alarm-service.ts';
import { DeferredAlarmSink } from '../alarms/deferred-sink.ts';
import { ManualClock } from '../core/clock.ts';
import { AuditLog } from './audit-log.ts';
import { AuditQuery } from './query.ts';
import { verifyAuditChain } from './verify.ts';
import { auditConfig, createTestSigner, silentLogger, testEvent, waitFor } from './test-doubles.ts';

describeOnEachStore('audit store failure', (get) => {
  test('NVR-5.2.7.2a: store fails → critical alarm shown; store back → events stored in order, alarm cleared', async () => {
    const { store } = get();
    const signer = createTestSigner();
    const clock = new ManualClock();
    const logger = silentLogger();
    const late = new DeferredAlarmSink();
    const audit = await AuditLog.open({ store, signer, alarms: late, clock, config: auditConfig(), logger, tuning: { retryBaseMs: 20, retryMaxMs: 100 } });
    const alarms = await AlarmService.open({ store, audit, clock, config: { webhooks: [], webhookAllowLoopbackHttp: false }, logger, tuning: { retryBaseMs: 20, retryMaxMs: 100 } });
    late.attach(alarms);

    for (let i = 1; i <= 5; i++) audit.record(testEvent(i, { action: `test.before.${String(i)}` }));
    await audit.flush();

    // The whole database stops taking writes of the log and of alarms.
    await sql`alter table audit_events rename to audit_events_off`.execute(store.db);
    await sql`alter table alarms rename to alarms_off`.execute(store.db);
    let restored = false;
    try {
      for (let i = 1; i <= 10; i++) audit.record(testEvent(i, { action: `test.during.${String(i)}` }));
      await waitFor(() => alarms.active().some((a) => a.type === 'audit.store_failed'), 'the audit.store_failed alarm');
      const shown = alarms.active().find((a) => a.type === 'audit.store_failed');
      assert.equal(shown?.severity, 'critical');
      assert.equal(shown?.state, 'active');
      const h = audit.health();
      assert.equal(h.ok, false);
      assert.ok(h.queued >= 10, `queued ${String(h.queued)}`);
      assert.equal(h.dropped, 0);
      assert.match(h.lastError ?? '', /audit_events/);
      // Still failing a few retries later: nothing lost, nothing written, alarm still shown.
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(audit.health().queued >= 10);
      assert.ok(alarms.active().some((a) => a.type === 'audit.store_failed'));

      await sql`alter table audit_events_off rename to audit_events`.execute(store.db);
      await sql`alter table alarms_off rename to alarms`.execute(store.db);
      restored = true;
    } finally {
      if (!restored) {
        await sql`alter table audit_events_off rename to audit_events`.execute(store.db);
        await sql`alter table alarms_off rename to alarms`.execute(store.db);
      }
    }

    await audit.flush();
    await waitFor(() => !alarms.active().some((a) => a.type === 'audit.store_failed'), 'the alarm to clear');
    await alarms.flush();
    await audit.flush();
    assert.equal(audit.health().ok, true);

    const v = await verifyAuditChain({ store, publicKeyPem: signer.publicKeyPem });
    assert.deepEqual(v.problems, []);
    const actions = (await new AuditQuery({ store }).list({ order: 'oldest', limit: 100 })).map((e) => e.action);
    const during = actions.filter((a) => a.startsWith('test.'));
    assert.deepEqual(during, [1, 2, 3, 4, 5].map((i) => `test.before.${String(i)}`).concat([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `test.during.${String(i)}`)));
    // The outage itself is on the record: the alarm raised, cleared, and the recovery.
    const at = (a: string): number => actions.indexOf(a);
    assert.ok(at('alarm.raise') > at('test.during.10'));
    assert.ok(at('alarm.clear') > at('alarm.raise'));
    assert.ok(at('audit.store_recovered') > at('alarm.raise'));

    const row = await store.db.selectFrom('alarms').selectAll().where('type', '=', 'audit.store_failed').executeTakeFirstOrThrow();
    assert.equal(row.state, 'cleared');
    await alarms.close();
    await audit.close();
  });
});
