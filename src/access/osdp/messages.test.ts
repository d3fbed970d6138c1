import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { decodeCommand, encodeCommand, type OsdpCommand } from './commands.ts';
import { OSDP_NAK } from './constants.ts';
import { nakCodeOf } from './message-error.ts';
import { decodeReply, encodeReply, type OsdpReply } from './replies.ts';

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

// [command, code, DATA] — byte layouts from OSDP v2.2 §6.
const COMMANDS: Array<[OsdpCommand, number, string]> = [
  [{ kind: 'POLL' }, 0x60, ''],
  [{ kind: 'ID', reportType: 0 }, 0x61, '00'],
  [{ kind: 'CAP', reportType: 0 }, 0x62, '00'],
  [{ kind: 'LSTAT' }, 0x64, ''],
  [{ kind: 'ISTAT' }, 0x65, ''],
  [{ kind: 'OSTAT' }, 0x66, ''],
  [{ kind: 'RSTAT' }, 0x67, ''],
  [{ kind: 'OUT', outputs: [{ output: 0, controlCode: 5, timer: 0x0132 }] }, 0x68, '00 05 32 01'],
  [
    {
      kind: 'LED',
      leds: [
        {
          reader: 0,
          led: 1,
          temporary: { controlCode: 2, onTime: 5, offTime: 5, onColor: 2, offColor: 0, timer: 0x0102 },
          permanent: { controlCode: 1, onTime: 1, offTime: 0, onColor: 1, offColor: 0 },
        },
      ],
    },
    0x69,
    '00 01 02 05 05 02 00 02 01 01 01 00 01 00',
  ],
  [{ kind: 'BUZ', reader: 0, tone: 2, onTime: 1, offTime: 1, count: 3 }, 0x6a, '00 02 01 01 03'],
  [{ kind: 'TEXT', reader: 0, command: 1, tempTime: 0, row: 1, column: 1, text: 'Hi' }, 0x6b, '00 01 00 01 01 02 48 69'],
  [{ kind: 'COMSET', address: 0, baudRate: 9600 }, 0x6e, '00 80 25 00 00'],
  [{ kind: 'KEYSET', keyType: 1, key: Buffer.alloc(16, 0xaa) }, 0x75, '01 10' + 'aa'.repeat(16)],
  [{ kind: 'CHLNG', rndA: h('B0B1B2B3B4B5B6B7') }, 0x76, 'B0B1B2B3B4B5B6B7'],
  [{ kind: 'SCRYPT', serverCryptogram: Buffer.alloc(16, 0x26) }, 0x77, '26'.repeat(16)],
];

const REPLIES: Array<[OsdpReply, number, string]> = [
  [{ kind: 'ACK' }, 0x40, ''],
  [{ kind: 'NAK', error: OSDP_NAK.UNKNOWN_COMMAND, detail: Buffer.alloc(0) }, 0x41, '03'],
  [{ kind: 'BUSY' }, 0x79, ''],
  [
    { kind: 'PDID', vendorCode: 0x5c2643, model: 1, version: 2, serialNumber: 0x12345678, firmware: { major: 1, minor: 2, build: 3 } },
    0x45,
    '5C 26 43 01 02 78 56 34 12 01 02 03',
  ],
  [{ kind: 'PDCAP', capabilities: [{ functionCode: 9, compliance: 1, count: 0 }] }, 0x46, '09 01 00'],
  [{ kind: 'LSTATR', tamper: 1, power: 0 }, 0x48, '01 00'],
  [{ kind: 'ISTATR', inputs: [0, 1] }, 0x49, '00 01'],
  [{ kind: 'OSTATR', outputs: [1] }, 0x4a, '01'],
  [{ kind: 'RSTATR', readers: [0] }, 0x4b, '00'],
  [{ kind: 'RAW', reader: 0, format: 1, bitCount: 26, data: h('2D 00 A2 00') }, 0x50, '00 01 1A 00 2D 00 A2 00'],
  [{ kind: 'KEYPAD', reader: 0, keys: Buffer.from('12#', 'latin1') }, 0x53, '00 03 31 32 23'],
  [{ kind: 'COM', address: 3, baudRate: 115200 }, 0x54, '03 00 C2 01 00'],
  [{ kind: 'CCRYPT', clientUid: Buffer.alloc(8, 1), rndB: Buffer.alloc(8, 2), clientCryptogram: Buffer.alloc(16, 3) }, 0x76, '01'.repeat(8) + '02'.repeat(8) + '03'.repeat(16)],
  [{ kind: 'RMAC_I', rmacI: Buffer.alloc(16, 0xb2) }, 0x78, 'b2'.repeat(16)],
];

test('§6: every command encodes to its byte layout and decodes back', () => {
  for (const [command, code, data] of COMMANDS) {
    const encoded = encodeCommand(command);
    assert.equal(encoded.code, code, command.kind);
    assert.deepEqual(encoded.data, h(data), command.kind);
    assert.deepEqual(decodeCommand(code, h(data)), command, command.kind);
  }
});

test('§7: every reply encodes to its byte layout and decodes back', () => {
  for (const [reply, code, data] of REPLIES) {
    const encoded = encodeReply(reply);
    assert.equal(encoded.code, code, reply.kind);
    assert.deepEqual(encoded.data, h(data), reply.kind);
    assert.deepEqual(decodeReply(code, h(data)), reply, reply.kind);
  }
});

test('ACS-5.2.1.5: decoders refuse wrong lengths and unknown codes with the NAK code to answer', () => {
  const wrong: Array<[number, string, number]> = [
    [0x60, '00', OSDP_NAK.COMMAND_LENGTH],
    [0x68, '00 05 32', OSDP_NAK.COMMAND_LENGTH],
    [0x69, '00'.repeat(13), OSDP_NAK.COMMAND_LENGTH],
    [0x6b, '00 01 00 01 01 05 48 69', OSDP_NAK.COMMAND_LENGTH],
    [0x6b, '00 01 00 01 01 02 48 07', OSDP_NAK.UNABLE_TO_PROCESS],
    [0x75, '01 10 00', OSDP_NAK.COMMAND_LENGTH],
    [0x76, '00', OSDP_NAK.COMMAND_LENGTH],
    [0xee, '', OSDP_NAK.UNKNOWN_COMMAND],
  ];
  for (const [code, data, nak] of wrong) {
    assert.throws(
      () => decodeCommand(code, h(data)),
      (e: unknown) => isVigilError(e, 'VIGIL_OSDP_MALFORMED') && nakCodeOf(e) === nak,
      `${code.toString(16)} ${data}`,
    );
  }
  for (const [code, data] of [[0x50, '00 01 1A 00 2D'], [0x50, '00 01 00 00'], [0x45, '00'], [0x53, '00 05 31'], [0x41, ''], [0x99, '']] as const) {
    assert.throws(() => decodeReply(code, h(data)), (e: unknown) => isVigilError(e, 'VIGIL_OSDP_MALFORMED'));
  }
  assert.throws(() => encodeCommand({ kind: 'OUT', outputs: [{ output: 256, controlCode: 0, timer: 0 }] }), (e: unknown) => isVigilError(e));
});
