// Counts events accepted and stored, and the callers waiting for "everything accepted so far
// is stored" (AuditLog.flush). Bounded: too many waiters is an error, not a growing list.
import { VigilError } from '../core/errors.ts';

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class FlushWaiters {
  readonly #cap: number;
  #waiters: Waiter[] = [];
  accepted = 0;
  stored = 0;

  constructor(cap = 10_000) {
    this.#cap = cap;
  }

  get idle(): boolean {
    return this.stored >= this.accepted;
  }

  wait(): Promise<void> {
    if (this.idle) return Promise.resolve();
    if (this.#waiters.length >= this.#cap) return Promise.reject(new VigilError('VIGIL_AUDIT_WRITE_FAILED', 'too many callers waiting for the audit log'));
    return new Promise<void>((resolve, reject) => this.#waiters.push({ target: this.accepted, resolve, reject }));
  }

  markStored(n: number): void {
    this.stored += n;
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.target <= this.stored) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  rejectAll(message: string): void {
    for (const w of this.#waiters.splice(0)) w.reject(new VigilError('VIGIL_AUDIT_WRITE_FAILED', message));
  }
}
