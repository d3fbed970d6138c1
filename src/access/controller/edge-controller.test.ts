// The edge controller deciding offline (ACS-5.4.2.3, ACS-5.4.1.2): signed sets only, newer
// versions only, deltas only on the version held; door-bound, time-bound decisions; fail secure
// after the offline limit; every decision logged encrypted and chained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { deviceSignerFromPrivateKey } from '../../crypto/signer.ts';
import { signCredentialSet, type CredentialEntry } from './credential-set.ts';
import { deriveEdgePinVerifier } from '../edge-pin.ts';
import { EdgeController } from './edge-controller.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const HOUR = 3_600_000;
const platform = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
const other = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);

const card = (n: number, doors = ['front']): CredentialEntry => ({ key: `h10301:90:${n}`, holderId: `holder-${n}`, doors, notBefore: T0 - HOUR, notAfter: T0 + 24 * HOUR });

function controller(clock: ManualClock): EdgeController {
  return new EdgeController({ controllerId: 'ctl-1', platformKeyPem: platform.publicKeyPem, storageKey: randomBytes(32), clock, doors: { front: { maxOfflineMs: 4 * HOUR }, vault: { maxOfflineMs: 0.5 * HOUR } } });
}

test('ACS-5.4.1.2: after a restart nothing opens until a verified set is applied', () => {
  const c = controller(new ManualClock(T0));
  assert.deepEqual(c.decide('h10301:90:1', 'front'), { granted: false, reason: 'no credential set', holderId: null });
});

test('a signed full set, then deltas on the version held; forged, replayed and out-of-order sets are refused unchanged', () => {
  const clock = new ManualClock(T0);
  const c = controller(clock);
  c.apply(signCredentialSet(platform, { controllerId: 'ctl-1', version: 1, baseVersion: null, issuedAt: T0, upserts: [card(1), card(2, ['front', 'vault']), card(3)], removals: [] }));
  assert.equal(c.decide('h10301:90:1', 'front').granted, true);
  assert.deepEqual(c.decide('h10301:90:1', 'vault'), { granted: false, reason: 'not allowed at this door', holderId: 'holder-1' });
  assert.deepEqual(c.decide('h10301:90:9', 'front'), { granted: false, reason: 'unknown credential', holderId: null });
  c.apply(signCredentialSet(platform, { controllerId: 'ctl-1', version: 2, baseVersion: 1, issuedAt: T0, upserts: [{ ...card(4), notBefore: T0 + HOUR }], removals: ['h10301:90:3'] }));
  assert.equal(c.decide('h10301:90:3', 'front').granted, false);
  assert.deepEqual(c.decide('h10301:90:4', 'front'), { granted: false, reason: 'not valid yet', holderId: 'holder-4' });
  const refusals: Array<[string, Parameters<typeof signCredentialSet>[1], typeof platform]> = [
    ['forged', { controllerId: 'ctl-1', version: 3, baseVersion: 2, issuedAt: T0, upserts: [card(3)], removals: [] }, other],
    ['replayed', { controllerId: 'ctl-1', version: 2, baseVersion: 1, issuedAt: T0, upserts: [card(3)], removals: [] }, platform],
    ['wrong base', { controllerId: 'ctl-1', version: 5, baseVersion: 4, issuedAt: T0, upserts: [card(3)], removals: [] }, platform],
    ['other controller', { controllerId: 'ctl-2', version: 9, baseVersion: null, issuedAt: T0, upserts: [card(3)], removals: [] }, platform],
  ];
  for (const [what, payload, signer] of refusals) {
    assert.throws(() => c.apply(signCredentialSet(signer, payload)), (err: unknown) => isVigilError(err, 'VIGIL_CREDENTIAL_SET_INVALID'), what);
    assert.equal(c.decide('h10301:90:3', 'front').granted, false, `${what}: nothing changed`);
  }
  assert.equal(c.version, 2);
  clock.advance(25 * HOUR);
  c.markSynced();
  assert.deepEqual(c.decide('h10301:90:1', 'front'), { granted: false, reason: 'expired', holderId: 'holder-1' });
});

test('ACS-5.4.2.3: offline the doors keep deciding up to their limit, then fail secure', () => {
  const clock = new ManualClock(T0);
  const c = controller(clock);
  c.apply(signCredentialSet(platform, { controllerId: 'ctl-1', version: 1, baseVersion: null, issuedAt: T0, upserts: [card(2, ['front', 'vault'])], removals: [] }));
  clock.advance(HOUR);
  assert.equal(c.decide('h10301:90:2', 'front').granted, true, 'front allows 4 h offline');
  assert.deepEqual(c.decide('h10301:90:2', 'vault'), { granted: false, reason: 'offline too long', holderId: null });
  clock.advance(4 * HOUR);
  assert.equal(c.decide('h10301:90:2', 'front').granted, false);
  c.markSynced();
  assert.equal(c.decide('h10301:90:2', 'vault').granted, true, 'back online');
  const events = c.log.export();
  assert.deepEqual(events.map((e) => `${e.type}:${e.doorId}:${e.reason}`), [
    'access.granted:front:valid credential',
    'access.denied:vault:offline too long',
    'access.denied:front:offline too long',
    'access.granted:vault:valid credential',
  ]);
});

test('issue #6: card and PIN at the edge — right PIN, duress PIN (flagged), wrong PIN, no PIN; three wrong PINs lock the credential out for the lockout time, logged; a PIN the edge cannot check is refused', async () => {
  const clock = new ManualClock(T0);
  const lockouts: string[] = [];
  const c = new EdgeController({
    controllerId: 'ctl-1', platformKeyPem: platform.publicKeyPem, storageKey: randomBytes(32), clock, doors: { front: { maxOfflineMs: 4 * HOUR } },
    dummyPinIterations: 1000, pinLockoutMs: 60_000, onPinLockout: (l) => lockouts.push(l.doorId),
  });
  const pinVerifier = await deriveEdgePinVerifier('2468', 1000);
  const duressVerifier = await deriveEdgePinVerifier('1357', 1000);
  c.apply(signCredentialSet(platform, {
    controllerId: 'ctl-1', version: 1, baseVersion: null, issuedAt: T0,
    upserts: [{ ...card(1), pinVerifier, duressVerifier }, { ...card(2), pinNotAtEdge: true }, { ...card(3), pinVerifier: 'pbkdf2-sha256$1$bad$bad' }, card(4)],
    removals: [], doors: [{ id: 'front', mode: 'card_and_pin', timezone: 'UTC', lockdown: false }], schedules: [],
  }));
  assert.equal(c.needsPin('front'), true);
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', '2468'), { granted: true, holderId: 'holder-1' });
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', '1357'), { granted: true, holderId: 'holder-1', duress: true });
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', undefined), { granted: false, reason: 'pin required', holderId: 'holder-1' });
  assert.deepEqual(await c.decideWithPin('h10301:90:2', 'front', '2468'), { granted: false, reason: 'pin not at the edge', holderId: 'holder-2' });
  assert.deepEqual(await c.decideWithPin('h10301:90:3', 'front', '2468'), { granted: false, reason: 'pin not at the edge', holderId: 'holder-3' }, 'a malformed verifier fails secure');
  assert.deepEqual(await c.decideWithPin('h10301:90:4', 'front', '2468'), { granted: false, reason: 'wrong pin', holderId: 'holder-4' }, 'no PIN set: any PIN is wrong (as online)');
  assert.deepEqual(await c.decideWithPin('h10301:90:9', 'front', '2468'), { granted: false, reason: 'unknown credential', holderId: null });

  for (const pin of ['0000', '1111']) assert.equal((await c.decideWithPin('h10301:90:1', 'front', pin)).granted, false);
  assert.deepEqual(lockouts, []);
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', '3333'), { granted: false, reason: 'wrong pin', holderId: 'holder-1' });
  assert.deepEqual(lockouts, ['front']);
  // Locked out: the right PIN (and the duress PIN) are not even checked.
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', '2468'), { granted: false, reason: 'pin locked out', holderId: null });
  clock.advance(59_000);
  assert.equal((await c.decideWithPin('h10301:90:1', 'front', '1357')).granted, false);
  clock.advance(2_000);
  assert.deepEqual(await c.decideWithPin('h10301:90:1', 'front', '2468'), { granted: true, holderId: 'holder-1' });
  const types = c.log.export().map((e) => `${e.type}:${e.reason}`);
  assert.ok(types.includes('access.pin_lockout:3 wrong PINs: PIN entry locked for 60 s'), types.join('\n'));
  assert.ok(types.includes('access.granted:duress'));
  assert.ok(!JSON.stringify(c.log.export()).includes('2468'), 'no PIN in the edge log');
});
