import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../core/config.ts';
import { isVigilError, type ErrorCode } from '../core/errors.ts';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { openFileKek } from './kek-file.ts';
import { Keyring } from './keyring.ts';
import { verifySignature } from './signer.ts';

let root = '';
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vigil-keyring-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function fileKeyring(kekFile: string): Config['keyring'] {
  return { kek: 'file', kekFile, pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'vigil-kek', pkcs11PinFile: '' };
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => isVigilError(err, code);
}

describeOnEachStore('keyring', (get, dialect) => {
  // One KEK per engine for the suite: the keyring refuses a store whose DEKs another KEK wrapped.
  const kekFile = (): string => path.join(root, dialect, 'keyring', 'kek.key');
  const openKeyring = (): Promise<Keyring> => Keyring.open({ config: fileKeyring(kekFile()), store: get().store });

  test('NVR-5.2.4.1a: seal/open round trip survives a reopen with the same KEK file and store', async () => {
    const first = await openKeyring();
    const sealed = await first.seal('identity', 'alice@example.com', 'users/1/profile');
    assert.equal(sealed.indexOf(Buffer.from('alice@example.com')), -1);
    assert.equal((await first.open('identity', sealed, 'users/1/profile')).toString(), 'alice@example.com');
    await first.close();

    const second = await openKeyring();
    assert.equal(second.kekId, first.kekId);
    assert.equal((await second.open('identity', sealed, 'users/1/profile')).toString(), 'alice@example.com');
    await assert.rejects(second.open('identity', sealed, 'users/2/profile'), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    await second.close();
  });

  test('NVR-5.1.2.1b: the KEK file is created 0600 in a 0700 directory, outside the data', () => {
    assert.equal(statSync(kekFile()).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(kekFile())).mode & 0o777, 0o700);
    assert.equal(statSync(kekFile()).size, 32);
  });

  test('NVR-5.2.4.1a: the keys table holds the DEK only wrapped by the KEK, never in plaintext', async () => {
    const keyring = await openKeyring();
    const dek = await keyring.dek('audit');
    assert.equal(dek.length, 32);
    const row = await get().store.db.selectFrom('keys').selectAll().where('purpose', '=', 'audit').executeTakeFirstOrThrow();
    const wrapped = Buffer.from(row.wrapped_dek);
    assert.equal(row.kek_id, keyring.kekId);
    assert.equal(wrapped.indexOf(dek), -1);
    assert.equal(wrapped.indexOf(dek.subarray(0, 8)), -1);
    // ...and it is the KEK that unwraps it.
    const kek = openFileKek(kekFile());
    assert.deepEqual(kek.unwrap(wrapped, 'audit'), dek);
    kek.close();
    await keyring.close();
  });

  test('concurrent first uses of a purpose create one DEK', async () => {
    const keyring = await openKeyring();
    const deks = await Promise.all(Array.from({ length: 8 }, () => keyring.dek('race')));
    for (const dek of deks) assert.deepEqual(dek, deks[0]);
    const rows = await get().store.db.selectFrom('keys').select('purpose').where('purpose', '=', 'race').execute();
    assert.equal(rows.length, 1);
    await keyring.close();
  });

  test('a DEK wrapped for purpose A cannot be unwrapped as purpose B', async () => {
    const keyring = await openKeyring();
    const sealed = await keyring.seal('camera-credentials', 'rtsp-password');
    const row = await get().store.db.selectFrom('keys').selectAll().where('purpose', '=', 'camera-credentials').executeTakeFirstOrThrow();
    await keyring.close();
    // Move the wrapped DEK to another purpose's row, as an attacker with database access could.
    await get()
      .store.db.insertInto('keys')
      .values({ purpose: 'backup', wrapped_dek: Buffer.from(row.wrapped_dek), kek_id: row.kek_id, created_at: row.created_at })
      .execute();
    const reopened = await openKeyring();
    await assert.rejects(reopened.open('backup', sealed), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    assert.equal((await reopened.open('camera-credentials', sealed)).toString(), 'rtsp-password');
    await reopened.close();
  });

  test('NVR-5.1.2.1b: a different KEK file cannot open the data', async () => {
    const keyring = await openKeyring();
    const sealed = await keyring.seal('identity', 'secret');
    await keyring.close();
    const otherFile = path.join(root, dialect, 'other-device', 'kek.key');
    await assert.rejects(Keyring.open({ config: fileKeyring(otherFile), store: get().store }), isCode('VIGIL_KEYRING_UNAVAILABLE'));
    // Not only the id check: the other KEK cannot unwrap the stored DEK either.
    const row = await get().store.db.selectFrom('keys').selectAll().where('purpose', '=', 'identity').executeTakeFirstOrThrow();
    const other = openFileKek(otherFile);
    assert.notEqual(other.id, keyring.kekId);
    assert.throws(() => other.unwrap(Buffer.from(row.wrapped_dek), 'identity'), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    other.close();
    assert.ok(sealed.length > 0);
  });

  test('ACS-5.3.1.3: destroy() crypto-shreds: the DEK row is gone and open() fails, even after reopen', async () => {
    const keyring = await openKeyring();
    const sealed = await keyring.seal('video:segment:42', Buffer.from('fmp4 fragment'));
    assert.equal((await keyring.open('video:segment:42', sealed)).toString(), 'fmp4 fragment');
    await keyring.destroy('video:segment:42');
    const rows = await get().store.db.selectFrom('keys').select('purpose').where('purpose', '=', 'video:segment:42').execute();
    assert.equal(rows.length, 0);
    await assert.rejects(keyring.open('video:segment:42', sealed), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    // A failed open does not bring a (new) key back.
    assert.equal((await get().store.db.selectFrom('keys').select('purpose').where('purpose', '=', 'video:segment:42').execute()).length, 0);
    await keyring.close();
    const reopened = await openKeyring();
    await assert.rejects(reopened.open('video:segment:42', sealed), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    await reopened.close();
  });

  test('device signer: stable across reopen, verifiable, and rejects modified data', async () => {
    const keyring = await openKeyring();
    const signer = await keyring.deviceSigner();
    assert.equal(signer.keyId.length, 64);
    assert.match(signer.publicKeyPem, /BEGIN PUBLIC KEY/);
    const data = Buffer.from('audit checkpoint seq=1000 hash=ab12');
    const signature = signer.sign(data);
    assert.ok(verifySignature(signer.publicKeyPem, data, signature));
    assert.equal(verifySignature(signer.publicKeyPem, Buffer.from('audit checkpoint seq=1001 hash=ab12'), signature), false);
    const badSig = Buffer.from(signature);
    badSig[0] = (badSig[0] ?? 0) ^ 1;
    assert.equal(verifySignature(signer.publicKeyPem, data, badSig), false);
    // The private key is stored sealed, not as PKCS#8 in the clear.
    const setting = await get().store.db.selectFrom('settings').selectAll().where('key', '=', 'device.signing_key').executeTakeFirstOrThrow();
    assert.doesNotMatch(setting.value, /PRIVATE KEY|^MC4CAQAwBQYDK2Vw/);
    await keyring.close();

    const reopened = await openKeyring();
    const again = await reopened.deviceSigner();
    assert.equal(again.keyId, signer.keyId);
    assert.equal(again.publicKeyPem, signer.publicKeyPem);
    assert.ok(verifySignature(signer.publicKeyPem, data, again.sign(data)));
    await reopened.close();
  });

  test('ACS-5.3.1.4: a closed keyring refuses to work', async () => {
    const keyring = await openKeyring();
    await keyring.seal('identity', 'x');
    await keyring.close();
    await assert.rejects(keyring.seal('identity', 'x'), isCode('VIGIL_KEYRING_UNAVAILABLE'));
    await assert.rejects(keyring.dek('identity'), isCode('VIGIL_KEYRING_UNAVAILABLE'));
  });
});

test('NVR-5.2.4.1a: a KEK file readable by group or others is refused, not silently fixed', () => {
  const dir = path.join(root, 'perm');
  const file = path.join(dir, 'kek.key');
  openFileKek(file).close();
  chmodSync(file, 0o644);
  assert.throws(() => openFileKek(file), isCode('VIGIL_KEYRING_KEK_PERMISSIONS'));
  assert.equal(statSync(file).mode & 0o777, 0o644);
  chmodSync(file, 0o640);
  assert.throws(() => openFileKek(file), isCode('VIGIL_KEYRING_KEK_PERMISSIONS'));
  chmodSync(file, 0o600);
  const kek = openFileKek(file);
  assert.match(kek.id, /^file:[0-9a-f]{16}$/);
  kek.close();
});

test('a KEK file of the wrong length is refused', () => {
  const file = path.join(root, 'short', 'kek.key');
  openFileKek(file).close();
  writeFileSync(file, randomBytes(16), { mode: 0o600 });
  assert.throws(() => openFileKek(file), isCode('VIGIL_KEYRING_UNAVAILABLE'));
  assert.equal(readFileSync(file).length, 16);
});

test('file KEK: wrap binds the purpose; a closed KEK is wiped and refuses', () => {
  const kek = openFileKek(path.join(root, 'wrap', 'kek.key'));
  const dek = randomBytes(32);
  const wrapped = kek.wrap(dek, 'identity');
  assert.deepEqual(kek.unwrap(wrapped, 'identity'), dek);
  assert.throws(() => kek.unwrap(wrapped, 'audit'), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
  kek.close();
  assert.throws(() => kek.wrap(dek, 'identity'), isCode('VIGIL_KEYRING_UNAVAILABLE'));
});
