// Device signatures: Ed25519 (RFC 8032) for the device key; ECDSA P-256 / SHA-256 (FIPS 186-5)
// accepted when verifying an EC key. Used for audit checkpoints, evidence exports, credential
// sets and update manifests (ACS-5.3.1.1: approved algorithms only).
import { createHash, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { VigilError } from '../core/errors.ts';

export interface DeviceSigner {
  /** Hex SHA-256 of the public key's SubjectPublicKeyInfo DER. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(data: Uint8Array): Buffer;
}

/** Hex SHA-256 of the SPKI DER of `publicKey`: a stable, algorithm-independent key id. */
export function publicKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Wraps an Ed25519 private key as a DeviceSigner. The KeyObject keeps the key in OpenSSL memory. */
export function deviceSignerFromPrivateKey(privateKey: KeyObject): DeviceSigner {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'the device signing key must be an Ed25519 private key');
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = publicKeyId(publicKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId,
    publicKeyPem,
    sign: (data: Uint8Array): Buffer => nodeSign(null, data, privateKey),
  };
}

const P256_SIGNATURE_P1363_BYTES = 64;

/**
 * True only for a valid signature by `publicKeyPem` over `data`. Ed25519 keys, and ECDSA P-256
 * with SHA-256 (signature DER or IEEE P1363 r||s). Any other key, a malformed key or signature:
 * false — verification fails closed.
 */
export function verifySignature(publicKeyPem: string, data: Uint8Array, signature: Uint8Array): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return false;
  }
  try {
    if (key.asymmetricKeyType === 'ed25519') return nodeVerify(null, data, key, signature);
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
      const dsaEncoding = signature.length === P256_SIGNATURE_P1363_BYTES ? 'ieee-p1363' : 'der';
      return nodeVerify('sha256', data, { key, dsaEncoding }, signature);
    }
    return false;
  } catch {
    return false;
  }
}
