// OSDP v2.2 commands (CP → PD, §6): typed encode/decode of the DATA field. Every decoder checks
// the exact length (or record size) before reading (ACS-5.2.1.5).
import { OSDP_COMMAND } from './constants.ts';
import { checkByte, checkU16, checkU32, expectLength, expectRecords, lengthError, unknownCodeError, valueError } from './message-error.ts';

/** osdp_OUT record (§6.9): control code 0..6, timer in units of 100 ms. */
export interface OutputControl {
  readonly output: number;
  readonly controlCode: number;
  readonly timer: number;
}

/** One LED state (§6.10): control code, on/off times in 100 ms units, colours 0..7. */
export interface LedState {
  readonly controlCode: number;
  readonly onTime: number;
  readonly offTime: number;
  readonly onColor: number;
  readonly offColor: number;
}

/** osdp_LED record (§6.10): temporary and permanent settings of one LED. */
export interface LedControl {
  readonly reader: number;
  readonly led: number;
  readonly temporary: LedState & { readonly timer: number };
  readonly permanent: LedState;
}

export type OsdpCommand =
  | { readonly kind: 'POLL' }
  | { readonly kind: 'ID'; readonly reportType: number }
  | { readonly kind: 'CAP'; readonly reportType: number }
  | { readonly kind: 'LSTAT' }
  | { readonly kind: 'ISTAT' }
  | { readonly kind: 'OSTAT' }
  | { readonly kind: 'RSTAT' }
  | { readonly kind: 'OUT'; readonly outputs: readonly OutputControl[] }
  | { readonly kind: 'LED'; readonly leds: readonly LedControl[] }
  | {
      readonly kind: 'BUZ';
      readonly reader: number;
      readonly tone: number;
      readonly onTime: number;
      readonly offTime: number;
      readonly count: number;
    }
  | {
      readonly kind: 'TEXT';
      readonly reader: number;
      readonly command: number;
      readonly tempTime: number;
      readonly row: number;
      readonly column: number;
      readonly text: string;
    }
  | { readonly kind: 'COMSET'; readonly address: number; readonly baudRate: number }
  | { readonly kind: 'KEYSET'; readonly keyType: number; readonly key: Buffer }
  | { readonly kind: 'CHLNG'; readonly rndA: Buffer }
  | { readonly kind: 'SCRYPT'; readonly serverCryptogram: Buffer };

export interface EncodedMessage {
  readonly code: number;
  readonly data: Buffer;
}

const LED_RECORD_BYTES = 14;
const OUT_RECORD_BYTES = 4;
/** §6.12: the text field is printable ASCII, at most 32 characters. */
const TEXT_MAX = 32;
/** KEYSET key type 0x01 = SCBK (Annex D.7). */
export const KEYSET_TYPE_SCBK = 0x01;

function encodeLedState(out: Buffer, at: number, s: LedState): void {
  out[at] = checkByte(s.controlCode, 'led.control');
  out[at + 1] = checkByte(s.onTime, 'led.on');
  out[at + 2] = checkByte(s.offTime, 'led.off');
  out[at + 3] = checkByte(s.onColor, 'led.onColor');
  out[at + 4] = checkByte(s.offColor, 'led.offColor');
}

function decodeLedState(data: Buffer, at: number): LedState {
  return {
    controlCode: data.readUInt8(at),
    onTime: data.readUInt8(at + 1),
    offTime: data.readUInt8(at + 2),
    onColor: data.readUInt8(at + 3),
    offColor: data.readUInt8(at + 4),
  };
}

function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function bytes(values: readonly number[], what: string): Buffer {
  return Buffer.from(values.map((v) => checkByte(v, what)));
}

function fixed(value: Buffer, n: number, what: string): Buffer {
  if (value.length !== n) throw lengthError(what);
  return Buffer.from(value);
}

export function encodeCommand(command: OsdpCommand): EncodedMessage {
  switch (command.kind) {
    case 'POLL':
    case 'LSTAT':
    case 'ISTAT':
    case 'OSTAT':
    case 'RSTAT':
      return { code: OSDP_COMMAND[command.kind], data: Buffer.alloc(0) };
    case 'ID':
    case 'CAP':
      return { code: OSDP_COMMAND[command.kind], data: bytes([command.reportType], 'reportType') };
    case 'OUT': {
      if (command.outputs.length === 0) throw valueError('out.empty');
      const data = Buffer.alloc(command.outputs.length * OUT_RECORD_BYTES);
      command.outputs.forEach((o, i) => {
        data[i * 4] = checkByte(o.output, 'out.output');
        data[i * 4 + 1] = checkByte(o.controlCode, 'out.control');
        data.writeUInt16LE(checkU16(o.timer, 'out.timer'), i * 4 + 2);
      });
      return { code: OSDP_COMMAND.OUT, data };
    }
    case 'LED': {
      if (command.leds.length === 0) throw valueError('led.empty');
      const data = Buffer.alloc(command.leds.length * LED_RECORD_BYTES);
      command.leds.forEach((l, i) => {
        const at = i * LED_RECORD_BYTES;
        data[at] = checkByte(l.reader, 'led.reader');
        data[at + 1] = checkByte(l.led, 'led.led');
        encodeLedState(data, at + 2, l.temporary);
        data.writeUInt16LE(checkU16(l.temporary.timer, 'led.timer'), at + 7);
        encodeLedState(data, at + 9, l.permanent);
      });
      return { code: OSDP_COMMAND.LED, data };
    }
    case 'BUZ':
      return {
        code: OSDP_COMMAND.BUZ,
        data: bytes([command.reader, command.tone, command.onTime, command.offTime, command.count], 'buz'),
      };
    case 'TEXT': {
      if (command.text.length > TEXT_MAX || !isPrintableAscii(command.text)) throw valueError('text');
      const head = bytes([command.reader, command.command, command.tempTime, command.row, command.column, command.text.length], 'text');
      return { code: OSDP_COMMAND.TEXT, data: Buffer.concat([head, Buffer.from(command.text, 'latin1')]) };
    }
    case 'COMSET': {
      const data = Buffer.alloc(5);
      data[0] = checkByte(command.address, 'comset.address');
      data.writeUInt32LE(checkU32(command.baudRate, 'comset.baud'), 1);
      return { code: OSDP_COMMAND.COMSET, data };
    }
    case 'KEYSET':
      return {
        code: OSDP_COMMAND.KEYSET,
        data: Buffer.concat([bytes([command.keyType, command.key.length], 'keyset'), command.key]),
      };
    case 'CHLNG':
      return { code: OSDP_COMMAND.CHLNG, data: fixed(command.rndA, 8, 'chlng') };
    case 'SCRYPT':
      return { code: OSDP_COMMAND.SCRYPT, data: fixed(command.serverCryptogram, 16, 'scrypt') };
  }
}

export function decodeCommand(code: number, data: Buffer): OsdpCommand {
  switch (code) {
    case OSDP_COMMAND.POLL:
      expectLength(data, 0, 'poll');
      return { kind: 'POLL' };
    case OSDP_COMMAND.LSTAT:
      expectLength(data, 0, 'lstat');
      return { kind: 'LSTAT' };
    case OSDP_COMMAND.ISTAT:
      expectLength(data, 0, 'istat');
      return { kind: 'ISTAT' };
    case OSDP_COMMAND.OSTAT:
      expectLength(data, 0, 'ostat');
      return { kind: 'OSTAT' };
    case OSDP_COMMAND.RSTAT:
      expectLength(data, 0, 'rstat');
      return { kind: 'RSTAT' };
    case OSDP_COMMAND.ID:
      expectLength(data, 1, 'id');
      return { kind: 'ID', reportType: data.readUInt8(0) };
    case OSDP_COMMAND.CAP:
      expectLength(data, 1, 'cap');
      return { kind: 'CAP', reportType: data.readUInt8(0) };
    case OSDP_COMMAND.OUT: {
      const n = expectRecords(data, OUT_RECORD_BYTES, 'out');
      const outputs: OutputControl[] = [];
      for (let i = 0; i < n; i++) {
        outputs.push({ output: data.readUInt8(i * 4), controlCode: data.readUInt8(i * 4 + 1), timer: data.readUInt16LE(i * 4 + 2) });
      }
      return { kind: 'OUT', outputs };
    }
    case OSDP_COMMAND.LED: {
      const n = expectRecords(data, LED_RECORD_BYTES, 'led');
      const leds: LedControl[] = [];
      for (let i = 0; i < n; i++) {
        const at = i * LED_RECORD_BYTES;
        leds.push({
          reader: data.readUInt8(at),
          led: data.readUInt8(at + 1),
          temporary: { ...decodeLedState(data, at + 2), timer: data.readUInt16LE(at + 7) },
          permanent: decodeLedState(data, at + 9),
        });
      }
      return { kind: 'LED', leds };
    }
    case OSDP_COMMAND.BUZ:
      expectLength(data, 5, 'buz');
      return {
        kind: 'BUZ',
        reader: data.readUInt8(0),
        tone: data.readUInt8(1),
        onTime: data.readUInt8(2),
        offTime: data.readUInt8(3),
        count: data.readUInt8(4),
      };
    case OSDP_COMMAND.TEXT: {
      if (data.length < 6) throw lengthError('text');
      const textLength = data.readUInt8(5);
      if (textLength > TEXT_MAX) throw valueError('text.length');
      expectLength(data, 6 + textLength, 'text');
      const text = data.subarray(6).toString('latin1');
      if (!isPrintableAscii(text)) throw valueError('text.chars');
      return {
        kind: 'TEXT',
        reader: data.readUInt8(0),
        command: data.readUInt8(1),
        tempTime: data.readUInt8(2),
        row: data.readUInt8(3),
        column: data.readUInt8(4),
        text,
      };
    }
    case OSDP_COMMAND.COMSET:
      expectLength(data, 5, 'comset');
      return { kind: 'COMSET', address: data.readUInt8(0), baudRate: data.readUInt32LE(1) };
    case OSDP_COMMAND.KEYSET: {
      if (data.length < 2) throw lengthError('keyset');
      expectLength(data, 2 + data.readUInt8(1), 'keyset');
      return { kind: 'KEYSET', keyType: data.readUInt8(0), key: Buffer.from(data.subarray(2)) };
    }
    case OSDP_COMMAND.CHLNG:
      expectLength(data, 8, 'chlng');
      return { kind: 'CHLNG', rndA: Buffer.from(data) };
    case OSDP_COMMAND.SCRYPT:
      expectLength(data, 16, 'scrypt');
      return { kind: 'SCRYPT', serverCryptogram: Buffer.from(data) };
    default:
      throw unknownCodeError(code);
  }
}
