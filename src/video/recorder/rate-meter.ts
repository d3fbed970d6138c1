// Frame and bit rates over the last few seconds, for camera health (issue #8): per-second
// buckets in a fixed ring, so memory is constant whatever the stream does.
const BUCKETS = 5;

export class RateMeter {
  readonly #frames = new Float64Array(BUCKETS);
  readonly #bytes = new Float64Array(BUCKETS);
  readonly #second = new Float64Array(BUCKETS).fill(-1);

  add(nowMs: number, bytes: number): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % BUCKETS;
    if (this.#second[i] !== second) {
      this.#second[i] = second;
      this.#frames[i] = 0;
      this.#bytes[i] = 0;
    }
    this.#frames[i] = (this.#frames[i] ?? 0) + 1;
    this.#bytes[i] = (this.#bytes[i] ?? 0) + bytes;
  }

  /** Averages over the complete seconds of the window (the current one is still filling). */
  rates(nowMs: number): { fps: number; bitrateKbps: number } {
    const current = Math.floor(nowMs / 1000);
    let frames = 0;
    let bytes = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const s = this.#second[i] ?? -1;
      if (s < current - (BUCKETS - 1) || s >= current) continue;
      frames += this.#frames[i] ?? 0;
      bytes += this.#bytes[i] ?? 0;
    }
    const seconds = BUCKETS - 1;
    return { fps: Math.round((frames / seconds) * 10) / 10, bitrateKbps: Math.round((bytes * 8) / seconds / 1000) };
  }
}
