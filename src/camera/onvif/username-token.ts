// WS-Security UsernameToken for ONVIF (ONVIF Core §5.9.4; OASIS WSS UsernameToken Profile 1.0
// §3.1, §4): PasswordDigest = Base64(SHA-1(nonce + created + password)), with the two defences
// of §4 made mandatory (CAM-T-auth-1, replay resistance): Created must lie within ±5 minutes of
// the device clock, and each nonce is accepted once per user within that window.
//
// The replay cache is bounded. An entry lives until its Created leaves the window (after that
// the clock check refuses the token anyway). Under a flood that fills it, the oldest entry is
// dropped and its Created becomes a floor: tokens created at or before the floor are refused,
// so eviction can never reopen a replay window (it fails closed, like the RTSP nonce map).
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';

export { passwordDigest } from '../../onvif/wss-username-token.ts';

export const CREATED_WINDOW_MS = 5 * 60_000;
const NONCE_MIN_BYTES = 16;
const NONCE_MAX_BYTES = 64;
/** xsd:dateTime as WSS writes it (UTC 'Z' or an offset; fractions optional). */
const CREATED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Constant-time comparison of the digest sent with the expected one. */
export function digestMatches(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The nonce bytes of a base64 Nonce, or undefined when it is not one of a sane size. */
export function decodeNonce(value: string | undefined): Buffer | undefined {
  if (value === undefined || value.length > 128 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length >= NONCE_MIN_BYTES && bytes.length <= NONCE_MAX_BYTES ? bytes : undefined;
}

/** Created in ms since the epoch, or undefined when malformed. */
export function parseCreated(value: string | undefined): number | undefined {
  if (value === undefined || !CREATED.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export type FreshnessVerdict = 'fresh' | 'expired' | 'future';

/** ±5 minutes of the device clock (WSS UsernameToken Profile 1.0 §4: "a limited time"). */
export function freshness(createdMs: number, nowMs: number): FreshnessVerdict {
  if (createdMs < nowMs - CREATED_WINDOW_MS) return 'expired';
  if (createdMs > nowMs + CREATED_WINDOW_MS) return 'future';
  return 'fresh';
}

export class NonceReplayCache {
  readonly #seen = new Map<string, number>();
  readonly #capacity: number;
  readonly #clock: Clock;
  #floorCreatedMs = Number.NEGATIVE_INFINITY;

  constructor(options: { capacity: number; clock: Clock }) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#capacity = options.capacity;
    this.#clock = options.clock;
  }

  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records (username, nonce) and returns true the first time; false for a replay, or for a
   * token not newer than an entry dropped under a flood. Call only for a fresh Created.
   */
  claim(username: string, nonce: Buffer, createdMs: number): boolean {
    if (createdMs <= this.#floorCreatedMs) return false;
    const key = `${username}\u0000${nonce.toString('base64')}`;
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= this.#capacity) this.#makeRoom();
    this.#seen.set(key, createdMs);
    return true;
  }

  #makeRoom(): void {
    const oldest = this.#clock.now() - CREATED_WINDOW_MS;
    for (const [key, created] of this.#seen) if (created < oldest) this.#seen.delete(key);
    while (this.#seen.size >= this.#capacity) {
      const first = this.#seen.entries().next();
      if (first.done === true) break;
      this.#seen.delete(first.value[0]);
      this.#floorCreatedMs = Math.max(this.#floorCreatedMs, first.value[1]);
    }
  }
}
