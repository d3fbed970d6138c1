// Update keys. Vendor: Ed25519 signing pair (RFC 8032) — the private half stays with the vendor's
// build system. Device: an ECDH pair (X25519 by default, P-256 where a FIPS 140 key-establishment
// scheme is required, SP 800-56A) — the private half stays on the device and is what makes a
// package readable (NVR-5.2.3.1b). Private keys are written 0600 and refused if group/other can
// read them (crypto/private-file.ts).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeFileSync, constants } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { createPrivateFileExclusive, readPrivateFile } from '../crypto/private-file.ts';
import { publicKeyId } from '../crypto/signer.ts';
import type { DeviceCurve } from './package-format.ts';

const MAX_PUBLIC_KEY_FILE_BYTES = 64 * 1024;

export const KEY_FILES = {
  vendorPrivate: 'vendor-signing.key.pem',
  vendorPublic: 'vendor-signing.pub.pem',
  devicePrivate: 'device-update.key.pem',
  devicePublic: 'device-update.pub.pem',
} as const;

function keyInvalid(message: string, cause?: unknown): VigilError {
  return new VigilError('VIGIL_UPDATE_KEY_INVALID', message, cause === undefined ? undefined : { cause });
}

export function deviceCurveOf(key: KeyObject): DeviceCurve | undefined {
  if (key.asymmetricKeyType === 'x25519') return 'X25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'P-256';
  return undefined;
}

/** Reads a small public key PEM file (size-bounded, regular file only). */
export function readPublicKeyFile(file: string): KeyObject {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (err) {
    throw keyInvalid(`cannot open ${file}`, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_PUBLIC_KEY_FILE_BYTES) throw keyInvalid(`${file} is not a public key file`);
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    try {
      return createPublicKey(buf.subarray(0, n));
    } catch (err) {
      throw keyInvalid(`${file} is not a PEM public key`, err);
    }
  } finally {
    closeSync(fd);
  }
}

function readPrivateKeyFile(file: string): KeyObject {
  const pem = readPrivateFile(file, 'VIGIL_UPDATE_KEY_INVALID', 'VIGIL_UPDATE_KEY_INVALID');
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw keyInvalid(`${file} is not a PEM private key`, err);
  } finally {
    pem.fill(0);
  }
}

export function readVendorSigningKey(file: string): KeyObject {
  const key = readPrivateKeyFile(file);
  if (key.asymmetricKeyType !== 'ed25519') throw keyInvalid(`${file}: the vendor signing key must be Ed25519`);
  return key;
}

export function readVendorPublicKey(file: string): KeyObject {
  const key = readPublicKeyFile(file);
  if (key.asymmetricKeyType !== 'ed25519') throw keyInvalid(`${file}: the vendor public key must be Ed25519`);
  return key;
}

export function readDevicePublicKey(file: string): KeyObject {
  const key = readPublicKeyFile(file);
  if (deviceCurveOf(key) === undefined) throw keyInvalid(`${file}: a device update key is X25519 or P-256`);
  return key;
}

export function readDevicePrivateKey(file: string): KeyObject {
  const key = readPrivateKeyFile(file);
  if (deviceCurveOf(key) === undefined) throw keyInvalid(`${file}: a device update key is X25519 or P-256`);
  return key;
}

export { publicKeyId };

export interface GeneratedKeys {
  files: string[];
  vendorKeyId?: string;
  deviceKeyId?: string;
}

/** Writes new key pairs into `dir`; never overwrites an existing file. */
export function generateUpdateKeys(dir: string, kind: 'vendor' | 'device' | 'both', curve: DeviceCurve = 'X25519'): GeneratedKeys {
  const out: GeneratedKeys = { files: [] };
  const write = (name: string, pem: string, secret: boolean): void => {
    const file = path.join(dir, name);
    if (secret) createPrivateFileExclusive(file, Buffer.from(pem, 'utf8'));
    // Public halves are not secret; exclusive creation still guards against overwriting.
    else writeFileSync(file, pem, { flag: 'wx', mode: 0o644 });
    out.files.push(file);
  };
  if (kind !== 'device') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    write(KEY_FILES.vendorPrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), true);
    write(KEY_FILES.vendorPublic, publicKey.export({ type: 'spki', format: 'pem' }).toString(), false);
    out.vendorKeyId = publicKeyId(publicKey);
  }
  if (kind !== 'vendor') {
    const { privateKey, publicKey } = curve === 'X25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    write(KEY_FILES.devicePrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), true);
    write(KEY_FILES.devicePublic, publicKey.export({ type: 'spki', format: 'pem' }).toString(), false);
    out.deviceKeyId = publicKeyId(publicKey);
  }
  return out;
}
