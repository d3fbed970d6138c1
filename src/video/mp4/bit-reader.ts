// Bit-level reader for NAL unit RBSPs (ITU-T H.264 §7.2 / H.265 §7.2 syntax descriptors u(n), ue(v),
// se(v)) with every read checked against the end of the buffer. Exp-Golomb codes (H.264 §9.1)
// are limited to 31 leading zero bits: anything longer is not a valid value for the fields we read.
import { VigilError } from '../../core/errors.ts';

/** Largest NAL unit we parse for parameter sets; a real SPS is well under 1 KiB. */
export const MAX_PARAMETER_SET_BYTES = 4096;

/**
 * Strip emulation prevention bytes (H.264 §7.4.1: 0x000003 → 0x0000) from a NAL unit payload.
 * Bounded: the input is capped at MAX_PARAMETER_SET_BYTES and the output is never longer.
 */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  if (nal.length > MAX_PARAMETER_SET_BYTES) {
    throw new VigilError('VIGIL_MP4_TOO_LARGE', 'parameter set NAL unit is too large', { details: { bytes: nal.length } });
  }
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i] ?? 0;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

export class RbspReader {
  readonly #bytes: Uint8Array;
  #bit = 0;

  constructor(rbsp: Uint8Array) {
    this.#bytes = rbsp;
  }

  get bitsLeft(): number {
    return this.#bytes.length * 8 - this.#bit;
  }

  #fail(what: string): never {
    throw new VigilError('VIGIL_MP4_MALFORMED', `parameter set truncated or invalid: ${what}`, { details: { bitOffset: this.#bit } });
  }

  /** u(n), n ≤ 32. */
  u(n: number): number {
    if (n < 0 || n > 32) this.#fail('field width');
    if (n > this.bitsLeft) this.#fail('read past end');
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#bytes[this.#bit >>> 3] ?? 0;
      v = v * 2 + ((byte >>> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  skip(n: number): void {
    if (n < 0 || n > this.bitsLeft) this.#fail('skip past end');
    this.#bit += n;
  }

  /** ue(v), H.264 §9.1. */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      zeros++;
      if (zeros > 31) this.#fail('exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v), H.264 §9.1.1. */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue(v) that must lie in [0, max]. */
  ueMax(max: number, what: string): number {
    const v = this.ue();
    if (v > max) this.#fail(`${what} out of range`);
    return v;
  }
}
