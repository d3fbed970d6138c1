// Camera health rates: averages over the complete seconds of a 5 s window, constant memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from './rate-meter.ts';

test('fps and bit rate over the last complete seconds; old seconds drop out; nothing → zero', () => {
  const m = new RateMeter();
  assert.deepEqual(m.rates(10_000), { fps: 0, bitrateKbps: 0 });
  // 25 frames of 5,000 bytes every second from t=10 s to t=19.96 s.
  for (let t = 10_000; t < 20_000; t += 40) m.add(t, 5000);
  assert.deepEqual(m.rates(20_000), { fps: 25, bitrateKbps: 1000 });
  // The current, half-filled second does not count.
  for (let t = 20_000; t < 20_500; t += 40) m.add(t, 5000);
  assert.deepEqual(m.rates(20_500), { fps: 25, bitrateKbps: 1000 });
  // The stream stopped at 20.5 s: at 24 s only second 20 (13 frames) is left in the window, at 26 s nothing.
  assert.deepEqual(m.rates(24_000), { fps: 3.3, bitrateKbps: 130 });
  assert.deepEqual(m.rates(26_000), { fps: 0, bitrateKbps: 0 });
});
