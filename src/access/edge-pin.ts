// The PIN verifier a door controller checks a keypad PIN against offline (issue #6), shared by
// the platform (which derives it when a PIN is set) and the edge (which verifies it).
//
// The platform's own PIN record is an HMAC under a keyring key (platform/pin.ts) that must never
// leave the platform, so the edge gets something else: PBKDF2-HMAC-SHA256 (NIST SP 800-132,
// ACS-5.3.1.1) of the PIN with a random 128-bit salt per verifier, derived only while the PIN is
// in hand (create, update, CSV import) and never from the platform's HMAC.
//
// Why 100,000 iterations: a 4–8 digit PIN has only 10^4–10^8 values, so no iteration count makes
// a leaked verifier safe on its own; the verifier is protected first by where it lives (sealed by
// the keyring on the platform, in a signed set over mTLS, sealed on the controller's flash). The
// count makes a stolen verifier cost 10^4 × 100,000 HMAC pairs for a 4-digit PIN and 10^13 for
// an 8-digit one, and the unique salt stops one table serving every credential. More would buy
// little against a 10^4 space and would be paid on every keypad entry at the door: about 15 ms
// per verification on a desktop core, roughly 0.2–0.4 s on a Cortex-A53 class controller, run
// on the libuv pool so the reader loop keeps polling. The count travels in the verifier, so it
// can be raised later (ACS-5.2.2.7) without breaking verifiers already published.
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { VigilError } from '../core/errors.ts';

const pbkdf2Async = promisify(pbkdf2);

export const EDGE_PIN_ITERATIONS = 100_000;
/** What a controller accepts from a signed set (tests derive with fewer to stay fast). */
export const EDGE_PIN_MIN_ITERATIONS = 1_000;
export const EDGE_PIN_MAX_ITERATIONS = 2_000_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCHEME = 'pbkdf2-sha256';
/** PINs the platform issues; anything else never matches a verifier. */
const PIN_DIGITS = /^\d{4,8}$/;
const VERIFIER = /^pbkdf2-sha256\$(\d{1,7})\$([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=)$/;

export interface EdgePinVerifier {
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

/** `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64) of a 4–8 digit PIN. */
export async function deriveEdgePinVerifier(pin: string, iterations = EDGE_PIN_ITERATIONS): Promise<string> {
  if (!PIN_DIGITS.test(pin)) throw new VigilError('VIGIL_VALIDATION', 'pin: 4 to 8 digits', { details: { field: 'pin' } });
  if (!Number.isSafeInteger(iterations) || iterations < EDGE_PIN_MIN_ITERATIONS || iterations > EDGE_PIN_MAX_ITERATIONS) throw new VigilError('VIGIL_VALIDATION', 'edge PIN iterations out of range');
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2Async(pin, salt, iterations, HASH_BYTES, 'sha256');
  return `${SCHEME}$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The parsed verifier, or undefined for anything malformed (a set is checked before use). */
export function parseEdgePinVerifier(text: unknown): EdgePinVerifier | undefined {
  if (typeof text !== 'string' || text.length > 120) return undefined;
  const m = VERIFIER.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const iterations = Number(m[1]);
  if (iterations < EDGE_PIN_MIN_ITERATIONS || iterations > EDGE_PIN_MAX_ITERATIONS) return undefined;
  return { iterations, salt: Buffer.from(m[2], 'base64'), hash: Buffer.from(m[3], 'base64') };
}

/** Constant-time check of `pin` against a verifier; a PIN of the wrong shape never matches. */
export async function verifyEdgePin(verifier: EdgePinVerifier, pin: string): Promise<boolean> {
  if (!PIN_DIGITS.test(pin)) return false;
  const hash = await pbkdf2Async(pin, verifier.salt, verifier.iterations, HASH_BYTES, 'sha256');
  try {
    return timingSafeEqual(hash, verifier.hash);
  } finally {
    hash.fill(0); // ACS-5.3.1.4
  }
}
