// Where a recording keeps its access units until the muxer has written them into a fragment
// (design.md §5: no per-frame allocation in steady state). The depacketizer hands over a view of
// a buffer it reuses, so each unit must be copied; instead of one new buffer per frame, copies are
// packed into two buffers that take turns, one per fragment: the muxer holds a unit until the
// fragment that contains it is written, which is at most two fragments after it was copied (the
// unit that closes a fragment is the first of the next one).
//
//   contract: a copy stays valid until `turn()` has been called twice after it was made; the
//   caller calls `turn()` each time the muxer returned a fragment.
const INITIAL_BYTES = 256 * 1024;
/** A slot larger than this and than twice the last fragment's bytes shrinks back (a burst passed). */
const SHRINK_ABOVE_BYTES = 4 * 1024 * 1024;

export class AccessUnitArena {
  readonly #slots: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  #active: 0 | 1 = 0;
  #used = 0;
  /** Bytes copied since the last turn (across a growth), for shrinking. */
  #period = 0;

  /** A copy of `data`; see the contract above for how long it stays valid. */
  copy(data: Uint8Array): Buffer {
    const n = data.length;
    let slot = this.#slots[this.#active];
    if (slot === undefined || this.#used + n > slot.length) {
      // Copies already handed out keep the old buffer alive through their views until written.
      slot = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, 2 * (slot?.length ?? 0), 2 * n));
      this.#slots[this.#active] = slot;
      this.#used = 0;
    }
    const view = slot.subarray(this.#used, this.#used + n);
    view.set(data);
    this.#used += n;
    this.#period += n;
    return view;
  }

  /** The muxer wrote a fragment: copies from now on go to the other slot, whose units are all written. */
  turn(): void {
    this.#active = this.#active === 0 ? 1 : 0;
    const next = this.#slots[this.#active];
    if (next !== undefined && next.length > SHRINK_ABOVE_BYTES && next.length > 2 * this.#period) this.#slots[this.#active] = undefined;
    this.#used = 0;
    this.#period = 0;
  }

  /** Bytes held by both slots (for the memory bound). */
  get capacity(): number {
    return (this.#slots[0]?.length ?? 0) + (this.#slots[1]?.length ?? 0);
  }
}
