// Big-endian writer over one preallocated buffer (ISO/IEC 14496-12 §4.2: all box fields are
// big-endian). Every write is checked against the capacity; callers size the buffer first.
import { VigilError } from '../../core/errors.ts';

/**
 * A real copy of bytes[start, end). Not `.slice()`: on a Node Buffer that returns a view that
 * would alias (and keep alive) the whole source buffer.
 */
export function copyOf(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  pos = 0;

  /** A fresh zeroed buffer of `capacity` bytes, or an existing buffer to fill from offset 0. */
  constructor(capacity: number | Uint8Array) {
    this.bytes = typeof capacity === 'number' ? new Uint8Array(capacity) : capacity;
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  #room(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new VigilError('VIGIL_INTERNAL', 'mp4 writer overflow', { details: { pos: this.pos, need: n, capacity: this.bytes.length } });
    }
  }

  u8(v: number): void {
    this.#room(1);
    this.#view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.#room(2);
    this.#view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u24(v: number): void {
    this.#room(3);
    this.#view.setUint8(this.pos, (v >>> 16) & 0xff);
    this.#view.setUint16(this.pos + 1, v & 0xffff);
    this.pos += 3;
  }

  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  i32(v: number): void {
    this.#room(4);
    this.#view.setInt32(this.pos, v);
    this.pos += 4;
  }

  /** Unsigned 64-bit from a safe integer (≤ 2^53 − 1). */
  u64(v: number): void {
    this.#room(8);
    this.#view.setUint32(this.pos, Math.floor(v / 0x1_0000_0000));
    this.#view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }

  zeros(n: number): void {
    this.#room(n);
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  /** Four-character code, ASCII. */
  fourcc(code: string): void {
    this.#room(4);
    for (let i = 0; i < 4; i++) this.bytes[this.pos + i] = code.charCodeAt(i) & 0xff;
    this.pos += 4;
  }

  /** Start a box (§4.2: size(32) type(32)); returns the offset to hand to `end`. */
  box(type: string): number {
    const at = this.pos;
    this.u32(0);
    this.fourcc(type);
    return at;
  }

  /** Start a FullBox (§4.2: + version(8) flags(24)). */
  fullBox(type: string, version: number, flags: number): number {
    const at = this.box(type);
    this.u8(version);
    this.u24(flags);
    return at;
  }

  /** Patch the size of the box started at `at`. */
  end(at: number): void {
    this.#view.setUint32(at, this.pos - at);
  }

  /** A copy of what was written (for small builders that over-allocate). */
  result(): Uint8Array {
    return copyOf(this.bytes, 0, this.pos);
  }
}
