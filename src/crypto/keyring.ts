// The keyring: one key-encryption key (KEK: a device-bound file, or a PKCS#11 token) wraps one
// random 256-bit data-encryption key (DEK) per purpose ('identity', 'audit',
// 'video:segment:<id>'...). Wrapped DEKs live in the `keys` table; plaintext DEKs only in memory
// (NVR-5.2.4.1a). Destroying a purpose's DEK crypto-shreds everything sealed under it
// (ACS-5.3.1.3); released key material is zeroed (ACS-5.3.1.4).
import { generateKeyPairSync, createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Config } from '../core/config.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import type { Store } from '../store/database.ts';
import { KEY_BYTES, open as openSealed, seal as sealWith } from './aead.ts';
import { openFileKek } from './kek-file.ts';
import { openPkcs11Kek } from './kek-pkcs11.ts';
import { deviceSignerFromPrivateKey, type DeviceSigner } from './signer.ts';

export interface KeyEncryptionKey {
  /** Identifies the KEK (never derived reversibly from it): 'file:<sha256 prefix>' or 'pkcs11:<token>:<label>'. */
  readonly id: string;
  wrap(dek: Buffer, purpose: string): Buffer;
  unwrap(wrapped: Buffer, purpose: string): Buffer;
  close(): void;
  /** Destroys the key itself (factory reset); closes it. */
  destroy(): void;
}

export interface KeyringOptions {
  config: Config['keyring'];
  store: Store;
  clock?: Clock;
}

/** Plaintext DEKs kept in memory; least recently used are zeroed and dropped beyond this. */
const DEK_CACHE_LIMIT = 1024;
const MAX_PURPOSE_LENGTH = 200;
const DEVICE_KEY_SETTING = 'device.signing_key';
const DEVICE_KEY_PURPOSE = 'device';

function openKek(config: Config['keyring']): KeyEncryptionKey {
  return config.kek === 'pkcs11' ? openPkcs11Kek(config) : openFileKek(config.kekFile);
}

/**
 * Destroys the configured key-encryption key (factory reset, NVR-5.1.3.2b, CAM-T-phys-7): every
 * DEK it wrapped — and so every secret, key and recording sealed under them — is unrecoverable,
 * in this database and in any copy of it. False when there was no key file to destroy.
 */
export function destroyKeyEncryptionKey(config: Config['keyring']): boolean {
  if (config.kek === 'file' && !existsSync(config.kekFile)) return false;
  openKek(config).destroy();
  return true;
}

export class Keyring {
  readonly kekId: string;
  readonly #kek: KeyEncryptionKey;
  readonly #store: Store;
  readonly #clock: Clock;
  /** purpose → plaintext DEK, in least-recently-used order. */
  readonly #cache = new Map<string, Buffer>();
  /** 'create:'|'open:' + purpose → load in progress, so concurrent first uses create one DEK. */
  readonly #loading = new Map<string, Promise<Buffer>>();
  /** Bumped by destroy(): a load that started before it must not repopulate the cache. */
  readonly #generation = new Map<string, number>();
  #signer: Promise<DeviceSigner> | undefined;
  #closed = false;

  private constructor(kek: KeyEncryptionKey, store: Store, clock: Clock) {
    this.#kek = kek;
    this.kekId = kek.id;
    this.#store = store;
    this.#clock = clock;
  }

  static async open(options: KeyringOptions): Promise<Keyring> {
    const kek = openKek(options.config);
    try {
      // NVR-5.1.2.1b: DEKs wrapped by another KEK mean this data volume came from elsewhere (or
      // the KEK was lost). Refuse at start rather than mixing keys or failing record by record.
      const foreign = await options.store.db.selectFrom('keys').select('kek_id').where('kek_id', '<>', kek.id).limit(1).executeTakeFirst();
      if (foreign !== undefined) {
        throw new VigilError(
          'VIGIL_KEYRING_UNAVAILABLE',
          `the stored keys were wrapped by key-encryption key '${foreign.kek_id}', but the configured one is '${kek.id}'`,
        );
      }
    } catch (err) {
      kek.close();
      throw err;
    }
    return new Keyring(kek, options.store, options.clock ?? systemClock);
  }

  /**
   * The DEK of `purpose`, created (random, 256-bit) and stored wrapped at first use. Returns a
   * copy the caller owns: wipe it with fill(0) when done (ACS-5.3.1.4).
   */
  async dek(purpose: string): Promise<Buffer> {
    return this.#withKey(purpose, true, (key) => Buffer.from(key));
  }

  async seal(purpose: string, plaintext: Uint8Array | string, aad?: string): Promise<Buffer> {
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    try {
      return await this.#withKey(purpose, true, (key) => sealWith(key, data, aad === undefined ? undefined : Buffer.from(aad, 'utf8')));
    } finally {
      if (typeof plaintext === 'string' && data instanceof Buffer) data.fill(0);
    }
  }

  async open(purpose: string, sealed: Uint8Array, aad?: string): Promise<Buffer> {
    // Opening never creates a DEK: a missing one was destroyed (or never existed).
    return this.#withKey(purpose, false, (key) => openSealed(key, sealed, aad === undefined ? undefined : Buffer.from(aad, 'utf8')));
  }

  /** Crypto-shredding (ACS-5.3.1.3): without its DEK, data sealed for `purpose` is gone for good. */
  async destroy(purpose: string): Promise<void> {
    this.#assertOpen();
    checkPurpose(purpose);
    this.#generation.set(purpose, (this.#generation.get(purpose) ?? 0) + 1);
    this.#forget(purpose);
    await this.#store.db.deleteFrom('keys').where('purpose', '=', purpose).execute();
  }

  /** The device's Ed25519 signing key: made at first use, stored sealed in `settings`. */
  async deviceSigner(): Promise<DeviceSigner> {
    this.#assertOpen();
    this.#signer ??= this.#loadDeviceSigner().catch((err: unknown) => {
      this.#signer = undefined;
      throw err;
    });
    return this.#signer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const purpose of [...this.#cache.keys()]) this.#forget(purpose);
    this.#loading.clear();
    this.#kek.close();
  }

  /**
   * Runs `use` on the cached DEK buffer synchronously, so a concurrent destroy() or eviction
   * (which zero the buffer) can never slip in between obtaining the key and using it.
   */
  async #withKey<T>(purpose: string, create: boolean, use: (key: Buffer) => T): Promise<T> {
    this.#assertOpen();
    checkPurpose(purpose);
    // Bounded: a load can finish and lose its cache entry to eviction or destroy() before this
    // continuation runs; then look again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const cached = this.#cache.get(purpose);
      if (cached !== undefined) {
        this.#cache.delete(purpose);
        this.#cache.set(purpose, cached);
        return use(cached);
      }
      // Loads that may create and loads that only open are tracked apart: an open() that finds
      // no key must not make a concurrent seal() fail.
      const slot = `${create ? 'create' : 'open'}:${purpose}`;
      let loading = this.#loading.get(slot);
      if (loading === undefined) {
        loading = this.#load(purpose, create).finally(() => this.#loading.delete(slot));
        this.#loading.set(slot, loading);
      }
      await loading;
      this.#assertOpen();
    }
    throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the data-encryption key for '${purpose}' was released while in use`);
  }

  async #load(purpose: string, create: boolean): Promise<Buffer> {
    const generation = this.#generation.get(purpose) ?? 0;
    let row = await this.#selectWrapped(purpose);
    if (row === undefined && !create) {
      throw new VigilError('VIGIL_CRYPTO_OPEN_FAILED', `cannot open sealed value: there is no data-encryption key for '${purpose}' (destroyed or never created)`);
    }
    if (row === undefined) {
      const fresh = randomBytes(KEY_BYTES);
      const wrapped = this.#kek.wrap(fresh, purpose);
      fresh.fill(0);
      // Another process (scale-out) may insert the same purpose concurrently: keep the first.
      await this.#store.db
        .insertInto('keys')
        .values({ purpose, wrapped_dek: wrapped, kek_id: this.kekId, created_at: this.#clock.now() })
        .onConflict((oc) => oc.column('purpose').doNothing())
        .execute();
      row = await this.#selectWrapped(purpose);
      if (row === undefined) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the data-encryption key for '${purpose}' was destroyed while being created`);
    }
    if (row.kek_id !== this.kekId) {
      throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the data-encryption key for '${purpose}' is wrapped by another key-encryption key ('${row.kek_id}')`);
    }
    const dek = this.#kek.unwrap(Buffer.from(row.wrapped_dek), purpose);
    if (dek.length !== KEY_BYTES) {
      dek.fill(0);
      throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the data-encryption key for '${purpose}' has the wrong length`);
    }
    if (this.#closed || (this.#generation.get(purpose) ?? 0) !== generation) {
      dek.fill(0);
      throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the data-encryption key for '${purpose}' was destroyed`);
    }
    this.#remember(purpose, dek);
    return dek;
  }

  #selectWrapped(purpose: string): Promise<{ wrapped_dek: Buffer; kek_id: string } | undefined> {
    return this.#store.db.selectFrom('keys').select(['wrapped_dek', 'kek_id']).where('purpose', '=', purpose).executeTakeFirst();
  }

  #remember(purpose: string, dek: Buffer): void {
    this.#forget(purpose);
    this.#cache.set(purpose, dek);
    while (this.#cache.size > DEK_CACHE_LIMIT) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#forget(oldest.value);
    }
  }

  #forget(purpose: string): void {
    const dek = this.#cache.get(purpose);
    if (dek === undefined) return;
    dek.fill(0);
    this.#cache.delete(purpose);
  }

  async #loadDeviceSigner(): Promise<DeviceSigner> {
    const existing = await this.#store.db.selectFrom('settings').select('value').where('key', '=', DEVICE_KEY_SETTING).executeTakeFirst();
    if (existing === undefined) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const der = privateKey.export({ type: 'pkcs8', format: 'der' });
      const sealed = await this.seal(DEVICE_KEY_PURPOSE, der, DEVICE_KEY_SETTING);
      der.fill(0);
      await this.#store.db
        .insertInto('settings')
        .values({ key: DEVICE_KEY_SETTING, value: sealed.toString('base64'), updated_at: this.#clock.now() })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    }
    // Read back what is stored, so every process of the site ends up with the same key.
    const row = await this.#store.db.selectFrom('settings').select('value').where('key', '=', DEVICE_KEY_SETTING).executeTakeFirstOrThrow();
    const der = await this.open(DEVICE_KEY_PURPOSE, Buffer.from(row.value, 'base64'), DEVICE_KEY_SETTING);
    try {
      return deviceSignerFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    } finally {
      der.fill(0);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', 'the keyring is closed');
  }
}

function checkPurpose(purpose: string): void {
  if (purpose.length === 0 || purpose.length > MAX_PURPOSE_LENGTH) {
    throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `a key purpose is 1 to ${MAX_PURPOSE_LENGTH} characters`);
  }
}
