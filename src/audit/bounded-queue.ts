// A FIFO with a hard capacity and O(1) amortised removal from the head (no Array.shift on a
// 100,000-item array). Items stay at the head until the consumer drops them, so a failed write
// keeps them queued in order.
export class BoundedQueue<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** false when full: the caller decides what overflow means. */
  push(item: T): boolean {
    if (this.length >= this.capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Up to `n` items from the head, not removed. */
  peek(n: number): T[] {
    return this.#items.slice(this.#head, this.#head + Math.max(0, n));
  }

  drop(n: number): void {
    this.#head = Math.min(this.#items.length, this.#head + Math.max(0, n));
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
