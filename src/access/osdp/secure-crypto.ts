// OSDP Secure Channel cryptography (OSDP v2.2 Annex D; vectors in Annex E). AES-128 only, from
// node:crypto (ACS-5.3.1.1: NIST-approved). Pure functions: no state, no I/O.
//
//   S-ENC  = AES-ECB(SCBK, 01 82 RND.A[0..5] 00×8)        (D.5)
//   S-MAC1 = AES-ECB(SCBK, 01 01 RND.A[0..5] 00×8)
//   S-MAC2 = AES-ECB(SCBK, 01 02 RND.A[0..5] 00×8)
//   client cryptogram (PD, osdp_CCRYPT) = AES-ECB(S-ENC, RND.A ‖ RND.B)
//   server cryptogram (CP, osdp_SCRYPT) = AES-ECB(S-ENC, RND.B ‖ RND.A)
//   initial R-MAC (osdp_RMAC_I)         = AES-ECB(S-MAC2, AES-ECB(S-MAC1, server cryptogram))
//   MAC (D.4): AES-CBC over the message padded 80 00.. to 16 (no pad when already aligned), blocks
//     1..N-1 under S-MAC1, block N under S-MAC2; IV = last R-MAC for a command, last C-MAC for a
//     reply; 4 leading bytes are sent.
//   DATA (D.6): AES-CBC under S-ENC, always padded 80 00..; IV = ~(last R-MAC) for a command,
//     ~(last C-MAC) for a reply.
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { VigilError } from '../../core/errors.ts';
import { OSDP_MAX_PACKET_BYTES } from './constants.ts';

export const AES_BLOCK = 16;
export const SCBK_BYTES = 16;
export const RND_BYTES = 8;

/**
 * SCBK-D, the well-known install key of §D.3 (0x30..0x3F). Returned as a fresh copy each call so
 * nobody can mutate the constant. Only ever used in explicit install mode (ACS-5.1.1.1).
 */
export function defaultInstallKey(): Buffer {
  return Buffer.from([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f]);
}

export function isDefaultInstallKey(key: Buffer): boolean {
  return key.length === SCBK_BYTES && timingSafeEqual(key, defaultInstallKey());
}

export interface SessionKeys {
  readonly sEnc: Buffer;
  readonly sMac1: Buffer;
  readonly sMac2: Buffer;
}

function scError(reason: string): VigilError {
  return new VigilError('VIGIL_OSDP_SECURE_CHANNEL', 'OSDP secure channel failure', { details: { reason } });
}

function requireLength(value: Buffer, n: number, what: string): void {
  if (value.length !== n) throw scError(`${what}-length`);
}

export function aesEcbBlock(key: Buffer, block: Buffer): Buffer {
  requireLength(key, SCBK_BYTES, 'key');
  requireLength(block, AES_BLOCK, 'block');
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function aesCbc(key: Buffer, iv: Buffer, data: Buffer, decrypt: boolean): Buffer {
  if (data.length % AES_BLOCK !== 0) throw scError('block-alignment');
  const cipher = decrypt ? createDecipheriv('aes-128-cbc', key, iv) : createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export function deriveSessionKeys(scbk: Buffer, rndA: Buffer): SessionKeys {
  requireLength(scbk, SCBK_BYTES, 'scbk');
  requireLength(rndA, RND_BYTES, 'rnd-a');
  const derive = (second: number): Buffer => {
    const block = Buffer.alloc(AES_BLOCK);
    block[0] = 0x01;
    block[1] = second;
    rndA.copy(block, 2, 0, 6);
    return aesEcbBlock(scbk, block);
  };
  return { sEnc: derive(0x82), sMac1: derive(0x01), sMac2: derive(0x02) };
}

export function clientCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  requireLength(rndA, RND_BYTES, 'rnd-a');
  requireLength(rndB, RND_BYTES, 'rnd-b');
  return aesEcbBlock(keys.sEnc, Buffer.concat([rndA, rndB]));
}

export function serverCryptogram(keys: SessionKeys, rndA: Buffer, rndB: Buffer): Buffer {
  requireLength(rndA, RND_BYTES, 'rnd-a');
  requireLength(rndB, RND_BYTES, 'rnd-b');
  return aesEcbBlock(keys.sEnc, Buffer.concat([rndB, rndA]));
}

export function initialRmac(keys: SessionKeys, serverCrypt: Buffer): Buffer {
  return aesEcbBlock(keys.sMac2, aesEcbBlock(keys.sMac1, serverCrypt));
}

/** Constant-time equality of two cryptograms or MACs of the same length. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The full 16-byte MAC of Annex D.4 (callers send and compare the first 4 bytes). */
export function computeMac(keys: SessionKeys, iv: Buffer, message: Buffer): Buffer {
  requireLength(iv, AES_BLOCK, 'iv');
  if (message.length === 0 || message.length > OSDP_MAX_PACKET_BYTES) throw scError('mac-input');
  const padded = message.length % AES_BLOCK === 0 ? Buffer.from(message) : pad80(message);
  let chain = iv;
  if (padded.length > AES_BLOCK) {
    const head = aesCbc(keys.sMac1, iv, padded.subarray(0, padded.length - AES_BLOCK), false);
    chain = head.subarray(head.length - AES_BLOCK);
  }
  return aesCbc(keys.sMac2, chain, padded.subarray(padded.length - AES_BLOCK), false);
}

/** Appends 0x80 then zeros up to the next multiple of 16 (always at least one byte). */
export function pad80(data: Buffer): Buffer {
  const out = Buffer.alloc((Math.floor(data.length / AES_BLOCK) + 1) * AES_BLOCK);
  data.copy(out);
  out[data.length] = 0x80;
  return out;
}

export function complement(block: Buffer): Buffer {
  const out = Buffer.alloc(block.length);
  for (let i = 0; i < block.length; i++) out[i] = ~(block[i] ?? 0) & 0xff;
  return out;
}

export function encryptData(keys: SessionKeys, macIv: Buffer, plaintext: Buffer): Buffer {
  requireLength(macIv, AES_BLOCK, 'iv');
  return aesCbc(keys.sEnc, complement(macIv), pad80(plaintext), false);
}

export function decryptData(keys: SessionKeys, macIv: Buffer, ciphertext: Buffer): Buffer {
  requireLength(macIv, AES_BLOCK, 'iv');
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0 || ciphertext.length > OSDP_MAX_PACKET_BYTES) {
    throw scError('ciphertext-length');
  }
  const plain = aesCbc(keys.sEnc, complement(macIv), ciphertext, true);
  // The pad is 0x80 followed by at most 15 zeros; anything else is a forgery or a wrong key.
  let end = plain.length - 1;
  const floor = plain.length - AES_BLOCK;
  while (end >= floor && plain[end] === 0x00) end--;
  if (end < floor || plain[end] !== 0x80) throw scError('padding');
  return Buffer.from(plain.subarray(0, end));
}

/** Overwrites key material once a session ends (ACS-5.3.1.4). */
export function wipeKeys(keys: SessionKeys): void {
  keys.sEnc.fill(0);
  keys.sMac1.fill(0);
  keys.sMac2.fill(0);
}
