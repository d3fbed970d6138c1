import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.ts';
import { BoundedTtlMap } from './bounded-ttl-map.ts';

test('entries expire after the TTL and the map never exceeds its capacity', () => {
  const clock = new ManualClock();
  const map = new BoundedTtlMap<string, number>({ capacity: 3, ttlMs: 1000, clock });
  for (let i = 0; i < 10; i++) map.set(`k${i}`, i);
  assert.equal(map.size, 3);
  assert.equal(map.get('k0'), undefined, 'oldest evicted');
  assert.equal(map.get('k9'), 9);
  clock.advance(999);
  assert.equal(map.get('k8'), 8);
  clock.advance(1);
  assert.equal(map.get('k8'), undefined);
  assert.equal(map.size, 0);
});

test('take is one-time', () => {
  const map = new BoundedTtlMap<string, string>({ capacity: 2, ttlMs: 1000, clock: new ManualClock() });
  map.set('challenge', 'c');
  assert.equal(map.take('challenge'), 'c');
  assert.equal(map.take('challenge'), undefined);
});
