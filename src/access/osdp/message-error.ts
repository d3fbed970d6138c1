// Errors raised while decoding a command or reply body. `nak` is the osdp_NAK code a PD answers
// with (§7.3), so the PD state machine maps a decoding failure to the right NAK without guessing.
import { VigilError } from '../../core/errors.ts';
import { OSDP_NAK } from './constants.ts';

export function lengthError(what: string): VigilError {
  return new VigilError('VIGIL_OSDP_MALFORMED', 'Malformed OSDP message', {
    details: { reason: 'length', message: what, nak: OSDP_NAK.COMMAND_LENGTH },
  });
}

export function unknownCodeError(code: number): VigilError {
  return new VigilError('VIGIL_OSDP_MALFORMED', 'Unknown OSDP message code', {
    details: { reason: 'unknown-code', code, nak: OSDP_NAK.UNKNOWN_COMMAND },
  });
}

export function valueError(what: string): VigilError {
  return new VigilError('VIGIL_OSDP_MALFORMED', 'Invalid OSDP message field', {
    details: { reason: 'value', message: what, nak: OSDP_NAK.UNABLE_TO_PROCESS },
  });
}

/** The NAK code carried by a decoding error, or UNABLE_TO_PROCESS. */
export function nakCodeOf(error: unknown): number {
  if (error instanceof VigilError && error.details !== undefined) {
    const nak = error.details['nak'];
    if (typeof nak === 'number') return nak;
  }
  return OSDP_NAK.UNABLE_TO_PROCESS;
}

/** Requires `data.length` to be exactly `n`. */
export function expectLength(data: Buffer, n: number, what: string): void {
  if (data.length !== n) throw lengthError(what);
}

/** Requires `data.length` to be a positive multiple of `n` (repeated records). */
export function expectRecords(data: Buffer, n: number, what: string): number {
  if (data.length === 0 || data.length % n !== 0) throw lengthError(what);
  return data.length / n;
}

export function checkByte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw valueError(what);
  return value;
}

export function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw valueError(what);
  return value;
}

export function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw valueError(what);
  return value;
}
