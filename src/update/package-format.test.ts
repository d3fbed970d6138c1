import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HEADER_BYTES, parseHeader, serializeHeader, serializePackagePrefix, serializeSignedPrefix, splitPackagePrefix, type PackageHeader } from './package-format.ts';

const HEADER: PackageHeader = {
  format: 1,
  product: 'vigil',
  version: '1.2.3',
  minimumFromVersion: '1.0.0',
  securityFloor: null,
  createdAt: '2025-01-02T03:04:05.000Z',
  vendorKeyId: 'a'.repeat(64),
  manifestSha256: 'b'.repeat(64),
  payload: { cipher: 'AES-256-GCM', iv: Buffer.alloc(12, 1).toString('base64'), length: 100, sha256: 'c'.repeat(64) },
  recipients: [{ deviceKeyId: 'd'.repeat(64), curve: 'X25519', ephemeralPublicKey: Buffer.alloc(44, 2).toString('base64'), wrapIv: Buffer.alloc(12, 3).toString('base64'), wrappedKey: Buffer.alloc(48, 4).toString('base64') }],
};

describe('update package prefix (byte-exact, NVR-5.2.3.1d)', () => {
  test('"VIGILUPD" | format u16 = 1 | header length u32 | header | sig length u16 = 64 | signature', () => {
    const signed = serializeSignedPrefix(Buffer.from('{}'));
    assert.equal(signed.toString('hex'), Buffer.from('VIGILUPD').toString('hex') + '0001' + '00000002' + '7b7d');
    const prefix = serializePackagePrefix(signed, Buffer.alloc(64, 0xab));
    assert.equal(prefix.subarray(16, 18).toString('hex'), '0040');
    const split = splitPackagePrefix(Buffer.concat([prefix, Buffer.from('payload')]));
    assert.ok(split !== undefined);
    assert.deepEqual(split.signed, signed);
    assert.equal(split.headerBytes.toString(), '{}');
    assert.deepEqual(split.signature, Buffer.alloc(64, 0xab));
    assert.equal(split.payloadOffset, 82);
    assert.equal(splitPackagePrefix(prefix.subarray(0, 81)), undefined, 'truncated signature: needs more');
  });
  test('bad magic, unknown format, oversize header length and wrong signature length are refused without reading further', () => {
    const good = serializePackagePrefix(serializeSignedPrefix(Buffer.from('{}')), Buffer.alloc(64));
    const patch = (at: number, hex: string): Buffer => {
      const b = Buffer.from(good);
      Buffer.from(hex, 'hex').copy(b, at);
      return b;
    };
    assert.throws(() => splitPackagePrefix(patch(0, '58')), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => splitPackagePrefix(patch(8, '0002')), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => splitPackagePrefix(patch(10, (MAX_HEADER_BYTES + 1).toString(16).padStart(8, '0'))), { code: 'VIGIL_UPDATE_TOO_LARGE' });
    assert.throws(() => splitPackagePrefix(patch(10, '00000000')), { code: 'VIGIL_UPDATE_TOO_LARGE' });
    assert.throws(() => splitPackagePrefix(patch(16, '0041')), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => serializeSignedPrefix(Buffer.alloc(MAX_HEADER_BYTES + 1)), { code: 'VIGIL_UPDATE_TOO_LARGE' });
  });
});

describe('update package header', () => {
  test('serialize → parse round trip', () => {
    assert.deepEqual(parseHeader(serializeHeader(HEADER)), HEADER);
    assert.deepEqual(parseHeader(serializeHeader({ ...HEADER, securityFloor: '1.2.0' })).securityFloor, '1.2.0');
  });
  test('strict: unknown fields, bad versions, weak cipher, bad base64 lengths, no recipients', () => {
    const json = JSON.parse(serializeHeader(HEADER).toString()) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ ...json, ...patch }));
    assert.throws(() => parseHeader(bad({ extra: 1 })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ version: '1.2.3-rc1' })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ payload: { ...HEADER.payload, cipher: 'AES-128-CBC' } })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ payload: { ...HEADER.payload, iv: Buffer.alloc(8).toString('base64') } })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ payload: { ...HEADER.payload, length: -1 } })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ recipients: [] })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(bad({ recipients: [{ ...HEADER.recipients[0], curve: 'secp256k1' }] })), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseHeader(Buffer.from('not json')), { code: 'VIGIL_UPDATE_MALFORMED' });
  });
});
