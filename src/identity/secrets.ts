// Random tokens and their stored form. Tokens come from the CSPRNG (ACS-5.2.1.13 approved
// generator); only their SHA-256 is ever stored or kept in memory, and comparisons of digests
// are constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256-bit random token, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests; false when their lengths differ. */
export function digestsEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'utf8');
  const b = Buffer.from(bHex, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time: does `token` hash to `expectedHex`? */
export function tokenMatches(token: string, expectedHex: string): boolean {
  return digestsEqual(sha256Hex(token), expectedHex);
}
