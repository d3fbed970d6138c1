import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  GENESIS_HASH,
  MAX_DETAIL_KEYS,
  MAX_FIELD_CHARS,
  boundText,
  canonicalDetails,
  checkpointMessage,
  eventHashInput,
  hashEvent,
  sanitizeDetails,
  verifyEd25519,
} from './canonical.ts';
import { createTestSigner } from './test-doubles.ts';

const KAT_EVENT = {
  seq: 42,
  ts: '2026-01-02T03:04:05.678Z',
  category: 'auth',
  action: 'auth.login',
  actor: 'user:alice',
  source: '192.0.2.7',
  target: 'user:alice',
  outcome: 'failure',
  details: canonicalDetails({ reason: 'bad password', attempt: 3, mfa: false, '10': null, '9': 'é"\n' }),
  prev_hash: 'ab'.repeat(32),
};

test('NVR-5.2.7.1b: event hash known answer (also reproduced by an independent Python json implementation)', () => {
  assert.equal(KAT_EVENT.details, '{"10":null,"9":"é\\"\\n","attempt":3,"mfa":false,"reason":"bad password"}');
  const expectedInput =
    'vigil-audit-event-v1\n' +
    '{"action":"auth.login","actor":"user:alice","category":"auth",' +
    '"details":"{\\"10\\":null,\\"9\\":\\"é\\\\\\"\\\\n\\",\\"attempt\\":3,\\"mfa\\":false,\\"reason\\":\\"bad password\\"}",' +
    '"outcome":"failure","prev_hash":"' + 'ab'.repeat(32) + '","seq":42,"source":"192.0.2.7","target":"user:alice",' +
    '"ts":"2026-01-02T03:04:05.678Z"}';
  assert.equal(eventHashInput(KAT_EVENT).toString('utf8'), expectedInput);
  assert.equal(hashEvent(KAT_EVENT), '84b23d6fa9204c97fae6ce85d8a88e7627f5aaf7b819902a4b4441b503eabebf');
  assert.equal(hashEvent(KAT_EVENT), createHash('sha256').update(expectedInput, 'utf8').digest('hex'));
});

test('every hashed field changes the hash', () => {
  const base = hashEvent(KAT_EVENT);
  for (const key of ['ts', 'category', 'action', 'actor', 'source', 'target', 'outcome', 'details', 'prev_hash'] as const) {
    assert.notEqual(hashEvent({ ...KAT_EVENT, [key]: `${KAT_EVENT[key]}x` }), base, key);
  }
  assert.notEqual(hashEvent({ ...KAT_EVENT, seq: 43 }), base);
  assert.equal(GENESIS_HASH, '0'.repeat(64));
});

test('canonical details follow RFC 8785 key order, not JS object order', () => {
  assert.equal(canonicalDetails({ b: 1, a: 'x', '2': true, '10': null }), '{"10":null,"2":true,"a":"x","b":1}');
  assert.equal(canonicalDetails({}), '{}');
});

test('ACS-5.6.1.8: secret-looking detail keys are redacted, case-insensitively', () => {
  const d = sanitizeDetails({
    password: 'hunter2hunter2',
    newPassword: 'x',
    apiToken: 't',
    clientSecret: 's',
    privateKey: 'k',
    PIN: '1234',
    totpCode: '123456',
    Cookie: 'sid=1',
    Authorization: 'Bearer abc',
    username: 'alice',
    attempts: 3,
  });
  for (const k of ['password', 'newPassword', 'apiToken', 'clientSecret', 'privateKey', 'PIN', 'totpCode', 'Cookie', 'Authorization']) {
    assert.equal(d[k], '[redacted]', k);
  }
  assert.equal(d['username'], 'alice');
  assert.equal(d['attempts'], 3);
  assert.ok(!canonicalDetails(d).includes('hunter2'));
});

test('fields and details are bounded; unstorable characters are replaced', () => {
  assert.equal(boundText('a'.repeat(5000)).length, MAX_FIELD_CHARS);
  assert.equal(boundText('a\u0000b'), 'a\uFFFDb');
  // a cut through a surrogate pair leaves no lone surrogate
  const cut = boundText('a'.repeat(MAX_FIELD_CHARS - 1) + '😀');
  assert.ok(cut.isWellFormed());
  const many: Record<string, number> = {};
  for (let i = 0; i < 100; i++) many[`k${String(i)}`] = i;
  const d = sanitizeDetails(many);
  assert.equal(Object.keys(d).length, MAX_DETAIL_KEYS + 1);
  assert.equal(d['_omittedKeys'], 100 - MAX_DETAIL_KEYS);
  assert.deepEqual(sanitizeDetails({ n: Number.NaN, o: { nested: 1 } as unknown as string }), { n: null, o: '[unsupported]' });
  assert.deepEqual(sanitizeDetails(null), {});
});

test('checkpoint signatures verify only with the right key and bytes', () => {
  const signer = createTestSigner();
  const other = createTestSigner();
  const msg = checkpointMessage(10, 'cd'.repeat(32), '2026-01-01T00:00:00.000Z');
  assert.equal(msg.toString('utf8'), `vigil-audit-checkpoint\n10\n${'cd'.repeat(32)}\n2026-01-01T00:00:00.000Z`);
  const sig = signer.sign(msg).toString('base64');
  assert.equal(verifyEd25519(signer.publicKeyPem, msg, sig), true);
  assert.equal(verifyEd25519(other.publicKeyPem, msg, sig), false);
  assert.equal(verifyEd25519(signer.publicKeyPem, checkpointMessage(11, 'cd'.repeat(32), '2026-01-01T00:00:00.000Z'), sig), false);
  assert.equal(verifyEd25519(signer.publicKeyPem, msg, 'not base64!'), false);
  assert.equal(verifyEd25519('not a key', msg, sig), false);
});
