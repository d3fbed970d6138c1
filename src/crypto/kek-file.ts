// The default key-encryption key: 32 random bytes in a device-bound file, 0600, outside dataDir
// (loadConfig refuses a kekFile inside it), so a copied data volume cannot be decrypted
// elsewhere (NVR-5.1.2.1b). DEKs are wrapped with AES-256-GCM, the purpose bound in the AAD.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { VigilError } from '../core/errors.ts';
import { KEY_BYTES, open, seal } from './aead.ts';
import type { KeyEncryptionKey } from './keyring.ts';
import { createPrivateFileExclusive, readPrivateFile } from './private-file.ts';

/** AAD of a wrapped DEK: a DEK wrapped for one purpose cannot be unwrapped for another. */
export function dekWrapContext(purpose: string): Buffer {
  return Buffer.from(`vigil-dek:${purpose}`, 'utf8');
}

export function openFileKek(file: string): KeyEncryptionKey {
  const key = loadOrCreate(file);
  if (key.length !== KEY_BYTES) {
    key.fill(0);
    throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `KEK file ${file} does not hold a ${KEY_BYTES}-byte key`);
  }
  return new FileKek(key, file);
}

function loadOrCreate(file: string): Buffer {
  try {
    return readPrivateFile(file, 'VIGIL_KEYRING_KEK_PERMISSIONS');
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const fresh = randomBytes(KEY_BYTES);
  try {
    createPrivateFileExclusive(file, fresh);
    return fresh;
  } catch (err) {
    fresh.fill(0);
    // Another process created it first: use theirs.
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'EEXIST') return readPrivateFile(file, 'VIGIL_KEYRING_KEK_PERMISSIONS');
    throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `cannot create KEK file ${file}`, { cause: err });
  }
}

function isMissing(err: unknown): boolean {
  return err instanceof VigilError && err.cause instanceof Error && (err.cause as NodeJS.ErrnoException).code === 'ENOENT';
}

class FileKek implements KeyEncryptionKey {
  readonly id: string;
  #key: Buffer | undefined;
  readonly #file: string;

  constructor(key: Buffer, file: string) {
    this.#key = key;
    this.#file = file;
    // A fingerprint, not the key: it tells a different KEK apart without revealing this one.
    this.id = 'file:' + createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  wrap(dek: Buffer, purpose: string): Buffer {
    return seal(this.#live(), dek, dekWrapContext(purpose));
  }

  unwrap(wrapped: Buffer, purpose: string): Buffer {
    return open(this.#live(), wrapped, dekWrapContext(purpose));
  }

  close(): void {
    // ACS-5.3.1.4: wipe key material when released.
    this.#key?.fill(0);
    this.#key = undefined;
  }

  /** Overwrites the key file with random bytes, flushes and removes it: every wrapped DEK is gone for good. */
  destroy(): void {
    const fd = openSync(this.#file, 'r+');
    try {
      writeSync(fd, randomBytes(fstatSync(fd).size), 0, undefined, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(this.#file);
    this.close();
  }

  #live(): Buffer {
    if (this.#key === undefined) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', 'the key-encryption key is closed');
    return this.#key;
  }
}
