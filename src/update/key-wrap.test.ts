import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { unwrapContentKey, wrapContentKey } from './key-wrap.ts';

describe('update content-key wrap (NVR-5.2.3.1b: unreadable without a device key)', () => {
  for (const curve of ['X25519', 'P-256'] as const) {
    const pair = (): ReturnType<typeof generateKeyPairSync> => (curve === 'X25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    test(`${curve}: the device key unwraps; another device key of the same class does not`, () => {
      const device = pair();
      const other = pair();
      const key = randomBytes(32);
      const r = wrapContentKey(key, device.publicKey);
      assert.equal(r.curve, curve);
      assert.deepEqual(unwrapContentKey([r], device.privateKey), key);
      assert.throws(() => unwrapContentKey([r], other.privateKey), { code: 'VIGIL_UPDATE_NOT_FOR_DEVICE' });
      // Relabelled to the other device's id: the ECDH secret differs, the GCM tag fails.
      const forged = { ...wrapContentKey(key, other.publicKey), ...{ ephemeralPublicKey: r.ephemeralPublicKey, wrappedKey: r.wrappedKey, wrapIv: r.wrapIv } };
      assert.throws(() => unwrapContentKey([forged], other.privateKey), { code: 'VIGIL_UPDATE_NOT_FOR_DEVICE' });
    });
    test(`${curve}: a flipped bit in the wrapped key is refused`, () => {
      const device = pair();
      const r = wrapContentKey(randomBytes(32), device.publicKey);
      const wrapped = Buffer.from(r.wrappedKey, 'base64');
      wrapped[3] = (wrapped[3] ?? 0) ^ 1;
      assert.throws(() => unwrapContentKey([{ ...r, wrappedKey: wrapped.toString('base64') }], device.privateKey), { code: 'VIGIL_UPDATE_NOT_FOR_DEVICE' });
    });
  }
  test('each wrap uses a fresh ephemeral key', () => {
    const device = generateKeyPairSync('x25519');
    const key = randomBytes(32);
    assert.notEqual(wrapContentKey(key, device.publicKey).ephemeralPublicKey, wrapContentKey(key, device.publicKey).ephemeralPublicKey);
  });
});
