// PBKDF2 at 600,000 iterations costs ~0.3 s per hash: this file does about nine of them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isVigilError, type ErrorCode } from '../core/errors.ts';
import { PasswordHasher } from './password.ts';

const hasher = new PasswordHasher({ iterations: 600_000, workers: 2, queueLimit: 8 });
after(() => hasher.close());

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => isVigilError(err, code);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

let encoded = '';

test('ACS-5.3.1.1: hash format pbkdf2-sha256$600000$<16-byte salt>$<32-byte hash>, and it is real PBKDF2-HMAC-SHA256', async () => {
  encoded = await hasher.hash('Correct-Horse-9-battery');
  const parts = encoded.split('$');
  assert.equal(parts.length, 4);
  assert.equal(parts[0], 'pbkdf2-sha256');
  assert.equal(parts[1], '600000');
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const hash = Buffer.from(parts[3] ?? '', 'base64');
  assert.equal(salt.length, 16);
  assert.equal(hash.length, 32);
  assert.deepEqual(pbkdf2Sync('Correct-Horse-9-battery', salt, 600_000, 32, 'sha256'), hash);
  assert.equal(encoded.includes('Correct-Horse'), false);
});

test('verify: the right password is true, a wrong one false; verifyDummy costs about as much as verify (NVR-5.4.1.1b)', async () => {
  assert.equal(await hasher.verify('Correct-Horse-9-battery', encoded), true);
  const wrong = await timed(() => hasher.verify('Correct-Horse-9-batterx', encoded));
  assert.equal(wrong.value, false);
  const dummy = await timed(() => hasher.verifyDummy('Correct-Horse-9-batterx'));
  assert.equal(dummy.value, false);
  const ratio = dummy.ms / wrong.ms;
  assert.ok(ratio > 0.5 && ratio < 2, `verifyDummy took ${dummy.ms.toFixed(0)} ms, verify ${wrong.ms.toFixed(0)} ms`);
});

test('a salt per hash: the same password hashes differently; a tampered stored hash does not verify', async () => {
  const again = await hasher.hash('Correct-Horse-9-battery');
  assert.notEqual(again, encoded);
  assert.notEqual(again.split('$')[2], encoded.split('$')[2]);
  const parts = encoded.split('$');
  const hash = Buffer.from(parts[3] ?? '', 'base64');
  hash[0] = (hash[0] ?? 0) ^ 1;
  const tampered = [parts[0], parts[1], parts[2], hash.toString('base64')].join('$');
  assert.equal(await hasher.verify('Correct-Horse-9-battery', tampered), false);
});

test('bounded concurrency: with 1 worker and a queue of 1, a third concurrent hash is refused at once', async () => {
  const small = new PasswordHasher({ iterations: 600_000, workers: 1, queueLimit: 1 });
  const first = small.hash('first-password-1');
  const second = small.hash('second-password-2');
  assert.equal(small.pending, 2);
  const third = await timed(() => small.hash('third-password-3').then(() => 'accepted', (err: unknown) => err));
  assert.ok(isVigilError(third.value, 'VIGIL_RATE_LIMITED'), 'the third request is rate limited');
  assert.ok(third.ms < 100, `refused immediately, not after queueing (${third.ms.toFixed(0)} ms)`);
  const done = await Promise.all([first, second]);
  assert.ok(done.every((h) => h.startsWith('pbkdf2-sha256$600000$')));
  assert.equal(small.pending, 0);
  await small.close();
  await assert.rejects(small.hash('after-close-pass'), isCode('VIGIL_INTERNAL'));
});

test('iterations below 600,000 and nonsense pool sizes are refused', () => {
  assert.throws(() => new PasswordHasher({ iterations: 599_999, workers: 1, queueLimit: 1 }), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  assert.throws(() => new PasswordHasher({ iterations: 1000, workers: 1, queueLimit: 1 }), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  assert.throws(() => new PasswordHasher({ iterations: 600_000, workers: 0, queueLimit: 1 }), isCode('VIGIL_CRYPTO_BAD_INPUT'));
});

test('passwords over 1024 bytes are refused before any work; multi-byte characters count as bytes', async () => {
  await assert.rejects(hasher.hash('a'.repeat(1025)), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  await assert.rejects(hasher.verify('é'.repeat(513), encoded), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  await assert.rejects(hasher.verifyDummy('a'.repeat(5000)), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  assert.equal(hasher.pending, 0);
});

test('malformed stored hashes are refused; a huge iteration count in a stored hash is not honoured', async () => {
  for (const bad of ['', 'bcrypt$10$abc', 'pbkdf2-sha256$600000$short$AAAA', 'pbkdf2-sha256$99999999$' + 'A'.repeat(24) + '$' + 'A'.repeat(44)]) {
    await assert.rejects(hasher.verify('whatever-password', bad), isCode('VIGIL_CRYPTO_BAD_INPUT'));
  }
  assert.equal(hasher.needsRehash(encoded), false);
});
