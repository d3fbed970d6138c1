// Pure parts of the controller sync: the platform's chain check of forwarded events
// (ACS-5.4.2.3) pinned to the edge log's own hashes, and the bounded frame reader (ACS-5.2.1.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isVigilError } from '../../core/errors.ts';
import { EdgeEventLog, GENESIS } from '../edge-event-log.ts';
import { checkBatch, edgeEventHash } from './sync-events.ts';
import { encodeFrame, FrameReader, parseControllerMessage } from './sync-protocol.ts';

function logWith(n: number): EdgeEventLog {
  const log = new EdgeEventLog(randomBytes(32));
  for (let i = 0; i < n; i++) log.append({ at: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(), type: 'access.granted', doorId: 'front', subject: `h-${i}`, reason: 'valid credential' });
  return log;
}
const rejected = (err: unknown): boolean => isVigilError(err, 'VIGIL_DEVICE_EVENTS_REJECTED');

test('ACS-5.4.2.3: the platform recomputes exactly the edge log chain', () => {
  const log = logWith(3);
  let prev = GENESIS;
  for (const [i, e] of log.export().entries()) {
    assert.equal(edgeEventHash(prev, e), log.stored[i]?.hash);
    prev = edgeEventHash(prev, e);
  }
});

test('ACS-5.4.2.3: batches continue the stored chain; overlap is skipped; edits, reorders and forks are rejected', () => {
  const log = logWith(6);
  const events = log.export();
  const first = checkBatch(undefined, GENESIS, events.slice(0, 3));
  assert.deepEqual(first.fresh.map((f) => f.event.seq), [1, 2, 3]);
  const again = checkBatch(first.head, GENESIS, events.slice(0, 5));
  assert.deepEqual(again.fresh.map((f) => f.event.seq), [4, 5], 'a resend after a lost ack stores only the new part');
  assert.equal(again.head.lastHash, log.stored[4]?.hash);
  // Stored events cannot be rewritten: a resend whose content differs from what is stored fails.
  const edited = events.slice(2, 6).map((e, i) => (i === 1 ? { ...e, subject: 'someone else' } : e));
  assert.throws(() => checkBatch(again.head, log.stored[2]?.prevHash ?? '', edited), rejected, 'edited stored event');
  assert.throws(() => checkBatch(first.head, 'a'.repeat(64), events.slice(3, 6)), rejected, 'forked chain');
  assert.throws(() => checkBatch(undefined, GENESIS, [events[1], events[0]].filter((e) => e !== undefined)), rejected, 'reordered');
  const gap = checkBatch(first.head, log.stored[4]?.prevHash ?? '', events.slice(4, 6));
  assert.equal(gap.lost, 1, 'a gap is accepted but counted (alarmed by the ingest)');
  const partialResend = checkBatch(again.head, GENESIS, events.slice(0, 2), log.stored[1]?.hash);
  assert.equal(partialResend.restarted, false, 'a resend of stored events only');
  assert.equal(partialResend.fresh.length, 0);
  const rebooted = new EdgeEventLog(randomBytes(32));
  rebooted.append({ at: '2026-11-23T09:00:00.000Z', type: 'access.denied', doorId: 'front', subject: '', reason: 'no credential set' });
  rebooted.append({ at: '2026-11-23T09:00:01.000Z', type: 'access.denied', doorId: 'front', subject: '', reason: 'no credential set' });
  const restart = checkBatch(again.head, GENESIS, rebooted.export(), log.stored[1]?.hash);
  assert.equal(restart.restarted, true);
  assert.equal(restart.head.epoch, 2);
});

test('ACS-5.2.1.5: frames are bounded before buffering and messages are checked field by field', () => {
  const reader = new FrameReader(64);
  const frame = encodeFrame({ t: 'pull', have: 7 });
  const out = [...reader.push(frame.subarray(0, 3)), ...reader.push(frame.subarray(3)), ...reader.push(Buffer.concat([frame, frame]))];
  assert.deepEqual(out.map(parseControllerMessage), [{ t: 'pull', have: 7 }, { t: 'pull', have: 7 }, { t: 'pull', have: 7 }]);
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(65, 0);
  assert.throws(() => new FrameReader(64).push(huge), (err: unknown) => isVigilError(err, 'VIGIL_DEVICE_PROTOCOL'));
  for (const bad of [{ t: 'pull', have: -1 }, { t: 'attest', measurement: 'x', signature: '' }, { t: 'push', prevHash: GENESIS, events: [{ seq: 1 }] }, { t: 'nope' }, []]) {
    assert.throws(() => parseControllerMessage(bad), (err: unknown) => isVigilError(err, 'VIGIL_DEVICE_PROTOCOL'));
  }
});
