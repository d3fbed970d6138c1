// Incremental Annex B parsing of an encoder's output pipe: bytes in, whole access units out.
// The buffer is bounded: a unit larger than `maxAccessUnitBytes` means a broken encoder, and the
// stream is reset to the next start code rather than allowed to grow.
import { isPictureNal, startsAccessUnit } from '../video/rtp/annexb.ts';

export class AnnexBAccessUnitStream {
  readonly #codec: 'H264' | 'H265';
  readonly #max: number;
  readonly #onAccessUnit: (nals: Buffer[]) => void;
  #pending: Buffer = Buffer.alloc(0);
  #unit: Buffer[] = [];
  #unitBytes = 0;
  #hasPicture = false;
  dropped = 0;

  constructor(codec: 'H264' | 'H265', onAccessUnit: (nals: Buffer[]) => void, maxAccessUnitBytes = 8 * 1024 * 1024) {
    this.#codec = codec;
    this.#onAccessUnit = onAccessUnit;
    this.#max = maxAccessUnitBytes;
  }

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    // Every NAL unit followed by a start code is complete; the last one waits for more bytes.
    let start = findStartCode(this.#pending, 0);
    if (start < 0) {
      if (this.#pending.length > this.#max) this.#reset();
      return;
    }
    for (;;) {
      const bodyStart = start + 3;
      const next = findStartCode(this.#pending, bodyStart);
      if (next < 0) break;
      this.#nal(trimZeros(this.#pending.subarray(bodyStart, next)));
      start = next;
    }
    this.#pending = Buffer.from(this.#pending.subarray(start));
    if (this.#pending.length > this.#max) this.#reset();
  }

  /** End of stream: the last NAL unit and access unit are complete. */
  end(): void {
    const start = findStartCode(this.#pending, 0);
    if (start >= 0) this.#nal(trimZeros(this.#pending.subarray(start + 3)));
    this.#pending = Buffer.alloc(0);
    this.#emit();
  }

  #nal(nal: Buffer): void {
    if (nal.length === 0) return;
    if (startsAccessUnit(this.#codec, nal, this.#hasPicture)) this.#emit();
    if (this.#unitBytes + nal.length > this.#max) {
      this.#unit = [];
      this.#unitBytes = 0;
      this.#hasPicture = false;
      this.dropped++;
      return;
    }
    this.#unit.push(nal);
    this.#unitBytes += nal.length;
    if (isPictureNal(this.#codec, nal)) this.#hasPicture = true;
  }

  #emit(): void {
    if (this.#unit.length > 0 && this.#hasPicture) this.#onAccessUnit(this.#unit);
    this.#unit = [];
    this.#unitBytes = 0;
    this.#hasPicture = false;
  }

  #reset(): void {
    this.#pending = Buffer.alloc(0);
    this.#unit = [];
    this.#unitBytes = 0;
    this.#hasPicture = false;
    this.dropped++;
  }
}

function findStartCode(data: Buffer, from: number): number {
  for (let i = data.indexOf(0, from); i >= 0 && i + 2 < data.length; i = data.indexOf(0, i + 1)) {
    if (data[i + 1] === 0 && data[i + 2] === 1) return i;
  }
  return -1;
}

function trimZeros(nal: Buffer): Buffer {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  // A copy: the pending buffer is reused, the unit outlives it.
  return Buffer.from(nal.subarray(0, end));
}
