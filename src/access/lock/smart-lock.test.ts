// The smart lock offline: a valid platform credential opens; expired, not-yet-valid, wrong-door,
// revoked, forged and tampered ones are refused and logged; a remote unlock works once per nonce
// and a replayed command is refused and logged; the lock's event log is encrypted and its chain
// names an edited event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { deviceSignerFromPrivateKey } from '../../crypto/signer.ts';
import { issueCredential, issueUnlockCommand } from './lock-tokens.ts';
import { SmartLock } from './smart-lock.ts';
import { EdgeEventLog } from '../edge-event-log.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const HOUR = 3_600_000;
const platform = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
const impostor = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);

function lock(clock: ManualClock): SmartLock {
  return new SmartLock({ lockId: 'lock-7', doorId: 'door-lab', platformKeyPem: platform.publicKeyPem, storageKey: randomBytes(32), clock });
}

const valid = { id: 'cred-1', holderId: 'holder-1', doors: ['door-lab', 'door-hall'], notBefore: T0 - HOUR, notAfter: T0 + 8 * HOUR };

test('a valid, door-bound, time-bound credential opens; every other one is refused with its reason', () => {
  const clock = new ManualClock(T0);
  const l = lock(clock);
  assert.deepEqual(l.presentCredential(issueCredential(platform, valid)), { open: true, reason: 'valid credential', releaseSeconds: 5 });
  const cases: Array<[string, string]> = [
    [issueCredential(platform, { ...valid, id: 'c2', notAfter: T0 - 2 * HOUR, notBefore: T0 - 9 * HOUR }), 'expired'],
    [issueCredential(platform, { ...valid, id: 'c3', notBefore: T0 + 2 * HOUR, notAfter: T0 + 9 * HOUR }), 'not yet valid'],
    [issueCredential(platform, { ...valid, id: 'c4', doors: ['door-hall'] }), 'not valid for this door'],
    [issueCredential(impostor, { ...valid, id: 'c5' }), 'signature does not verify with the platform key'],
  ];
  for (const [token, reason] of cases) assert.deepEqual(l.presentCredential(token), { open: false, reason, releaseSeconds: 0 }, reason);
  // One changed character of the payload: the signature no longer matches.
  const token = issueCredential(platform, { ...valid, id: 'c6', doors: ['door-hall'] });
  const forged = Buffer.from(JSON.stringify({ typ: 'vigil.lock.credential.v1', ...valid, id: 'c6' })).toString('base64url') + '.' + token.split('.')[1];
  assert.equal(l.presentCredential(forged).open, false);
  l.revoke(['cred-1']);
  assert.equal(l.presentCredential(issueCredential(platform, valid)).reason, 'revoked');
  const events = l.log.export();
  assert.deepEqual(events.map((e) => e.type), ['access.granted', 'access.denied', 'access.denied', 'access.denied', 'access.denied', 'access.denied', 'access.denied']);
  assert.ok(events.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(e.at) && e.doorId === 'door-lab'));
});

test('remote unlock works once per nonce; a replayed, stale, foreign or credential-typed command is refused and logged', () => {
  const clock = new ManualClock(T0);
  const l = lock(clock);
  const nonce = l.challenge();
  const command = issueUnlockCommand(platform, { lockId: 'lock-7', doorId: 'door-lab', nonce, issuedAt: T0, releaseSeconds: 8, actor: 'user:operator' });
  assert.deepEqual(l.remoteUnlock(command), { open: true, reason: 'signed command', releaseSeconds: 8 });
  assert.deepEqual(l.remoteUnlock(command), { open: false, reason: 'unknown or already used nonce (replay?)', releaseSeconds: 0 });
  const late = l.challenge();
  clock.advance(31_000);
  assert.equal(l.remoteUnlock(issueUnlockCommand(platform, { lockId: 'lock-7', doorId: 'door-lab', nonce: late, issuedAt: T0, releaseSeconds: 5, actor: 'user:op' })).reason, 'nonce expired');
  assert.equal(l.remoteUnlock(issueUnlockCommand(platform, { lockId: 'lock-8', doorId: 'door-lab', nonce: l.challenge(), issuedAt: T0, releaseSeconds: 5, actor: 'user:op' })).reason, 'command for another lock');
  assert.equal(l.remoteUnlock(issueCredential(platform, valid)).open, false, 'a credential is not a command');
  assert.equal(l.presentCredential(command).open, false, 'a command is not a credential');
  const types = l.log.export().map((e) => e.type);
  assert.deepEqual(types.filter((t) => t.startsWith('remote')), ['remote.unlock', 'remote.refused', 'remote.refused', 'remote.refused', 'remote.refused']);
});

test('the lock log is encrypted at rest and an edited event breaks the chain, named', () => {
  const l = lock(new ManualClock(T0));
  for (let i = 0; i < 3; i++) l.presentCredential(issueCredential(platform, { ...valid, id: `cred-${i}` }));
  for (const s of l.log.stored) assert.equal(s.sealed.indexOf('cred-'), -1, 'no credential id in clear');
  const second = l.log.stored[1];
  assert.ok(second !== undefined);
  second.sealed[second.sealed.length - 1] = (second.sealed[second.sealed.length - 1] ?? 0) ^ 1;
  assert.throws(() => l.log.export(), (err: unknown) => isVigilError(err, 'VIGIL_EDGE_LOG_TAMPERED') && /event 2/.test((err as Error).message));
});

test('the lock log is bounded and forgets what the platform acknowledged', () => {
  const l = lock(new ManualClock(T0));
  for (let i = 0; i < 5; i++) l.presentCredential(issueCredential(platform, valid));
  l.log.acknowledge(3);
  assert.deepEqual(l.log.export().map((e) => e.seq), [4, 5]);
  const small = new EdgeEventLog(randomBytes(32), 3);
  for (let i = 0; i < 5; i++) small.append({ at: new Date(T0).toISOString(), type: 'access.denied', doorId: 'd', subject: '', reason: 'test' });
  assert.equal(small.stored.length, 3);
  assert.equal(small.dropped, 2, 'the platform is told how many events were lost');
  assert.deepEqual(small.export().map((e) => e.seq), [3, 4, 5]);
});
