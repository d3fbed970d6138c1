// Streaming OSDP frame reassembler (§5.7 "message synchronisation"): bytes arrive in arbitrary
// chunks from a serial line or TCP. Garbage before a SOM is skipped; a SOM whose LEN is out of
// range or whose check character fails is dropped one byte at a time so that a real SOM hidden
// inside garbage is still found. The buffer is fixed: at most 2 × OSDP_MAX_PACKET_BYTES
// (ACS-5.4.1.1), whatever the peer sends.
import { OSDP_MAX_PACKET_BYTES, OSDP_SOM } from './constants.ts';
import { checkMatches, framedLength } from './packet.ts';

export interface ReassemblyResult {
  /** Complete frames whose check character matched; parse them with parsePacket. */
  readonly frames: Buffer[];
  /** Bytes dropped while resynchronising (a counter for diagnostics). */
  readonly discarded: number;
}

export class OsdpFrameReassembler {
  readonly #buffer = Buffer.alloc(OSDP_MAX_PACKET_BYTES * 2);
  #start = 0;
  #end = 0;

  /** Bytes held waiting for the rest of a frame; never above OSDP_MAX_PACKET_BYTES after push. */
  get pending(): number {
    return this.#end - this.#start;
  }

  reset(): void {
    this.#start = 0;
    this.#end = 0;
  }

  push(chunk: Uint8Array): ReassemblyResult {
    const frames: Buffer[] = [];
    let discarded = 0;
    let offset = 0;
    // Each pass copies at most the free space, then extracts; extraction always leaves fewer than
    // OSDP_MAX_PACKET_BYTES pending, so every pass makes progress and the loop is bounded by chunk.length.
    while (offset < chunk.length) {
      this.#compact();
      const room = this.#buffer.length - this.#end;
      const take = Math.min(room, chunk.length - offset);
      this.#buffer.set(chunk.subarray(offset, offset + take), this.#end);
      this.#end += take;
      offset += take;
      discarded += this.#extract(frames);
    }
    return { frames, discarded };
  }

  #compact(): void {
    if (this.#start === 0) return;
    this.#buffer.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
  }

  #extract(frames: Buffer[]): number {
    let discarded = 0;
    while (this.#start < this.#end) {
      if (this.#buffer[this.#start] !== OSDP_SOM) {
        const som = this.#buffer.indexOf(OSDP_SOM, this.#start);
        const next = som === -1 || som >= this.#end ? this.#end : som;
        discarded += next - this.#start;
        this.#start = next;
        continue;
      }
      const length = framedLength(this.#buffer, this.#start, this.#end);
      if (length === 0) break;
      if (length < 0) {
        this.#start += 1;
        discarded += 1;
        continue;
      }
      if (this.#end - this.#start < length) break;
      if (!checkMatches(this.#buffer, this.#start, length)) {
        this.#start += 1;
        discarded += 1;
        continue;
      }
      frames.push(Buffer.from(this.#buffer.subarray(this.#start, this.#start + length)));
      this.#start += length;
    }
    if (this.#start === this.#end) this.reset();
    return discarded;
  }
}
