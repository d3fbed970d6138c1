// Usernames: one canonical form so "Alice", "alice " and "ａｌｉｃｅ" are the same account
// (ACS-5.1.1.10 unique identification).
import { VigilError } from '../core/errors.ts';

const USERNAME = /^[a-z0-9._@-]{1,64}$/;
/** Longer input is refused before normalising, so NFKC never runs on a flood. */
const RAW_MAX = 256;

/** NFKC, trimmed, lower-case, 1–64 of [a-z0-9._@-]; or null when that is impossible. */
export function canonicalUsername(raw: string): string | null {
  if (raw.length > RAW_MAX) return null;
  const name = raw.normalize('NFKC').trim().toLowerCase();
  return USERNAME.test(name) ? name : null;
}

export function normaliseUsername(raw: string): string {
  const name = canonicalUsername(raw);
  if (name === null) {
    throw new VigilError('VIGIL_VALIDATION', 'username must be 1 to 64 characters of a-z, 0-9, ".", "_", "@" or "-"');
  }
  return name;
}
