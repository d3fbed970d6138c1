// OSDP v2.2 replies (PD → CP, §7): typed encode/decode of the DATA field, lengths checked first.
import { OSDP_REPLY } from './constants.ts';
import type { EncodedMessage } from './commands.ts';
import { checkByte, checkU16, checkU32, expectLength, expectRecords, lengthError, unknownCodeError, valueError } from './message-error.ts';

/** osdp_PDCAP record (§7.5): function code, compliance level, number of objects. */
export interface PdCapability {
  readonly functionCode: number;
  readonly compliance: number;
  readonly count: number;
}

/** osdp_PDID body (§7.4). `vendorCode` is the 24-bit IEEE OUI, first byte most significant. */
export interface PdIdentity {
  readonly vendorCode: number;
  readonly model: number;
  readonly version: number;
  readonly serialNumber: number;
  readonly firmware: { readonly major: number; readonly minor: number; readonly build: number };
}

/** §7.11 RAW format codes. */
export const RAW_FORMAT = { UNSPECIFIED: 0x00, WIEGAND: 0x01 } as const;
/** Bits a RAW card read may claim: 1024 bytes of packet can carry no more. */
const RAW_MAX_BITS = 8 * 960;

export type OsdpReply =
  | { readonly kind: 'ACK' }
  | { readonly kind: 'NAK'; readonly error: number; readonly detail: Buffer }
  | { readonly kind: 'BUSY' }
  | ({ readonly kind: 'PDID' } & PdIdentity)
  | { readonly kind: 'PDCAP'; readonly capabilities: readonly PdCapability[] }
  | { readonly kind: 'LSTATR'; readonly tamper: number; readonly power: number }
  | { readonly kind: 'ISTATR'; readonly inputs: readonly number[] }
  | { readonly kind: 'OSTATR'; readonly outputs: readonly number[] }
  | { readonly kind: 'RSTATR'; readonly readers: readonly number[] }
  | { readonly kind: 'RAW'; readonly reader: number; readonly format: number; readonly bitCount: number; readonly data: Buffer }
  | { readonly kind: 'KEYPAD'; readonly reader: number; readonly keys: Buffer }
  | { readonly kind: 'COM'; readonly address: number; readonly baudRate: number }
  | { readonly kind: 'CCRYPT'; readonly clientUid: Buffer; readonly rndB: Buffer; readonly clientCryptogram: Buffer }
  | { readonly kind: 'RMAC_I'; readonly rmacI: Buffer };

function bytes(values: readonly number[], what: string): Buffer {
  return Buffer.from(values.map((v) => checkByte(v, what)));
}

function fixed(value: Buffer, n: number, what: string): Buffer {
  if (value.length !== n) throw lengthError(what);
  return value;
}

export function encodeReply(reply: OsdpReply): EncodedMessage {
  switch (reply.kind) {
    case 'ACK':
    case 'BUSY':
      return { code: OSDP_REPLY[reply.kind], data: Buffer.alloc(0) };
    case 'NAK':
      return { code: OSDP_REPLY.NAK, data: Buffer.concat([bytes([reply.error], 'nak'), reply.detail]) };
    case 'PDID': {
      const data = Buffer.alloc(12);
      if (!Number.isInteger(reply.vendorCode) || reply.vendorCode < 0 || reply.vendorCode > 0xffffff) throw valueError('pdid.vendor');
      data.writeUIntBE(reply.vendorCode, 0, 3);
      data[3] = checkByte(reply.model, 'pdid.model');
      data[4] = checkByte(reply.version, 'pdid.version');
      data.writeUInt32LE(checkU32(reply.serialNumber, 'pdid.serial'), 5);
      data[9] = checkByte(reply.firmware.major, 'pdid.fw');
      data[10] = checkByte(reply.firmware.minor, 'pdid.fw');
      data[11] = checkByte(reply.firmware.build, 'pdid.fw');
      return { code: OSDP_REPLY.PDID, data };
    }
    case 'PDCAP':
      return {
        code: OSDP_REPLY.PDCAP,
        data: bytes(reply.capabilities.flatMap((c) => [c.functionCode, c.compliance, c.count]), 'pdcap'),
      };
    case 'LSTATR':
      return { code: OSDP_REPLY.LSTATR, data: bytes([reply.tamper, reply.power], 'lstatr') };
    case 'ISTATR':
      return { code: OSDP_REPLY.ISTATR, data: bytes(reply.inputs, 'istatr') };
    case 'OSTATR':
      return { code: OSDP_REPLY.OSTATR, data: bytes(reply.outputs, 'ostatr') };
    case 'RSTATR':
      return { code: OSDP_REPLY.RSTATR, data: bytes(reply.readers, 'rstatr') };
    case 'RAW': {
      if (reply.bitCount < 1 || reply.bitCount > RAW_MAX_BITS) throw valueError('raw.bits');
      const head = Buffer.alloc(4);
      head[0] = checkByte(reply.reader, 'raw.reader');
      head[1] = checkByte(reply.format, 'raw.format');
      head.writeUInt16LE(checkU16(reply.bitCount, 'raw.bits'), 2);
      return { code: OSDP_REPLY.RAW, data: Buffer.concat([head, fixed(reply.data, Math.ceil(reply.bitCount / 8), 'raw.data')]) };
    }
    case 'KEYPAD':
      return { code: OSDP_REPLY.KEYPAD, data: Buffer.concat([bytes([reply.reader, reply.keys.length], 'keypad'), reply.keys]) };
    case 'COM': {
      const data = Buffer.alloc(5);
      data[0] = checkByte(reply.address, 'com.address');
      data.writeUInt32LE(checkU32(reply.baudRate, 'com.baud'), 1);
      return { code: OSDP_REPLY.COM, data };
    }
    case 'CCRYPT':
      return {
        code: OSDP_REPLY.CCRYPT,
        data: Buffer.concat([fixed(reply.clientUid, 8, 'ccrypt.uid'), fixed(reply.rndB, 8, 'ccrypt.rnd'), fixed(reply.clientCryptogram, 16, 'ccrypt.cryptogram')]),
      };
    case 'RMAC_I':
      return { code: OSDP_REPLY.RMAC_I, data: Buffer.from(fixed(reply.rmacI, 16, 'rmac_i')) };
  }
}

export function decodeReply(code: number, data: Buffer): OsdpReply {
  switch (code) {
    case OSDP_REPLY.ACK:
      expectLength(data, 0, 'ack');
      return { kind: 'ACK' };
    case OSDP_REPLY.BUSY:
      expectLength(data, 0, 'busy');
      return { kind: 'BUSY' };
    case OSDP_REPLY.NAK:
      if (data.length < 1) throw lengthError('nak');
      return { kind: 'NAK', error: data.readUInt8(0), detail: Buffer.from(data.subarray(1)) };
    case OSDP_REPLY.PDID:
      expectLength(data, 12, 'pdid');
      return {
        kind: 'PDID',
        vendorCode: data.readUIntBE(0, 3),
        model: data.readUInt8(3),
        version: data.readUInt8(4),
        serialNumber: data.readUInt32LE(5),
        firmware: { major: data.readUInt8(9), minor: data.readUInt8(10), build: data.readUInt8(11) },
      };
    case OSDP_REPLY.PDCAP: {
      const n = expectRecords(data, 3, 'pdcap');
      const capabilities: PdCapability[] = [];
      for (let i = 0; i < n; i++) {
        capabilities.push({ functionCode: data.readUInt8(i * 3), compliance: data.readUInt8(i * 3 + 1), count: data.readUInt8(i * 3 + 2) });
      }
      return { kind: 'PDCAP', capabilities };
    }
    case OSDP_REPLY.LSTATR:
      expectLength(data, 2, 'lstatr');
      return { kind: 'LSTATR', tamper: data.readUInt8(0), power: data.readUInt8(1) };
    case OSDP_REPLY.ISTATR:
      return { kind: 'ISTATR', inputs: [...data] };
    case OSDP_REPLY.OSTATR:
      return { kind: 'OSTATR', outputs: [...data] };
    case OSDP_REPLY.RSTATR:
      return { kind: 'RSTATR', readers: [...data] };
    case OSDP_REPLY.RAW: {
      if (data.length < 4) throw lengthError('raw');
      const bitCount = data.readUInt16LE(2);
      if (bitCount < 1 || bitCount > RAW_MAX_BITS) throw valueError('raw.bits');
      expectLength(data, 4 + Math.ceil(bitCount / 8), 'raw');
      return { kind: 'RAW', reader: data.readUInt8(0), format: data.readUInt8(1), bitCount, data: Buffer.from(data.subarray(4)) };
    }
    case OSDP_REPLY.KEYPAD:
      if (data.length < 2) throw lengthError('keypad');
      expectLength(data, 2 + data.readUInt8(1), 'keypad');
      return { kind: 'KEYPAD', reader: data.readUInt8(0), keys: Buffer.from(data.subarray(2)) };
    case OSDP_REPLY.COM:
      expectLength(data, 5, 'com');
      return { kind: 'COM', address: data.readUInt8(0), baudRate: data.readUInt32LE(1) };
    case OSDP_REPLY.CCRYPT:
      expectLength(data, 32, 'ccrypt');
      return {
        kind: 'CCRYPT',
        clientUid: Buffer.from(data.subarray(0, 8)),
        rndB: Buffer.from(data.subarray(8, 16)),
        clientCryptogram: Buffer.from(data.subarray(16, 32)),
      };
    case OSDP_REPLY.RMAC_I:
      expectLength(data, 16, 'rmac_i');
      return { kind: 'RMAC_I', rmacI: Buffer.from(data) };
    default:
      throw unknownCodeError(code);
  }
}
