import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { isVigilError } from '../core/errors.ts';
import { IV_BYTES, SEAL_OVERHEAD, TAG_BYTES, open, seal, sealParts } from './aead.ts';

const h = (hex: string): Buffer => Buffer.from(hex, 'hex');

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 14–16 (AES-256).
const TC15_KEY = h('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
const TC15_IV = h('cafebabefacedbaddecaf888');
const TC15_PT = h(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
    '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
);
const TC15_CT = h(
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
    '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
);
const TC16_AAD = h('feedfacedeadbeeffeedfacedeadbeefabaddad2');

function assertOpenFails(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isVigilError(err, 'VIGIL_CRYPTO_OPEN_FAILED'));
}

test('ACS-5.3.1.1: AES-256-GCM known answers, GCM spec test cases 14 and 15 (raw cipher)', () => {
  const c14 = createCipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12));
  assert.equal(Buffer.concat([c14.update(Buffer.alloc(16)), c14.final()]).toString('hex'), 'cea7403d4d606b6e074ec5d3baf39d18');
  assert.equal(c14.getAuthTag().toString('hex'), 'd0d1c8a799996bf0265b98b5d48ab919');

  const c15 = createCipheriv('aes-256-gcm', TC15_KEY, TC15_IV);
  assert.deepEqual(Buffer.concat([c15.update(TC15_PT), c15.final()]), TC15_CT);
  assert.equal(c15.getAuthTag().toString('hex'), 'b094dac5d93471bdec1a502270e3cc6c');
});

test('open() reads the sealed format: GCM spec test case 16 (60 bytes + AAD) framed as version 1', () => {
  const sealed = Buffer.concat([Buffer.from([1]), TC15_IV, TC15_CT.subarray(0, 60), h('76fc6ece0f4e1768cddf8853bb2d551b')]);
  assert.deepEqual(open(TC15_KEY, sealed, TC16_AAD), TC15_PT.subarray(0, 60));
});

test('NVR-5.2.4.1a: seal/open round trip, format [1][iv 12][ct][tag 16], fresh IV each time', () => {
  const key = randomBytes(32);
  const plaintext = Buffer.from('camera rtsp password: hunter2hunter2');
  const a = seal(key, plaintext, Buffer.from('ctx'));
  const b = seal(key, plaintext, Buffer.from('ctx'));
  assert.equal(a.length, plaintext.length + SEAL_OVERHEAD);
  assert.equal(a[0], 1);
  assert.notDeepEqual(a.subarray(1, 1 + IV_BYTES), b.subarray(1, 1 + IV_BYTES));
  assert.equal(a.indexOf(plaintext), -1);
  assert.deepEqual(open(key, a, Buffer.from('ctx')), plaintext);
  assert.deepEqual(open(key, seal(key, new Uint8Array(0))), Buffer.alloc(0));
});

test('a flipped bit in version, iv, ciphertext or tag is rejected with VIGIL_CRYPTO_OPEN_FAILED', () => {
  const key = randomBytes(32);
  const sealed = seal(key, Buffer.from('door 12 schedule'));
  const positions = [0, 1, IV_BYTES, 1 + IV_BYTES, sealed.length - TAG_BYTES - 1, sealed.length - TAG_BYTES, sealed.length - 1];
  for (const at of positions) {
    const tampered = Buffer.from(sealed);
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    assertOpenFails(() => open(key, tampered));
  }
  assert.equal(open(key, sealed).toString(), 'door 12 schedule');
});

test('wrong AAD, missing AAD and wrong key are rejected', () => {
  const key = randomBytes(32);
  const sealed = seal(key, Buffer.from('secret'), Buffer.from('purpose-a'));
  assertOpenFails(() => open(key, sealed, Buffer.from('purpose-b')));
  assertOpenFails(() => open(key, sealed));
  assertOpenFails(() => open(randomBytes(32), sealed, Buffer.from('purpose-a')));
});

test('truncated and empty inputs are rejected', () => {
  const key = randomBytes(32);
  const sealed = seal(key, Buffer.from('0123456789'));
  for (const length of [0, 1, SEAL_OVERHEAD - 1, SEAL_OVERHEAD, sealed.length - 1]) {
    assertOpenFails(() => open(key, sealed.subarray(0, length)));
  }
});

test('a key that is not 256 bits is refused (ACS-5.3.1.1: AES-256 only)', () => {
  assert.throws(() => seal(randomBytes(16), Buffer.from('x')), (err: unknown) => isVigilError(err, 'VIGIL_CRYPTO_BAD_INPUT'));
});

test('sealParts() is the sealed format in pieces: joined, open() reads it; fresh IV; the AAD is bound', () => {
  const key = randomBytes(32);
  const plaintext = randomBytes(70_000);
  const parts = sealParts(key, plaintext, Buffer.from('segment|record 3'));
  assert.equal(parts.length, 3);
  assert.equal(parts[0]?.length, 1 + IV_BYTES);
  assert.equal(parts[0]?.[0], 1);
  assert.equal(parts[1]?.length, plaintext.length);
  assert.equal(parts[2]?.length, TAG_BYTES);
  const joined = Buffer.concat(parts);
  assert.equal(joined.length, plaintext.length + SEAL_OVERHEAD);
  assert.deepEqual(open(key, joined, Buffer.from('segment|record 3')), plaintext);
  assertOpenFails(() => open(key, joined, Buffer.from('segment|record 4')));
  assert.notDeepEqual(sealParts(key, plaintext)[0], sealParts(key, plaintext)[0]);
});
