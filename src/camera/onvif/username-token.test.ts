// WS-UsernameToken PasswordDigest and its replay defences (CAM-T-auth-1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.ts';
import { CREATED_WINDOW_MS, NonceReplayCache, decodeNonce, digestMatches, freshness, parseCreated, passwordDigest } from './username-token.ts';

describe('PasswordDigest (WSS UsernameToken Profile 1.0 §3.1)', () => {
  test('the ONVIF Application Programmer\'s Guide vector: Base64(SHA-1(nonce + created + password))', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    assert.equal(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword'), 'tuOSpGlFlIXsozq4HFNeeGeFLEI=');
  });

  test('any change of nonce, created or password changes the digest; comparison is exact', () => {
    const nonce = Buffer.alloc(16, 7);
    const base = passwordDigest(nonce, '2026-01-01T00:00:00Z', 'Correct-Horse-1');
    assert.notEqual(passwordDigest(Buffer.alloc(16, 8), '2026-01-01T00:00:00Z', 'Correct-Horse-1'), base);
    assert.notEqual(passwordDigest(nonce, '2026-01-01T00:00:01Z', 'Correct-Horse-1'), base);
    assert.notEqual(passwordDigest(nonce, '2026-01-01T00:00:00Z', 'Correct-Horse-2'), base);
    assert.equal(digestMatches(base, base), true);
    assert.equal(digestMatches(base.toLowerCase(), base), false);
    assert.equal(digestMatches(`${base}=`, base), false);
  });

  test('nonces must be base64 of 16–64 bytes; Created must be an xsd:dateTime with a zone', () => {
    assert.equal(decodeNonce(Buffer.alloc(16).toString('base64'))?.length, 16);
    assert.equal(decodeNonce(Buffer.alloc(8).toString('base64')), undefined);
    assert.equal(decodeNonce(Buffer.alloc(65).toString('base64')), undefined);
    assert.equal(decodeNonce('not base64!'), undefined);
    assert.equal(decodeNonce(undefined), undefined);
    assert.equal(parseCreated('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
    assert.equal(parseCreated('2026-01-01T01:00:00.123+01:00'), Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    assert.equal(parseCreated('2026-01-01T00:00:00'), undefined, 'no zone');
    assert.equal(parseCreated('yesterday'), undefined);
  });
});

describe('replay defences (WSS UsernameToken Profile 1.0 §4, CAM-T-auth-1)', () => {
  const now = Date.UTC(2026, 0, 1, 12);

  test('Created within ±5 minutes is fresh; older is expired, later is future', () => {
    assert.equal(freshness(now, now), 'fresh');
    assert.equal(freshness(now - CREATED_WINDOW_MS, now), 'fresh');
    assert.equal(freshness(now + CREATED_WINDOW_MS, now), 'fresh');
    assert.equal(freshness(now - CREATED_WINDOW_MS - 1, now), 'expired');
    assert.equal(freshness(now + CREATED_WINDOW_MS + 1, now), 'future');
  });

  test('the same nonce is accepted once per user', () => {
    const cache = new NonceReplayCache({ capacity: 10, clock: new ManualClock(now) });
    const nonce = Buffer.alloc(16, 1);
    assert.equal(cache.claim('alice', nonce, now), true);
    assert.equal(cache.claim('alice', nonce, now), false, 'replay refused');
    assert.equal(cache.claim('alice', Buffer.from(nonce), now + 1000), false, 'replay with another Created refused too');
    assert.equal(cache.claim('bob', nonce, now), true, 'keyed by user and nonce');
  });

  test('bounded under a flood: expired entries go first, then the oldest, and eviction never reopens a replay', () => {
    const clock = new ManualClock(now);
    const cache = new NonceReplayCache({ capacity: 100, clock });
    for (let i = 0; i < 100; i++) assert.equal(cache.claim('alice', Buffer.alloc(16, i), now - CREATED_WINDOW_MS + i), true);
    assert.equal(cache.size, 100);
    // Time moves past the first 50 entries' window: they are swept to make room.
    clock.advance(50);
    assert.equal(cache.claim('alice', Buffer.alloc(16, 200), now), true);
    assert.ok(cache.size <= 100 && cache.size >= 50, `size ${cache.size}`);
    // A flood of fresh tokens: the map never grows past its capacity.
    for (let i = 0; i < 1000; i++) cache.claim('alice', Buffer.from(`flood-nonce-${String(i).padStart(8, '0')}`), now + i);
    assert.equal(cache.size, 100);
    // The first flood entries were evicted; replaying one of them is still refused (floor).
    assert.equal(cache.claim('alice', Buffer.from('flood-nonce-00000000'), now), false);
    // A fresh token newer than everything evicted is still accepted.
    assert.equal(cache.claim('alice', Buffer.alloc(16, 250), now + 5000), true);
  });
});
