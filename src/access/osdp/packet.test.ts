import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { osdpChecksum, osdpCrc16 } from './check.ts';
import { OSDP_COMMAND, OSDP_MAX_PACKET_BYTES, SCS } from './constants.ts';
import { parsePacket, serializePacket } from './packet.ts';
import { OsdpFrameReassembler } from './reassembler.ts';

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

// OSDP v2.2 Annex E, CRC and checksum examples: osdp_COMSET to broadcast (address 0, 9600 Bd)
// and osdp_ID to PD 0.
const ANNEX_E_COMSET_CRC = h('53 7F 0D 00 04 6E 00 80 25 00 00 6E 38');
const ANNEX_E_ID_CRC = h('53 00 09 00 04 61 00 C0 66');
const ANNEX_E_COMSET_CKSUM = h('53 7F 0C 00 00 6E 00 80 25 00 00 0F');
const ANNEX_E_ID_CKSUM = h('53 00 08 00 00 61 00 44');

test('Annex A / §5.6: CRC-16/AUG-CCITT check value and Annex E CRC examples', () => {
  assert.equal(osdpCrc16(Buffer.from('123456789', 'ascii')), 0xe5cc);
  assert.equal(osdpCrc16(ANNEX_E_COMSET_CRC, 0, 11), 0x386e);
  assert.equal(osdpCrc16(ANNEX_E_ID_CRC, 0, 7), 0x66c0);
});

test('§5.6: Annex E checksum examples', () => {
  assert.equal(osdpChecksum(ANNEX_E_COMSET_CKSUM, 0, 11), 0x0f);
  assert.equal(osdpChecksum(ANNEX_E_ID_CKSUM, 0, 7), 0x44);
});

test('§5: Annex E frames parse and re-serialize byte-exact (CRC and checksum)', () => {
  const comset = parsePacket(ANNEX_E_COMSET_CRC);
  assert.equal(comset.address, 0x7f);
  assert.equal(comset.reply, false);
  assert.equal(comset.sequence, 0);
  assert.equal(comset.useCrc, true);
  assert.equal(comset.scb, undefined);
  assert.equal(comset.code, OSDP_COMMAND.COMSET);
  assert.deepEqual(comset.data, h('00 80 25 00 00'));
  for (const frame of [ANNEX_E_COMSET_CRC, ANNEX_E_ID_CRC, ANNEX_E_COMSET_CKSUM, ANNEX_E_ID_CKSUM]) {
    const p = parsePacket(frame);
    assert.deepEqual(serializePacket(p), frame);
  }
});

test('§5.2: reply bit, sequence and SCB with MAC round-trip', () => {
  const bytes = serializePacket(
    { address: 0x05, reply: true, sequence: 3, useCrc: true, scb: { type: SCS.REPLY_MAC, data: Buffer.alloc(0) }, code: 0x40, data: Buffer.alloc(0) },
    () => h('01020304aabbccdd'),
  );
  const p = parsePacket(bytes);
  assert.equal(p.address, 5);
  assert.equal(p.reply, true);
  assert.equal(p.sequence, 3);
  assert.deepEqual(p.mac, h('01020304'));
  assert.equal(p.scb?.type, SCS.REPLY_MAC);
  assert.equal(bytes[1], 0x85);
  assert.deepEqual(p.macInput, bytes.subarray(0, bytes.length - 6));
});

test('ACS-5.2.1.5: parser refuses bad check, bad lengths, reserved bits and SCB overruns with coded errors', () => {
  const cases: Buffer[] = [
    h('53 00 09 00 04 61 00 C0 67'), // CRC wrong
    h('53 00 0A 00 04 61 00 C0 66'), // LEN above buffer
    h('53 00 09'), // short
    h('52 00 09 00 04 61 00 C0 66'), // not SOM
  ];
  const reserved = Buffer.from(ANNEX_E_ID_CKSUM);
  reserved[4] = 0x80;
  reserved[7] = osdpChecksum(reserved, 0, 7);
  cases.push(reserved);
  // SCB claims 0x15 with length 3 (wrong), and an SCB whose length runs past the body.
  for (const scb of ['03 15 00', '09 11 00']) {
    const body = h(`53 00 00 00 0C ${scb} 60`);
    const frame = Buffer.concat([body, Buffer.alloc(1)]);
    frame.writeUInt16LE(frame.length, 2);
    frame[frame.length - 1] = osdpChecksum(frame, 0, frame.length - 1);
    cases.push(frame);
  }
  const huge = Buffer.alloc(OSDP_MAX_PACKET_BYTES + 1, 0);
  huge[0] = 0x53;
  cases.push(huge);
  for (const frame of cases) {
    assert.throws(() => parsePacket(frame), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_MALFORMED') || isVigilError(e, 'VIGIL_OSDP_CHECK_FAILED'));
  }
});

test('§5.7: reassembler splits, joins and resynchronises on garbage', () => {
  const r = new OsdpFrameReassembler();
  const garbage = h('FF 53 53 00 FF FF 53 7F 00 10');
  const stream = Buffer.concat([garbage, ANNEX_E_ID_CRC, h('00 00 53'), ANNEX_E_COMSET_CKSUM, h('FF')]);
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 3) frames.push(...r.push(stream.subarray(i, i + 3)).frames);
  assert.deepEqual(frames, [ANNEX_E_ID_CRC, ANNEX_E_COMSET_CKSUM]);
  assert.ok(r.pending <= 1);
});

test('ACS-5.4.1.1: reassembler buffer stays bounded under a flood of false SOMs', () => {
  const r = new OsdpFrameReassembler();
  const flood = Buffer.alloc(64 * 1024, 0x53);
  const result = r.push(flood);
  assert.equal(result.frames.length, 0);
  assert.ok(r.pending < OSDP_MAX_PACKET_BYTES);
  // a claimed 1000-byte frame that never completes is held, then given up when it fails its check
  const open = h('53 00 E8 03 04');
  r.reset();
  r.push(open);
  assert.equal(r.pending, 5);
  r.push(Buffer.alloc(995, 0));
  assert.ok(r.pending < OSDP_MAX_PACKET_BYTES);
  assert.deepEqual(r.push(ANNEX_E_ID_CRC).frames, [ANNEX_E_ID_CRC]);
});
