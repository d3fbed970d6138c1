import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.ts';
import { LoginNoticeBoard, NOTICES_PER_USER, USERS_MAX } from './login-notice-board.ts';

function notice(userId: string, at: number, sessionIdHash = `s-${at}`): Parameters<LoginNoticeBoard['record']>[0] {
  return { userId, username: userId, sourceIp: '192.0.2.1', userAgent: 'test', at, newSource: false, sessionIdHash };
}

test('CAM-T-priv-2: the board keeps at most NOTICES_PER_USER per user and USERS_MAX users (oldest forgotten)', () => {
  const clock = new ManualClock();
  const board = new LoginNoticeBoard(clock);
  for (let i = 0; i < NOTICES_PER_USER + 5; i++) board.record(notice('u1', clock.now()));
  const kept = board.since('u1', 0, undefined);
  assert.equal(kept.length, NOTICES_PER_USER);
  assert.equal(kept[0]?.id, 6, 'the oldest five went');
  for (let i = 0; i < USERS_MAX; i++) board.record(notice(`other-${i}`, clock.now()));
  assert.equal(board.since('u1', 0, undefined).length, 0, 'the least recently active user was forgotten');
  assert.equal(board.since(`other-${USERS_MAX - 1}`, 0, undefined).length, 1);
  assert.equal(board.latest, NOTICES_PER_USER + 5 + USERS_MAX);
});

test('the asking session never sees its own login', () => {
  const clock = new ManualClock();
  const board = new LoginNoticeBoard(clock);
  board.record(notice('u1', clock.now(), 'mine'));
  board.record(notice('u1', clock.now(), 'theirs'));
  assert.deepEqual(board.since('u1', 0, 'mine').map((n) => n.sessionIdHash), ['theirs']);
});
