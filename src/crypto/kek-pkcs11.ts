// KEK held in a PKCS#11 token (HSM, TPM-backed token, SoftHSM2 in tests): NVR-5.2.4.2a.
// The KEK is an AES-256 secret key object created inside the token, sensitive and
// non-extractable; DEKs are wrapped and unwrapped by the token with CKM_AES_GCM (PKCS#11 v2.40
// §2.12.3), a random 96-bit IV and the purpose as AAD. Stored form: iv (12) | ciphertext | tag (16).
// Calls are synchronous: they happen once per DEK load (DEKs are cached by the keyring).
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { Config } from '../core/config.ts';
import { VigilError } from '../core/errors.ts';
import { IV_BYTES, KEY_BYTES, TAG_BYTES } from './aead.ts';
import { dekWrapContext } from './kek-file.ts';
import type { KeyEncryptionKey } from './keyring.ts';
import { readPrivateFile } from './private-file.ts';

type Handle = Buffer;

interface LoadedModule {
  readonly lib: pkcs11js.PKCS11;
  refs: number;
  /** False when someone else in this process initialised the library: then they finalise it. */
  readonly ownsInit: boolean;
}

// One entry per configured module path: a PKCS#11 library is initialised once per process, and
// C_Finalize would end every session of every user of it, hence the reference count.
const modules = new Map<string, LoadedModule>();

export function openPkcs11Kek(config: Config['keyring']): KeyEncryptionKey {
  if (config.pkcs11PinFile === '') throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', 'keyring.pkcs11PinFile is required when kek is pkcs11');
  const pinBytes = readPrivateFile(config.pkcs11PinFile, 'VIGIL_KEYRING_KEK_PERMISSIONS');
  // The binding takes the PIN as a JS string, which cannot be wiped; the file buffer can.
  const pin = pinBytes.toString('utf8').trim();
  pinBytes.fill(0);
  if (pin === '') throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `PIN file ${config.pkcs11PinFile} is empty`);

  const loaded = acquireModule(config.pkcs11Module);
  const { lib } = loaded;
  let session: Handle | undefined;
  try {
    const slot = findTokenSlot(lib, config.pkcs11TokenLabel);
    session = call('C_OpenSession', () => lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
    const opened = session;
    try {
      lib.C_Login(opened, pkcs11js.CKU_USER, pin);
    } catch (err) {
      // Login state is per application and token: another keyring of this process did it.
      if (pkcs11Code(err) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw pkcs11Failed('C_Login', err);
    }
    const key = findOrCreateKek(lib, opened, config.pkcs11KeyLabel);
    return new Pkcs11Kek(`pkcs11:${config.pkcs11TokenLabel}:${config.pkcs11KeyLabel}`, config.pkcs11Module, loaded, opened, key);
  } catch (err) {
    if (session !== undefined) closeSessionQuietly(lib, session);
    releaseModule(config.pkcs11Module, loaded);
    throw err;
  }
}

class Pkcs11Kek implements KeyEncryptionKey {
  readonly id: string;
  readonly #modulePath: string;
  readonly #module: LoadedModule;
  #session: Handle | undefined;
  readonly #key: Handle;

  constructor(id: string, modulePath: string, module: LoadedModule, session: Handle, key: Handle) {
    this.id = id;
    this.#modulePath = modulePath;
    this.#module = module;
    this.#session = session;
    this.#key = key;
  }

  wrap(dek: Buffer, purpose: string): Buffer {
    const session = this.#live();
    const iv = randomBytes(IV_BYTES);
    const lib = this.#module.lib;
    call('C_EncryptInit', () => lib.C_EncryptInit(session, gcm(iv, purpose), this.#key));
    const out = call('C_Encrypt', () => lib.C_Encrypt(session, dek, Buffer.alloc(dek.length + TAG_BYTES)));
    return Buffer.concat([iv, out]);
  }

  unwrap(wrapped: Buffer, purpose: string): Buffer {
    const session = this.#live();
    if (wrapped.length < IV_BYTES + TAG_BYTES) throw openFailed();
    const lib = this.#module.lib;
    call('C_DecryptInit', () => lib.C_DecryptInit(session, gcm(wrapped.subarray(0, IV_BYTES), purpose), this.#key));
    const body = wrapped.subarray(IV_BYTES);
    try {
      // SoftHSM buffers GCM input and needs room for it; the result is the plaintext slice.
      return lib.C_Decrypt(session, body, Buffer.alloc(body.length));
    } catch (err) {
      // Tag mismatch: wrong purpose, tampered row, or a DEK wrapped by another key.
      throw openFailed(err);
    }
  }

  close(): void {
    if (this.#session === undefined) return;
    closeSessionQuietly(this.#module.lib, this.#session);
    this.#session = undefined;
    releaseModule(this.#modulePath, this.#module);
  }

  /** Destroys the KEK object on the token (C_DestroyObject): every wrapped DEK is gone for good. */
  destroy(): void {
    const session = this.#live();
    const lib = this.#module.lib;
    call('C_DestroyObject', () => lib.C_DestroyObject(session, this.#key));
    this.close();
  }

  #live(): Handle {
    if (this.#session === undefined) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', 'the key-encryption key is closed');
    return this.#session;
  }
}

function gcm(iv: Buffer, purpose: string): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: IV_BYTES * 8, aad: dekWrapContext(purpose), tagBits: TAG_BYTES * 8 };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

function findTokenSlot(lib: pkcs11js.PKCS11, label: string): Handle {
  const slots = call('C_GetSlotList', () => lib.C_GetSlotList(true));
  for (const slot of slots) {
    const info = call('C_GetTokenInfo', () => lib.C_GetTokenInfo(slot));
    // Token labels are blank-padded to 32 bytes (PKCS#11 §3.2 CK_TOKEN_INFO).
    if (info.label.replace(/[ \0]+$/, '') === label) return slot;
  }
  throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `no PKCS#11 token labelled '${label}' is present`);
}

function findOrCreateKek(lib: pkcs11js.PKCS11, session: Handle, label: string): Handle {
  const template: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ];
  call('C_FindObjectsInit', () => lib.C_FindObjectsInit(session, template));
  let found: Handle[];
  try {
    found = call('C_FindObjects', () => lib.C_FindObjects(session, 2));
  } finally {
    call('C_FindObjectsFinal', () => lib.C_FindObjectsFinal(session));
  }
  if (found.length > 1) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `more than one secret key labelled '${label}' on the token`);
  const existing = found[0];
  if (existing !== undefined) {
    checkKekAttributes(lib, session, existing, label);
    return existing;
  }
  return call('C_GenerateKey', () =>
    lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: KEY_BYTES },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
    ]),
  );
}

/** A pre-provisioned KEK is used only if it is AES-256 and can never leave the token. */
function checkKekAttributes(lib: pkcs11js.PKCS11, session: Handle, key: Handle, label: string): void {
  const attrs = call('C_GetAttributeValue', () =>
    lib.C_GetAttributeValue(session, key, [
      { type: pkcs11js.CKA_KEY_TYPE },
      { type: pkcs11js.CKA_VALUE_LEN },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
    ]),
  );
  const [keyType, valueLen, sensitive, extractable] = attrs.map((a) => (Buffer.isBuffer(a.value) ? a.value : Buffer.alloc(0)));
  const ok =
    keyType !== undefined &&
    readUlong(keyType) === pkcs11js.CKK_AES &&
    valueLen !== undefined &&
    readUlong(valueLen) === KEY_BYTES &&
    sensitive?.[0] === 1 &&
    extractable?.[0] === 0;
  if (!ok) {
    throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `token key '${label}' must be a sensitive, non-extractable AES-256 key (NVR-5.2.4.2a)`);
  }
}

/** CK_ULONG attribute values come back in host byte order, 4 or 8 bytes wide. */
function readUlong(value: Buffer): number {
  if (value.length === 8) return Number(value.readBigUInt64LE(0));
  if (value.length === 4) return value.readUInt32LE(0);
  return -1;
}

function acquireModule(modulePath: string): LoadedModule {
  const current = modules.get(modulePath);
  if (current !== undefined) {
    current.refs += 1;
    return current;
  }
  const lib = new pkcs11js.PKCS11();
  call('load', () => lib.load(modulePath));
  let ownsInit = true;
  try {
    lib.C_Initialize();
  } catch (err) {
    if (pkcs11Code(err) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw pkcs11Failed('C_Initialize', err);
    ownsInit = false;
  }
  const loaded: LoadedModule = { lib, refs: 1, ownsInit };
  modules.set(modulePath, loaded);
  return loaded;
}

function releaseModule(modulePath: string, loaded: LoadedModule): void {
  loaded.refs -= 1;
  if (loaded.refs > 0) return;
  modules.delete(modulePath);
  if (loaded.ownsInit) call('C_Finalize', () => loaded.lib.C_Finalize());
}

function closeSessionQuietly(lib: pkcs11js.PKCS11, session: Handle): void {
  try {
    lib.C_CloseSession(session);
  } catch {
    // The session is gone already (token removed, library finalised): nothing left to close.
  }
}

function call<T>(method: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw pkcs11Failed(method, err);
  }
}

function pkcs11Code(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

function pkcs11Failed(method: string, err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  // The binding's messages are CKR_* names: safe to show, they carry no key material or PIN.
  const reason = err instanceof Error ? err.message : String(err);
  return new VigilError('VIGIL_PKCS11_FAILED', `PKCS#11 ${method} failed: ${reason}`, { cause: err });
}

function openFailed(cause?: unknown): VigilError {
  return new VigilError('VIGIL_CRYPTO_OPEN_FAILED', 'cannot unwrap the data-encryption key with the token key', cause === undefined ? undefined : { cause });
}
