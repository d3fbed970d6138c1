// AES-256-GCM authenticated encryption: the one sealing format for every secret at rest
// (NVR-5.2.4.1a, ACS-5.3.1.1: FIPS 197 AES + NIST SP 800-38D GCM).
//
// Sealed format, version 1:
//   +---------+------------+----------------+-----------+
//   | 0x01    | iv (12)    | ciphertext (n) | tag (16)  |
//   +---------+------------+----------------+-----------+
// The IV is 96 random bits (SP 800-38D §8.2.2). With random IVs a key must not seal more than
// 2^32 messages (§8.3); keyring DEKs are per purpose and far below that bound.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VigilError } from '../core/errors.ts';

export const SEALED_VERSION = 1;
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes a sealed value adds to its plaintext. */
export const SEAL_OVERHEAD = 1 + IV_BYTES + TAG_BYTES;

const ALGORITHM = 'aes-256-gcm';

export function seal(key: Buffer, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const parts = sealParts(key, plaintext, aad);
  const sealed = Buffer.concat(parts);
  parts[1]?.fill(0);
  return sealed;
}

/**
 * The sealed format of `seal`, as its parts in order — [version ‖ iv (13)], ciphertext, tag —
 * for a caller that writes them out with one gathered write (fs writev) instead of copying a
 * large record into one buffer: same key, fresh random IV, AAD and bytes as `seal`.
 */
export function sealParts(key: Buffer, plaintext: Uint8Array, aad?: Uint8Array): Buffer[] {
  checkKey(key);
  const head = Buffer.allocUnsafe(1 + IV_BYTES);
  head[0] = SEALED_VERSION;
  const iv = randomBytes(IV_BYTES);
  iv.copy(head, 1);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  if (aad !== undefined) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const last = cipher.final(); // GCM is a stream mode: empty, kept for the general contract
  return last.length === 0 ? [head, body, cipher.getAuthTag()] : [head, Buffer.concat([body, last]), cipher.getAuthTag()];
}

export function open(key: Buffer, sealed: Uint8Array, aad?: Uint8Array): Buffer {
  checkKey(key);
  const input = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (input.length < SEAL_OVERHEAD) throw openFailed('sealed value is too short');
  if (input[0] !== SEALED_VERSION) throw openFailed('unknown sealed format version');
  const iv = input.subarray(1, 1 + IV_BYTES);
  const tag = input.subarray(input.length - TAG_BYTES);
  const body = input.subarray(1 + IV_BYTES, input.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  if (aad !== undefined) decipher.setAAD(aad);
  const plaintext = decipher.update(body);
  try {
    decipher.final();
  } catch (err) {
    // GCM releases plaintext before the tag is checked: wipe it, it is unauthenticated.
    plaintext.fill(0);
    throw openFailed('authentication failed (wrong key, wrong context or tampered data)', err);
  }
  return plaintext;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `an AES-256-GCM key is ${KEY_BYTES} bytes`);
  }
}

function openFailed(reason: string, cause?: unknown): VigilError {
  return new VigilError('VIGIL_CRYPTO_OPEN_FAILED', `cannot open sealed value: ${reason}`, cause === undefined ? undefined : { cause });
}
