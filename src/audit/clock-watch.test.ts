// ACS-5.6.1.14: a change of the system time is detected, recorded and alarmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.ts';
import { watchClock } from './clock-watch.ts';
import { RecordingAlarmSink, RecordingAuditSink } from './test-doubles.ts';

test('ACS-5.6.1.14: a wall-clock jump beyond the threshold is recorded and raises a warning', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let mono = 1000;
  const audit = new RecordingAuditSink();
  const alarms = new RecordingAlarmSink();
  const watch = watchClock({ audit, alarms, clock, intervalMs: 0, monotonic: () => mono });

  // normal progress and small NTP-sized drift: nothing
  clock.advance(10_000);
  mono += 10_000;
  watch.tick();
  clock.advance(10_150);
  mono += 10_000;
  watch.tick();
  assert.equal(audit.events.length, 0);
  assert.equal(alarms.raised.length, 0);

  // someone sets the clock one hour ahead
  clock.advance(3_600_000 + 10_000);
  mono += 10_000;
  watch.tick();
  assert.equal(audit.events.length, 1);
  const e = audit.events[0];
  assert.equal(e?.category, 'system');
  assert.equal(e?.action, 'system.clock_changed');
  assert.equal(e?.details?.['deltaMs'], 3_600_000);
  assert.equal(e?.details?.['observed'], '2026-01-01T01:00:30.150Z');
  assert.deepEqual(alarms.raised.map((a) => `${a.type}/${a.severity}`), ['system.clock_jump/warning']);

  // and back: a backwards jump is caught as well
  clock.advance(-3_600_000);
  mono += 1;
  watch.tick();
  assert.equal(audit.events[1]?.details?.['deltaMs'], -3_600_001);
  watch.stop();
});

test('the watcher uses its own timer and stops', async () => {
  const clock = new ManualClock();
  let mono = 0;
  const audit = new RecordingAuditSink();
  const watch = watchClock({ audit, alarms: new RecordingAlarmSink(), clock, intervalMs: 5, monotonic: () => mono });
  clock.advance(60_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(audit.events.length, 1);
  watch.stop();
  clock.advance(60_000);
  mono += 0;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(audit.events.length, 1);
});
