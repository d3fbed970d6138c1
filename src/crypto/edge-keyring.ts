// The keyring of an edge role (door controller, smart lock, simulated reader), which has no
// database: the same device-bound key-encryption key file as the platform (0600, outside the data
// directory, NVR-5.1.2.1b), wrapping one random 256-bit DEK per purpose kept in
// <dataDir>/keys/<purpose>.dek. A copied data directory decrypts nothing without the KEK file.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { KEY_BYTES, open as openSealed, seal } from './aead.ts';
import { openFileKek } from './kek-file.ts';
import type { KeyEncryptionKey } from './keyring.ts';
import { readPrivateFile, writeFileAtomic } from './private-file.ts';

const PURPOSE = /^[a-z][a-z0-9.-]{0,63}$/;
/** Sealed state files of an edge role are small; a credential set of 2M entries is ~300 MB. */
export const MAX_SEALED_FILE_BYTES = 1024 * 1024 * 1024;

export class EdgeKeyring {
  readonly #kek: KeyEncryptionKey;
  readonly #dir: string;
  readonly #keys = new Map<string, Buffer>();

  private constructor(kek: KeyEncryptionKey, dir: string) {
    this.#kek = kek;
    this.#dir = dir;
  }

  static open(kekFile: string, dataDir: string): EdgeKeyring {
    return new EdgeKeyring(openFileKek(kekFile), path.join(dataDir, 'keys'));
  }

  /** The DEK of `purpose` (created at first use); owned by the keyring, do not wipe it. */
  key(purpose: string): Buffer {
    if (!PURPOSE.test(purpose)) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'a key purpose is 1-64 lower-case letters, digits, dot or dash');
    const cached = this.#keys.get(purpose);
    if (cached !== undefined) return cached;
    const file = path.join(this.#dir, `${purpose}.dek`);
    let key: Buffer;
    if (existsSync(file)) {
      try {
        key = this.#kek.unwrap(readPrivateFile(file, 'VIGIL_KEYRING_KEK_PERMISSIONS'), purpose);
      } catch (err) {
        if (err instanceof VigilError && err.code === 'VIGIL_KEYRING_KEK_PERMISSIONS') throw err;
        throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', `the ${purpose} key does not open with this device's key-encryption key (data copied from another device, or the KEK was replaced)`, { cause: err });
      }
    } else {
      key = randomBytes(KEY_BYTES);
      writeFileAtomic(file, this.#kek.wrap(key, purpose), 0o600);
    }
    this.#keys.set(purpose, key);
    return key;
  }

  seal(purpose: string, plaintext: Uint8Array, aad: string): Buffer {
    return seal(this.key(purpose), plaintext, Buffer.from(aad, 'utf8'));
  }

  open(purpose: string, sealed: Uint8Array, aad: string): Buffer {
    return openSealed(this.key(purpose), sealed, Buffer.from(aad, 'utf8'));
  }

  /** Seals `data` into `file` atomically (0600). */
  writeSealed(file: string, purpose: string, data: Uint8Array): void {
    writeFileAtomic(file, this.seal(purpose, data, `${purpose}|${path.basename(file)}`), 0o600);
  }

  /** The opened content of `file`, or undefined when there is none; a file that does not open is an error. */
  readSealed(file: string, purpose: string): Buffer | undefined {
    if (!existsSync(file)) return undefined;
    const sealed = readStateFile(file);
    try {
      return this.open(purpose, sealed, `${purpose}|${path.basename(file)}`);
    } catch (err) {
      throw new VigilError('VIGIL_EDGE_STATE_TAMPERED', `${file} does not open with this device's key: edited, or from another device`, { cause: err });
    }
  }

  close(): void {
    for (const key of this.#keys.values()) key.fill(0);
    this.#keys.clear();
    this.#kek.close();
  }
}

/** A sealed state file: regular, 0600 (checked on the open descriptor), bounded in size. */
function readStateFile(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0) throw new VigilError('VIGIL_KEYRING_KEK_PERMISSIONS', `${file} must be a regular file of mode 0600`);
    if (stat.size > MAX_SEALED_FILE_BYTES) throw new VigilError('VIGIL_EDGE_STATE_TAMPERED', `${file} is larger than ${MAX_SEALED_FILE_BYTES} bytes`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
