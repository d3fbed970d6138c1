// Wiegand card formats: 26-bit H10301, 35-bit HID Corporate 1000, 37-bit H10304, and raw bits.
//
// SECURITY WARNING (ACS-5.1.1.5, ACS-5.2.1.1, ACS-5.2.1.11, ACS-5.3.1.2): Wiegand has no
// authentication, no integrity beyond two parity bits, and no encryption. Anyone with access to
// the D0/D1 wires can read every credential and replay or inject card numbers; a "reader" cannot
// be told from an attacker's device. Vigil supports Wiegand read-only, for legacy readers, and
// every door that uses it must be flagged insecure to the operator (design §6). Use OSDP Secure
// Channel (src/access/osdp) for any new installation.
//
// Bits are numbered 1..N in transmission order (bit 1 first), as in HID's format descriptions.
// Packed form (like osdp_RAW, §7.11 of OSDP v2.2): MSB-first, bit 1 in the top bit of byte 0.
import { VigilError } from '../../core/errors.ts';

export interface WiegandBits {
  readonly bitCount: number;
  /** ceil(bitCount / 8) bytes, MSB first; unused trailing bits are zero. */
  readonly data: Buffer;
}

export type WiegandFormatName = 'H10301' | 'C1K35' | 'H10304';

export interface WiegandCredential {
  readonly format: WiegandFormatName;
  readonly facilityCode: number;
  readonly cardNumber: number;
}

/** Longest raw frame accepted; real formats stop well below (ACS-5.2.1.5). */
export const WIEGAND_MAX_BITS = 256;

interface ParityRule {
  /** 1-based position of the parity bit. */
  readonly bit: number;
  readonly odd: boolean;
  /** 1-based positions it covers. */
  readonly covers: readonly number[];
}

interface FormatSpec {
  readonly bits: number;
  readonly facility: { readonly first: number; readonly length: number };
  readonly card: { readonly first: number; readonly length: number };
  /** In the order they must be computed (a later rule may cover an earlier parity bit). */
  readonly parity: readonly ParityRule[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Corporate 1000: two parity bits over interleaved pairs, then overall odd parity in bit 1. */
const C1K35_EVEN = range(3, 34).filter((p) => p % 3 !== 2); // 3,4,6,7,...,33,34
const C1K35_ODD = range(2, 33).filter((p) => p % 3 !== 1); // 2,3,5,6,...,32,33

const FORMATS: Readonly<Record<WiegandFormatName, FormatSpec>> = {
  // H10301: P(even, 2..13) FC(8) CN(16) P(odd, 14..25)
  H10301: {
    bits: 26,
    facility: { first: 2, length: 8 },
    card: { first: 10, length: 16 },
    parity: [
      { bit: 1, odd: false, covers: range(2, 13) },
      { bit: 26, odd: true, covers: range(14, 25) },
    ],
  },
  // Corporate 1000 35-bit: P P FC(12) CN(20) P
  C1K35: {
    bits: 35,
    facility: { first: 3, length: 12 },
    card: { first: 15, length: 20 },
    parity: [
      { bit: 2, odd: false, covers: C1K35_EVEN },
      { bit: 35, odd: true, covers: C1K35_ODD },
      { bit: 1, odd: true, covers: range(2, 35) },
    ],
  },
  // H10304: P(even, 2..19) FC(16) CN(19) P(odd, 19..36)
  H10304: {
    bits: 37,
    facility: { first: 2, length: 16 },
    card: { first: 18, length: 19 },
    parity: [
      { bit: 1, odd: false, covers: range(2, 19) },
      { bit: 37, odd: true, covers: range(19, 36) },
    ],
  },
};

function malformed(reason: string): VigilError {
  return new VigilError('VIGIL_WIEGAND_MALFORMED', 'Malformed Wiegand data', { details: { reason } });
}

function getBit(bits: WiegandBits, position: number): number {
  const i = position - 1;
  return ((bits.data[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

function setBit(data: Buffer, position: number, value: number): void {
  const i = position - 1;
  const mask = 1 << (7 - (i & 7));
  const current = data[i >> 3] ?? 0;
  data[i >> 3] = value ? current | mask : current & ~mask;
}

function readField(bits: WiegandBits, first: number, length: number): number {
  let value = 0;
  for (let p = first; p < first + length; p++) value = value * 2 + getBit(bits, p);
  return value;
}

function parityBit(bits: WiegandBits, rule: ParityRule): number {
  let ones = 0;
  for (const p of rule.covers) ones += getBit(bits, p);
  return rule.odd ? 1 - (ones & 1) : ones & 1;
}

export function checkBits(bits: WiegandBits): void {
  if (!Number.isInteger(bits.bitCount) || bits.bitCount < 1 || bits.bitCount > WIEGAND_MAX_BITS) throw malformed('bit-count');
  if (bits.data.length !== Math.ceil(bits.bitCount / 8)) throw malformed('data-length');
}

export function encodeWiegand(credential: WiegandCredential): WiegandBits {
  const spec = FORMATS[credential.format];
  const { facility, card } = spec;
  if (!Number.isInteger(credential.facilityCode) || credential.facilityCode < 0 || credential.facilityCode >= 2 ** facility.length) {
    throw malformed('facility-range');
  }
  if (!Number.isInteger(credential.cardNumber) || credential.cardNumber < 0 || credential.cardNumber >= 2 ** card.length) {
    throw malformed('card-range');
  }
  const data = Buffer.alloc(Math.ceil(spec.bits / 8));
  const bits: WiegandBits = { bitCount: spec.bits, data };
  for (let i = 0; i < facility.length; i++) setBit(data, facility.first + i, Math.floor(credential.facilityCode / 2 ** (facility.length - 1 - i)) % 2);
  for (let i = 0; i < card.length; i++) setBit(data, card.first + i, Math.floor(credential.cardNumber / 2 ** (card.length - 1 - i)) % 2);
  for (const rule of spec.parity) setBit(data, rule.bit, parityBit(bits, rule));
  return bits;
}

/** Decode with the format the bit count implies (26, 35, 37), or the one given. Parity is verified. */
export function decodeWiegand(bits: WiegandBits, format?: WiegandFormatName): WiegandCredential {
  checkBits(bits);
  const name = format ?? formatForLength(bits.bitCount);
  if (name === undefined) throw malformed('unknown-format');
  const spec = FORMATS[name];
  if (bits.bitCount !== spec.bits) throw malformed('bit-count');
  for (const rule of spec.parity) {
    if (getBit(bits, rule.bit) !== parityBit(bits, rule)) throw malformed('parity');
  }
  return {
    format: name,
    facilityCode: readField(bits, spec.facility.first, spec.facility.length),
    cardNumber: readField(bits, spec.card.first, spec.card.length),
  };
}

export function formatForLength(bitCount: number): WiegandFormatName | undefined {
  const names: WiegandFormatName[] = ['H10301', 'C1K35', 'H10304'];
  return names.find((n) => FORMATS[n].bits === bitCount);
}

/** '0'/'1' string (bit 1 first) → packed bits. */
export function bitsFromString(text: string): WiegandBits {
  if (text.length < 1 || text.length > WIEGAND_MAX_BITS || !/^[01]+$/.test(text)) throw malformed('bit-string');
  const data = Buffer.alloc(Math.ceil(text.length / 8));
  for (let i = 0; i < text.length; i++) if (text[i] === '1') setBit(data, i + 1, 1);
  return { bitCount: text.length, data };
}

export function bitsToString(bits: WiegandBits): string {
  checkBits(bits);
  let out = '';
  for (let p = 1; p <= bits.bitCount; p++) out += getBit(bits, p) ? '1' : '0';
  return out;
}
