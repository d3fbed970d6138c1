// PINs are never stored or logged in clear (ACS-5.3.1.2, NVR-5.2.4.1a). A 4–8 digit PIN has too
// few values for a salted password hash to protect it once the table leaks, so it is stored as
// HMAC-SHA256 (FIPS 198-1, ACS-5.3.1.1) under a 256-bit key that lives only wrapped by the KEK
// (keyring purpose 'access.pin'): the table alone gives an attacker nothing to brute-force.
// The credential ID is bound into the MAC so equal PINs do not give equal hashes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { VigilError } from '../../core/errors.ts';
import { deriveEdgePinVerifier, EDGE_PIN_ITERATIONS } from '../edge-pin.ts';

export const PIN_KEY_PURPOSE = 'access.pin';
/** Keyring purpose sealing the edge PIN verifiers (edge-pin.ts) at rest on the platform. */
export const EDGE_PIN_PURPOSE = 'access.pin.edge';
export const PIN_PATTERN = /^\d{4,8}$/;
const SCHEME = 'hmac-sha256$';

/** The keyring's `dek` (src/crypto/keyring.ts) satisfies this structurally. */
export interface PinKeySource {
  dek(purpose: string): Promise<Buffer>;
  seal(purpose: string, plaintext: Uint8Array | string, aad?: string): Promise<Buffer>;
  open(purpose: string, sealed: Uint8Array, aad?: string): Promise<Buffer>;
}

export type EdgePinKind = 'pin' | 'duress';

export function pinMac(key: Buffer, credentialId: string, pin: string): string {
  if (!PIN_PATTERN.test(pin)) throw new VigilError('VIGIL_VALIDATION', 'pin: 4 to 8 digits', { details: { field: 'pin' } });
  return SCHEME + createHmac('sha256', key).update(`${credentialId}\u0000${pin}`, 'utf8').digest('base64');
}

/** Constant-time comparison of two encoded MACs. */
export function macEquals(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class PinHasher {
  readonly #keys: PinKeySource;

  readonly #edgeIterations: number;

  /** `edgeIterations`: PBKDF2 count of the edge verifiers (tests lower it; never below the edge's minimum). */
  constructor(keys: PinKeySource, edgeIterations = EDGE_PIN_ITERATIONS) {
    this.#keys = keys;
    this.#edgeIterations = edgeIterations;
  }

  /**
   * The edge verifier of a PIN being set, sealed by the keyring (ACS-5.3.1.2), bound to its
   * credential and kind by the AEAD's associated data so a sealed value moved to another row or
   * swapped between PIN and duress PIN does not open. Stored as base64.
   */
  async sealedEdgeVerifier(credentialId: string, kind: EdgePinKind, pin: string): Promise<string> {
    const verifier = await deriveEdgePinVerifier(pin, this.#edgeIterations);
    return (await this.#keys.seal(EDGE_PIN_PURPOSE, verifier, edgeAad(credentialId, kind))).toString('base64');
  }

  /** The verifier to publish to a controller (credential-set-publisher.ts); never returned by the API. */
  async openEdgeVerifier(credentialId: string, kind: EdgePinKind, sealed: string): Promise<string> {
    return (await this.#keys.open(EDGE_PIN_PURPOSE, Buffer.from(sealed, 'base64'), edgeAad(credentialId, kind))).toString('utf8');
  }

  async mac(credentialId: string, pin: string): Promise<string> {
    const key = await this.#keys.dek(PIN_KEY_PURPOSE);
    try {
      return pinMac(key, credentialId, pin);
    } finally {
      key.fill(0); // ACS-5.3.1.4
    }
  }
}

function edgeAad(credentialId: string, kind: EdgePinKind): string {
  return `access_credentials:${credentialId}:${kind}`;
}
