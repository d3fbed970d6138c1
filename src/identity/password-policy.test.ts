import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasswordPolicy, checkPasswordPolicy } from './password-policy.ts';
import { canonicalUsername, normaliseUsername } from './username.ts';
import { isVigilError } from '../core/errors.ts';

const base = { username: 'alice', minLength: 12 };

test('NVR-5.4.2.1a / CCE-33789-9: shorter than the minimum is refused', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Abcdef-123' }), ['min-length']);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Abcdefgh-123', minLength: 16 }), ['min-length']);
});

test('CCE-33789-9: the configured minimum never goes below 12', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Abcdef-1234', minLength: 8 }), ['min-length']);
});

test('CCE-33777-4: two character classes are refused, three pass', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'abcdefghijklmnop1' }), ['complexity']);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'ABCDEFGHIJKLmnop' }), ['complexity']);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'abcdefghijklmno1!' }), []);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Abcdefghijklmno1' }), []);
});

test('CCE-33777-4: a password containing the username, any case, is refused', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'My-ALICE-pass-99' }), ['contains-username']);
});

test('more than 128 characters is refused', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Aa1!'.repeat(32) + 'x' }), ['max-length']);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Aa1!'.repeat(32) }), []);
});

test('a valid password passes; several violations are all reported with stable ids', () => {
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'Correct-Horse-42' }), []);
  assert.deepEqual(checkPasswordPolicy({ ...base, password: 'alice' }), ['min-length', 'complexity', 'contains-username']);
  assert.throws(
    () => assertPasswordPolicy({ ...base, password: 'short' }),
    (err: unknown) => isVigilError(err, 'VIGIL_PASSWORD_POLICY') && Array.isArray(err.details?.['rules']) && (err.details['rules'] as string[]).includes('min-length'),
  );
});

test('ACS-5.1.1.10: usernames are canonical (NFKC, trimmed, lower-case)', () => {
  assert.equal(normaliseUsername('  Alice '), 'alice');
  assert.equal(normaliseUsername('ＡＬＩＣＥ'), 'alice');
  assert.equal(normaliseUsername('ops.team_1@site-a'), 'ops.team_1@site-a');
  for (const bad of ['', '   ', 'a b', 'alice!', 'x'.repeat(65), 'ä']) {
    assert.equal(canonicalUsername(bad), null, bad);
    assert.throws(() => normaliseUsername(bad), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
  }
});
