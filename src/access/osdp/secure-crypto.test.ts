import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { osdpCrc16 } from './check.ts';
import { OSDP_COMMAND, OSDP_REPLY, SCS } from './constants.ts';
import { parsePacket } from './packet.ts';
import {
  clientCryptogram,
  computeMac,
  decryptData,
  defaultInstallKey,
  deriveSessionKeys,
  encryptData,
  initialRmac,
  isDefaultInstallKey,
  serverCryptogram,
  type SessionKeys,
} from './secure-crypto.ts';
import { OsdpSecureSession } from './secure-session.ts';

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

// OSDP v2.2 Annex E, Secure Channel example under SCBK-D: ACU (CP) random RND.A and PD random RND.B.
const RND_A = h('B0 B1 B2 B3 B4 B5 B6 B7');
const RND_B = h('A0 A1 A2 A3 A4 A5 A6 A7');
const E_S_ENC = h('BF 8D C2 A8 32 9A CB 8C 67 C6 D0 CD 9A 45 16 82');
const E_S_MAC1 = h('5E 86 C6 76 60 3B DE E2 D8 BE AF E1 78 63 73 32');
const E_S_MAC2 = h('6F DA 86 E8 57 77 7E 81 13 20 35 75 82 39 17 2E');
const E_CLIENT_CRYPTOGRAM = h('FD E5 D2 F4 28 EC 16 31 24 71 EA 3C 02 BD 77 96');
const E_SERVER_CRYPTOGRAM = h('26 D3 35 6E 07 76 2D 26 28 01 FC 8E 66 65 A8 91');
const E_RMAC_I = h('B2 A3 00 57 EB 98 BA 22 29 EC 1F 87 56 62 B5 24');

// NIST SP 800-38A F.2.1 (AES-128-CBC): used for the CBC-MAC chaining of Annex D.4.
const NIST_KEY = h('2b7e151628aed2a6abf7158809cf4f3c');
const NIST_IV = h('000102030405060708090a0b0c0d0e0f');
const NIST_PT = h(
  '6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710',
);
const NIST_CT_BLOCK1 = h('7649abac8119b246cee98e9b12e9197d');
const NIST_CT_BLOCK4 = h('3ff1caa1681fac09120eca307586e1a7');

test('Annex D.3: SCBK-D is 0x30..0x3F and recognised', () => {
  assert.deepEqual(defaultInstallKey(), h('303132333435363738393A3B3C3D3E3F'));
  assert.ok(isDefaultInstallKey(h('303132333435363738393A3B3C3D3E3F')));
  assert.ok(!isDefaultInstallKey(Buffer.alloc(16, 1)));
});

test('Annex E / D.5: session keys S-ENC, S-MAC1, S-MAC2 from SCBK-D and RND.A', () => {
  const keys = deriveSessionKeys(defaultInstallKey(), RND_A);
  assert.deepEqual(keys.sEnc, E_S_ENC);
  assert.deepEqual(keys.sMac1, E_S_MAC1);
  assert.deepEqual(keys.sMac2, E_S_MAC2);
});

test('Annex E / D.3: client cryptogram, server cryptogram and initial R-MAC (RMAC_I)', () => {
  const keys = deriveSessionKeys(defaultInstallKey(), RND_A);
  assert.deepEqual(clientCryptogram(keys, RND_A, RND_B), E_CLIENT_CRYPTOGRAM);
  assert.deepEqual(serverCryptogram(keys, RND_A, RND_B), E_SERVER_CRYPTOGRAM);
  assert.deepEqual(initialRmac(keys, E_SERVER_CRYPTOGRAM), E_RMAC_I);
});

const NIST_KEYS: SessionKeys = { sEnc: NIST_KEY, sMac1: NIST_KEY, sMac2: NIST_KEY };

test('Annex D.4: MAC is AES-CBC (S-MAC1 then S-MAC2 on the last block) — NIST SP 800-38A F.2.1', () => {
  assert.deepEqual(computeMac(NIST_KEYS, NIST_IV, NIST_PT.subarray(0, 16)), NIST_CT_BLOCK1);
  assert.deepEqual(computeMac(NIST_KEYS, NIST_IV, NIST_PT), NIST_CT_BLOCK4);
  // With different S-MAC1/S-MAC2 the last block must use S-MAC2: the result changes.
  const split = computeMac({ ...NIST_KEYS, sMac2: Buffer.alloc(16, 7) }, NIST_IV, NIST_PT);
  assert.notDeepEqual(split, NIST_CT_BLOCK4);
  // A message not aligned to 16 is padded 0x80 00..: equal to the MAC of the explicitly padded form.
  const msg = h('000102030405060708090a0b0c0d0e');
  assert.deepEqual(computeMac(NIST_KEYS, NIST_IV, msg), computeMac(NIST_KEYS, NIST_IV, h('000102030405060708090a0b0c0d0e80')));
});

test('Annex D.6: payload encryption pads 0x80, IV = complement of the MAC; bad pad refused', () => {
  const macIv = Buffer.from(NIST_IV.map((b) => ~b & 0xff));
  // 16 data bytes always gain a whole padding block.
  const ct = encryptData(NIST_KEYS, macIv, NIST_PT.subarray(0, 16));
  assert.equal(ct.length, 32);
  assert.deepEqual(ct.subarray(0, 16), NIST_CT_BLOCK1); // IV = ~macIv = NIST IV
  assert.deepEqual(decryptData(NIST_KEYS, macIv, ct), NIST_PT.subarray(0, 16));
  assert.equal(encryptData(NIST_KEYS, macIv, Buffer.alloc(0)).length, 16);
  assert.throws(() => decryptData(NIST_KEYS, macIv, NIST_CT_BLOCK1), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_SECURE_CHANNEL'));
  assert.throws(() => decryptData(NIST_KEYS, macIv, Buffer.alloc(15)), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_SECURE_CHANNEL'));
});

test('ACS-5.1.1.5 / Annex D.4: sessions chain MACs; a tampered byte or a replayed command fails', () => {
  const keys = deriveSessionKeys(defaultInstallKey(), RND_A);
  const cp = new OsdpSecureSession(keys, E_RMAC_I);
  const pd = new OsdpSecureSession(keys, E_RMAC_I);
  const out = cp.sealCommand({ address: 1, sequence: 1, code: OSDP_COMMAND.OUT, data: h('00 02 00 00') });
  const parsed = parsePacket(out);
  assert.equal(parsed.scb?.type, SCS.CMD_MAC_ENC);
  assert.ok(!out.includes(h('00 02 00 00'))); // encrypted on the wire (ACS-5.3.1.2)
  const tampered = Buffer.from(out);
  tampered[8] = (tampered[8] ?? 0) ^ 1;
  assert.throws(() => pd.openCommand(parsePacket(fixCrc(tampered))), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_SECURE_CHANNEL'));
  const opened = pd.openCommand(parsed);
  assert.deepEqual(opened.data, h('00 02 00 00'));
  const ack = pd.sealReply({ address: 1, sequence: 1, code: OSDP_REPLY.ACK, data: Buffer.alloc(0) });
  assert.equal(cp.openReply(parsePacket(ack)).code, OSDP_REPLY.ACK);
  // replaying the first command after the chain moved on fails the MAC
  assert.throws(() => pd.openCommand(parsed), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_SECURE_CHANNEL'));
  cp.close();
  pd.close();
});

function fixCrc(frame: Buffer): Buffer {
  // re-seal the CRC so the MAC, not the CRC, is what rejects the alteration
  const out = Buffer.from(frame);
  out.writeUInt16LE(osdpCrc16(out, 0, out.length - 2), out.length - 2);
  return out;
}
