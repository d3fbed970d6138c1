import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { isVigilError } from '../core/errors.ts';
import { deviceSignerFromPrivateKey, verifySignature } from './signer.ts';

// RFC 8032 §7.1, TEST 1 (empty message).
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
const SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

test('ACS-5.3.1.1: Ed25519 known answer (RFC 8032 test 1); keyId is SHA-256 of the SPKI DER', () => {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: SEED.toString('base64url'), x: PUBLIC.toString('base64url') }, format: 'jwk' });
  const signer = deviceSignerFromPrivateKey(key);
  assert.equal(signer.sign(Buffer.alloc(0)).toString('hex'), SIGNATURE);
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410 §4): fixed 12-byte prefix + the raw key.
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), PUBLIC]);
  assert.equal(signer.keyId, createHash('sha256').update(spki).digest('hex'));
  assert.ok(verifySignature(signer.publicKeyPem, Buffer.alloc(0), Buffer.from(SIGNATURE, 'hex')));
  assert.equal(verifySignature(signer.publicKeyPem, Buffer.from([0]), Buffer.from(SIGNATURE, 'hex')), false);
});

test('ECDSA P-256 / SHA-256 signatures verify in DER and IEEE P1363 form; modified data does not', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const data = Buffer.from('credential set v42');
  const der = sign('sha256', data, privateKey);
  const p1363 = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  assert.equal(p1363.length, 64);
  assert.ok(verifySignature(pem, data, der));
  assert.ok(verifySignature(pem, data, p1363));
  assert.equal(verifySignature(pem, Buffer.from('credential set v43'), der), false);
  assert.equal(verifySignature(pem, Buffer.from('credential set v43'), p1363), false);
});

test('verification fails closed: other key types, other curves, garbage keys and signatures', () => {
  const data = Buffer.from('x');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.equal(verifySignature(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), data, sign('sha256', data, rsa.privateKey)), false);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  assert.equal(verifySignature(p384.publicKey.export({ type: 'spki', format: 'pem' }).toString(), data, sign('sha384', data, p384.privateKey)), false);
  assert.equal(verifySignature('not a key', data, Buffer.alloc(64)), false);
  const ed = generateKeyPairSync('ed25519');
  assert.equal(verifySignature(ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(), data, Buffer.alloc(3)), false);
});

test('only an Ed25519 private key can be the device signer', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => deviceSignerFromPrivateKey(ec.privateKey), (err: unknown) => isVigilError(err, 'VIGIL_CRYPTO_BAD_INPUT'));
  const ed = generateKeyPairSync('ed25519');
  assert.throws(() => deviceSignerFromPrivateKey(ed.publicKey), (err: unknown) => isVigilError(err, 'VIGIL_CRYPTO_BAD_INPUT'));
});
