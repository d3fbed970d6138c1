// A clock that tests can move. Services take a Clock instead of calling Date.now().
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}

/** ISO 8601 UTC with milliseconds (ACS-5.6.1.5). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
