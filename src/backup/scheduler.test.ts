// The backup schedule (NVR-5.1.5.1c): runs every N hours on its timer, one at a time, alarms a
// failure and clears it on the next success, and stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingAlarmSink, silentLogger } from '../audit/test-doubles.ts';
import { isVigilError } from '../core/errors.ts';
import type { BackupRunOptions, BackupRunResult } from './backup-run.ts';
import { BackupScheduler } from './scheduler.ts';
import type { BackupTarget } from './target.ts';

const HOUR = 3_600_000;
const target = { description: 'dir:/mnt/backup' } as unknown as BackupTarget;

function result(runId: string): BackupRunResult {
  return { runId, sets: [], segments: 0, copied: 0, copiedBytes: 0, alreadyPresent: 0, skipped: [], skippedCount: 0 };
}

test('NVR-5.1.5.1c: the schedule is bounded to 1 hour … 31 days', () => {
  const base = { service: { backup: async () => result('x') }, openTarget: async () => target, targetName: 't', alarms: new RecordingAlarmSink(), logger: silentLogger() };
  for (const everyHours of [0, 0.5, 745, Number.NaN]) assert.throws(() => new BackupScheduler({ ...base, everyHours }), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
});

test('NVR-5.1.5.1c: runs every N hours on the timer, incremental by default; failure alarms, success clears; stop ends the schedule', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const alarms = new RecordingAlarmSink();
  const calls: BackupRunOptions[] = [];
  let fail = true;
  const scheduler = new BackupScheduler({
    service: {
      backup: async (_target, options) => {
        calls.push(options);
        if (fail) throw new Error('EIO: disk gone');
        return result(`run-${calls.length}`);
      },
    },
    openTarget: async () => target,
    targetName: 'disk-2',
    everyHours: 6,
    alarms,
    logger: silentLogger(),
  });
  scheduler.start();
  t.mock.timers.tick(6 * HOUR - 1);
  await settle();
  assert.equal(calls.length, 0, 'not before 6 hours');
  t.mock.timers.tick(1);
  await settle();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.kind, 'incremental');
  assert.equal(alarms.raised.length, 1);
  assert.equal(alarms.raised[0]?.type, 'backup.failed');
  assert.match(alarms.raised[0]?.message ?? '', /disk-2.*EIO: disk gone/);

  fail = false;
  t.mock.timers.tick(6 * HOUR);
  await settle();
  assert.equal(calls.length, 2);
  assert.deepEqual(alarms.cleared.map((c) => c.dedupeKey), [alarms.raised[0]?.dedupeKey]);

  await scheduler.stop();
  t.mock.timers.tick(24 * HOUR);
  await settle();
  assert.equal(calls.length, 2, 'no run after stop');
});

test('NVR-5.1.5.1c: a tick while a run is still going is skipped, not queued', async () => {
  let release: () => void = () => {};
  let runs = 0;
  const scheduler = new BackupScheduler({
    service: {
      backup: async () => {
        runs++;
        await new Promise<void>((resolve) => (release = resolve));
        return result('slow');
      },
    },
    openTarget: async () => target,
    targetName: 't',
    everyHours: 1,
    alarms: new RecordingAlarmSink(),
    logger: silentLogger(),
  });
  const first = scheduler.tick();
  assert.equal(await scheduler.tick(), undefined);
  await settle();
  release();
  assert.equal((await first)?.runId, 'slow');
  assert.equal(runs, 1);
  await scheduler.stop();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
