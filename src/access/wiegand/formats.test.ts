import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { bitsFromString, bitsToString, decodeWiegand, encodeWiegand, type WiegandCredential } from './formats.ts';

const isMalformed = (e: unknown): boolean => isVigilError(e, 'VIGIL_WIEGAND_MALFORMED');

test('H10301 26-bit: FC=90 CN=324 ↔ 00101101000000001010001000 (parities included)', () => {
  const bits = encodeWiegand({ format: 'H10301', facilityCode: 90, cardNumber: 324 });
  assert.equal(bitsToString(bits), '00101101000000001010001000');
  assert.deepEqual(bits.data, Buffer.from('2d00a200', 'hex')); // the osdp_RAW packing
  assert.deepEqual(decodeWiegand(bitsFromString('00101101000000001010001000')), { format: 'H10301', facilityCode: 90, cardNumber: 324 });
});

test('Corporate 1000 35-bit: known vectors (three parity bits)', () => {
  // Cross-checked against an independent mask-based packing of the HID C1k35s layout.
  const vectors: Array<[number, number, string]> = [
    [1234, 567890, '11010011010010100010101010010100100'],
    [4095, 1048575, '10111111111111111111111111111111110'],
    [0, 0, '00000000000000000000000000000000001'],
  ];
  for (const [facilityCode, cardNumber, expected] of vectors) {
    assert.equal(bitsToString(encodeWiegand({ format: 'C1K35', facilityCode, cardNumber })), expected);
    assert.deepEqual(decodeWiegand(bitsFromString(expected)), { format: 'C1K35', facilityCode, cardNumber });
  }
});

test('H10304 37-bit: layout and parity windows', () => {
  const bits = bitsToString(encodeWiegand({ format: 'H10304', facilityCode: 0xffff, cardNumber: 0 }));
  // 16 FC ones in 2..17, even parity over 2..19 → 0; odd parity over 19..36 (all zero) → 1
  assert.equal(bits, '0' + '1'.repeat(16) + '0'.repeat(19) + '1');
  const cred: WiegandCredential = { format: 'H10304', facilityCode: 12345, cardNumber: 524287 };
  assert.deepEqual(decodeWiegand(encodeWiegand(cred)), cred);
});

test('ACS-5.2.1.5: a single flipped bit fails parity in every format; ranges and lengths are checked', () => {
  for (const cred of [
    { format: 'H10301', facilityCode: 90, cardNumber: 324 },
    { format: 'C1K35', facilityCode: 1234, cardNumber: 567890 },
    { format: 'H10304', facilityCode: 777, cardNumber: 4242 },
  ] as const) {
    const text = bitsToString(encodeWiegand(cred));
    for (let i = 0; i < text.length; i++) {
      const flipped = text.slice(0, i) + (text[i] === '1' ? '0' : '1') + text.slice(i + 1);
      assert.throws(() => decodeWiegand(bitsFromString(flipped)), isMalformed, `${cred.format} bit ${i + 1}`);
    }
  }
  assert.throws(() => encodeWiegand({ format: 'H10301', facilityCode: 256, cardNumber: 0 }), isMalformed);
  assert.throws(() => encodeWiegand({ format: 'H10301', facilityCode: 0, cardNumber: 65536 }), isMalformed);
  assert.throws(() => decodeWiegand(bitsFromString('1'.repeat(30))), isMalformed);
  assert.throws(() => decodeWiegand({ bitCount: 26, data: Buffer.alloc(3) }), isMalformed);
  assert.throws(() => bitsFromString('0102'), isMalformed);
  assert.throws(() => bitsFromString('1'.repeat(257)), isMalformed);
});

test('raw bits round-trip (unknown formats stay raw)', () => {
  const text = '1011001110001';
  const bits = bitsFromString(text);
  assert.equal(bits.bitCount, 13);
  assert.deepEqual(bits.data, Buffer.from([0b10110011, 0b10001000]));
  assert.equal(bitsToString(bits), text);
});
