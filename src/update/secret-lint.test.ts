import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scanBytesForSecrets, SecretScanner } from './secret-lint.ts';

describe('update secret lint (NVR-5.2.3.1b, CAM-T-sys-7: no credentials or private keys in a package)', () => {
  const cases: [string, string][] = [
    ['pem-private-key', 'x\n-----BEGIN PRIVATE KEY-----\nMC4CAQ...\n'],
    ['pem-private-key', '-----BEGIN EC PRIVATE KEY-----'],
    ['pem-private-key', '-----BEGIN RSA PRIVATE KEY-----'],
    ['pem-private-key', '-----BEGIN OPENSSH PRIVATE KEY-----'],
    ['credential-assignment', 'DB_HOST=x\nPASSWORD=hunter2\n'],
    ['credential-assignment', 'https://x/?user=a&password=s3cret'],
    ['credential-assignment', 'api_key=AbCdEf123'],
    ['credential-json', '{"user":"a","password":"s3cret"}'],
    ['url-with-credentials', 'rtsp://admin:admin123@192.0.2.10/stream1'],
    ['aws-access-key-id', 'key AKIAIOSFODNN7EXAMPLE here'],
  ];
  for (const [rule, text] of cases) {
    test(`finds ${rule} in ${JSON.stringify(text.slice(0, 30))}`, () => {
      const f = scanBytesForSecrets('etc/conf', Buffer.from(text, 'utf8'));
      assert.equal(f?.rule, rule);
      assert.equal(f?.path, 'etc/conf');
    });
  }

  test('ordinary code and docs are not flagged', () => {
    const clean = [
      'const password = await readSecretLine("password: ");',
      'interface Login { password: string }',
      '"password": ""',
      '{"username": "...", "password": "..."}',
      '{"password":"[redacted]","token":"***"}',
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
      'https://example.com/docs/password-policy',
      'the password= option is read from standard input',
    ];
    for (const text of clean.slice(0, 7)) assert.equal(scanBytesForSecrets('src/x.ts', Buffer.from(text)), undefined, text);
    // A bare "password=" followed by a space has no value: not a stored secret.
    assert.equal(scanBytesForSecrets('doc.txt', Buffer.from(clean[7] ?? '')), undefined);
  });

  test('a secret split across chunk boundaries is still found, with its byte offset', () => {
    const text = Buffer.from(`${'a'.repeat(1000)}\n-----BEGIN PRIVATE KEY-----\n`);
    for (const cut of [1001, 1005, 1020, 1027]) {
      const s = new SecretScanner('f');
      s.update(text.subarray(0, cut));
      s.update(text.subarray(cut));
      assert.equal(s.finding?.rule, 'pem-private-key', `cut at ${cut}`);
      assert.equal(s.finding?.offset, 1001);
    }
  });
});
