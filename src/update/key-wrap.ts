// Wrapping the package content key for a device (NVR-5.2.3.1b, CAM-T-sys-4): ECIES-style
// ECDH-ES with a one-time key per recipient (X25519, RFC 7748, or P-256, SP 800-56A), the shared
// secret through HKDF-SHA256 (RFC 5869, SP 800-56C) with both public keys as salt, and the content
// key sealed with AES-256-GCM (SP 800-38D) with the device key id as AAD. Only the holder of the
// device private key can recover the content key, so the package is unreadable without it.
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { VigilError } from '../core/errors.ts';
import { publicKeyId } from '../crypto/signer.ts';
import { deviceCurveOf } from './keys.ts';
import { GCM_IV_BYTES, GCM_TAG_BYTES, type Recipient } from './package-format.ts';

const INFO = Buffer.from('vigil-update-content-key-wrap-v1', 'utf8');
export const CONTENT_KEY_BYTES = 32;

function kek(shared: Buffer, ephemeralSpki: Buffer, deviceSpki: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralSpki, deviceSpki]), INFO, 32));
}

export function wrapContentKey(contentKey: Buffer, devicePublicKey: KeyObject): Recipient {
  const curve = deviceCurveOf(devicePublicKey);
  if (curve === undefined) throw new VigilError('VIGIL_UPDATE_KEY_INVALID', 'a device update key is X25519 or P-256');
  const eph = curve === 'X25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ephSpki = eph.publicKey.export({ type: 'spki', format: 'der' });
  const devSpki = devicePublicKey.export({ type: 'spki', format: 'der' });
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: devicePublicKey });
  const key = kek(shared, ephSpki, devSpki);
  shared.fill(0);
  const deviceKeyId = publicKeyId(devicePublicKey);
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(deviceKeyId, 'ascii'));
  const wrapped = Buffer.concat([cipher.update(contentKey), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return { deviceKeyId, curve, ephemeralPublicKey: ephSpki.toString('base64'), wrapIv: iv.toString('base64'), wrappedKey: wrapped.toString('base64') };
}

/** The content key, or VIGIL_UPDATE_NOT_FOR_DEVICE when no recipient is this device's key. */
export function unwrapContentKey(recipients: readonly Recipient[], devicePrivateKey: KeyObject): Buffer {
  const devicePublicKey = createPublicKey(devicePrivateKey);
  const deviceKeyId = publicKeyId(devicePublicKey);
  const r = recipients.find((x) => x.deviceKeyId === deviceKeyId);
  if (r === undefined) throw new VigilError('VIGIL_UPDATE_NOT_FOR_DEVICE', `the package is not encrypted for this device key (${deviceKeyId.slice(0, 16)}…)`);
  try {
    const ephSpki = Buffer.from(r.ephemeralPublicKey, 'base64');
    const eph = createPublicKey({ key: ephSpki, format: 'der', type: 'spki' });
    if (deviceCurveOf(eph) !== r.curve || deviceCurveOf(devicePrivateKey) !== r.curve) throw new Error('curve mismatch');
    const shared = diffieHellman({ privateKey: devicePrivateKey, publicKey: eph });
    const key = kek(shared, ephSpki, devicePublicKey.export({ type: 'spki', format: 'der' }));
    shared.fill(0);
    const wrapped = Buffer.from(r.wrappedKey, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(r.wrapIv, 'base64'), { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(Buffer.from(deviceKeyId, 'ascii'));
    decipher.setAuthTag(wrapped.subarray(CONTENT_KEY_BYTES));
    const contentKey = Buffer.concat([decipher.update(wrapped.subarray(0, CONTENT_KEY_BYTES)), decipher.final()]);
    key.fill(0);
    return contentKey;
  } catch (err) {
    throw new VigilError('VIGIL_UPDATE_NOT_FOR_DEVICE', 'the content key cannot be unwrapped with this device key', { cause: err });
  }
}
