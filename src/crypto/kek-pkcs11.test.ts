// NVR-5.2.4.2a: the KEK in a PKCS#11 token, tested for real against SoftHSM2 (apt: softhsm2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pkcs11js from 'pkcs11js';
import type { Config } from '../core/config.ts';
import { isVigilError, type ErrorCode } from '../core/errors.ts';
import { createTestStore, describeOnEachStore } from '../../test/helpers/stores.ts';
import { destroyKeyEncryptionKey, Keyring } from './keyring.ts';
import { openPkcs11Kek } from './kek-pkcs11.ts';

const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'vigil-test';
const PIN = '123456';

// SoftHSM reads its configuration at C_Initialize: point it at a private token dir first.
const root = mkdtempSync(path.join(tmpdir(), 'vigil-pkcs11-'));
process.env['SOFTHSM2_CONF'] = path.join(root, 'softhsm2.conf');
const pinFile = path.join(root, 'pin');

function config(keyLabel: string, pin: string = pinFile): Config['keyring'] {
  return { kek: 'pkcs11', kekFile: '', pkcs11Module: SOFTHSM_MODULE, pkcs11TokenLabel: TOKEN, pkcs11KeyLabel: keyLabel, pkcs11PinFile: pin };
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => isVigilError(err, code);
}

before(() => {
  const util = findSoftHsmUtil();
  assert.ok(util !== undefined && existsSync(SOFTHSM_MODULE), 'SoftHSM2 is required for the PKCS#11 keyring tests: apt-get install softhsm2');
  mkdirSync(path.join(root, 'tokens'), { mode: 0o700 });
  writeFileSync(process.env['SOFTHSM2_CONF'] ?? '', `directories.tokendir = ${path.join(root, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync(util, ['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '12345678'], { stdio: 'pipe' });
  writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

function findSoftHsmUtil(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = path.join(dir, 'softhsm2-util');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Reads attributes of the KEK object through a session of our own (the keyring is closed). */
function inspectKek(label: string): { extractable: number | undefined; sensitive: number | undefined; valueReadable: boolean; count: number } {
  const lib = new pkcs11js.PKCS11();
  lib.load(SOFTHSM_MODULE);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === TOKEN);
    assert.ok(slot !== undefined);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, PIN);
    lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    const found = lib.C_FindObjects(session, 10);
    lib.C_FindObjectsFinal(session);
    const key = found[0];
    assert.ok(key !== undefined, 'the KEK object exists on the token');
    const [extractable, sensitive] = lib.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SENSITIVE }]);
    let valueReadable = true;
    try {
      lib.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }]);
    } catch (err) {
      assert.equal((err as { code?: number }).code, pkcs11js.CKR_ATTRIBUTE_SENSITIVE);
      valueReadable = false;
    }
    lib.C_CloseSession(session);
    const byte = (v: unknown): number | undefined => (Buffer.isBuffer(v) ? v[0] : undefined);
    return { extractable: byte(extractable?.value), sensitive: byte(sensitive?.value), valueReadable, count: found.length };
  } finally {
    lib.C_Finalize();
  }
}

describeOnEachStore('keyring with a PKCS#11 KEK (SoftHSM2)', (get, dialect) => {
  const label = `vigil-kek-${dialect}`;

  test('NVR-5.2.4.2a: seal/open with a token KEK, and again after a reopen (same key found)', async () => {
    const keyring = await Keyring.open({ config: config(label), store: get().store });
    assert.equal(keyring.kekId, `pkcs11:${TOKEN}:${label}`);
    const sealed = await keyring.seal('identity', 'operator pin 4711', 'users/7');
    assert.equal((await keyring.open('identity', sealed, 'users/7')).toString(), 'operator pin 4711');
    const dek = await keyring.dek('identity');
    await keyring.close();

    const row = await get().store.db.selectFrom('keys').selectAll().where('purpose', '=', 'identity').executeTakeFirstOrThrow();
    const wrapped = Buffer.from(row.wrapped_dek);
    assert.equal(wrapped.length, 12 + 32 + 16, 'iv | ciphertext | tag');
    assert.equal(wrapped.indexOf(dek.subarray(0, 8)), -1, 'the DEK is not stored in plaintext');

    const reopened = await Keyring.open({ config: config(label), store: get().store });
    assert.equal((await reopened.open('identity', sealed, 'users/7')).toString(), 'operator pin 4711');
    await assert.rejects(reopened.open('identity', sealed, 'users/8'), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    await reopened.close();
  });

  test('NVR-5.2.4.2a: the token KEK is sensitive and non-extractable; CKA_VALUE cannot be read', () => {
    const info = inspectKek(label);
    assert.equal(info.count, 1, 'exactly one KEK object: reopen found it instead of making another');
    assert.equal(info.extractable, 0);
    assert.equal(info.sensitive, 1);
    assert.equal(info.valueReadable, false);
  });

  test('the token binds the purpose: a wrapped DEK moved to another purpose does not unwrap', async () => {
    const keyring = await Keyring.open({ config: config(label), store: get().store });
    const sealed = await keyring.seal('audit', 'chain head');
    const row = await get().store.db.selectFrom('keys').selectAll().where('purpose', '=', 'audit').executeTakeFirstOrThrow();
    await get()
      .store.db.insertInto('keys')
      .values({ purpose: 'audit-copy', wrapped_dek: Buffer.from(row.wrapped_dek), kek_id: row.kek_id, created_at: row.created_at })
      .execute();
    await assert.rejects(keyring.open('audit-copy', sealed), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
    assert.equal((await keyring.open('audit', sealed)).toString(), 'chain head');
    await keyring.close();
  });

  test('two keyrings on one token in one process share the module safely', async () => {
    const a = await Keyring.open({ config: config(label), store: get().store });
    const b = await Keyring.open({ config: config(label), store: get().store });
    const sealed = await a.seal('identity', 'shared');
    await a.close();
    assert.equal((await b.open('identity', sealed)).toString(), 'shared');
    await b.close();
  });
});

test('factory reset destroys the token KEK: a DEK it wrapped never unwraps again, a new KEK is made under the same label', () => {
  const label = 'vigil-kek-destroyed';
  const original = openPkcs11Kek(config(label));
  const wrapped = original.wrap(Buffer.alloc(32, 7), 'identity');
  original.close();
  assert.equal(inspectKek(label).count, 1);
  assert.equal(destroyKeyEncryptionKey(config(label)), true);
  const replacement = openPkcs11Kek(config(label));
  try {
    assert.throws(() => replacement.unwrap(wrapped, 'identity'), isCode('VIGIL_CRYPTO_OPEN_FAILED'));
  } finally {
    replacement.close();
  }
  assert.equal(inspectKek(label).count, 1, 'exactly the new object');
});

test('a PIN file readable by others is refused; a wrong PIN fails without leaking it; an unknown token is unavailable', async () => {
  const loose = path.join(root, 'pin-loose');
  writeFileSync(loose, PIN, { mode: 0o600 });
  chmodSync(loose, 0o644);
  const { store, dispose } = await createTestStore('sqlite');
  await assert.rejects(Keyring.open({ config: config('vigil-kek-x', loose), store }), isCode('VIGIL_KEYRING_KEK_PERMISSIONS'));

  const wrong = path.join(root, 'pin-wrong');
  writeFileSync(wrong, '999999', { mode: 0o600 });
  await assert.rejects(Keyring.open({ config: config('vigil-kek-x', wrong), store }), (err: unknown) => {
    assert.ok(isVigilError(err, 'VIGIL_PKCS11_FAILED'));
    assert.match(err.message, /CKR_PIN_INCORRECT/);
    assert.doesNotMatch(err.message, /999999/);
    return true;
  });

  const cfg = { ...config('vigil-kek-x'), pkcs11TokenLabel: 'no-such-token' };
  await assert.rejects(Keyring.open({ config: cfg, store }), isCode('VIGIL_KEYRING_UNAVAILABLE'));
  await dispose();
});
