// The credential set a controller receives from the platform (design.md §6): versioned, signed
// by the platform (Ed25519), full or a delta on a named base version. The controller refuses
// anything unsigned, older, or not built on the version it holds (ACS-5.4.2.3).
//
// Wire form: one JSON document {payload, signature}; the signature covers the payload's UTF-8
// bytes exactly as sent, so no re-serialisation is involved in verification.
import { VigilError } from '../../core/errors.ts';
import { verifySignature, type DeviceSigner } from '../../crypto/signer.ts';
import type { DoorMode, ScheduleFacts } from '../platform/types.ts';

export interface CredentialEntry {
  /** The credential key (src/access/card-key.ts), e.g. 'h10301:90:324'. */
  key: string;
  holderId: string;
  /** Doors of this controller the holder may open through an access level. */
  doors: string[];
  /** Valid from this time (inclusive) … */
  notBefore: number;
  /** … until this time (exclusive): credential and cardholder windows intersected. */
  notAfter: number;
  /**
   * Per door: the schedules (IDs in the payload's `schedules`) of the holder's access levels
   * that include it; open while any is active. A door absent here is open at any time.
   */
  schedules?: Record<string, string[]>;
  /** The holder may pass during a site lockdown (at any door of the locked-down site). */
  lockdownOverride?: boolean;
  /** Edge verifier of the PIN (src/access/edge-pin.ts): PBKDF2, never the PIN or the platform's MAC. */
  pinVerifier?: string;
  /** Edge verifier of the duress PIN: grants and raises a duress event, like the platform. */
  duressVerifier?: string;
  /**
   * The credential has a PIN or duress PIN set before edge verifiers existed (migration 012):
   * the edge cannot check it, so card-and-PIN doors refuse it until the PIN is set again.
   */
  pinNotAtEdge?: boolean;
}

/** What the controller must know of a door to decide like the platform. */
export interface EdgeDoorFacts {
  id: string;
  mode: DoorMode;
  /** The site's IANA time zone: schedules are evaluated in it. */
  timezone: string;
  lockdown: boolean;
}

export interface CredentialSetPayload {
  controllerId: string;
  version: number;
  /** null for a full set; the version a delta applies to. */
  baseVersion: number | null;
  issuedAt: number;
  upserts: CredentialEntry[];
  /** Keys removed (delta only). */
  removals: string[];
  /**
   * The doors and the schedules the entries refer to, always complete (full set and delta
   * alike: a handful of rows, replaced as a whole). Absent in sets built without a door model:
   * then every door is a card door, never locked down, and entries carry no schedules.
   */
  doors?: EdgeDoorFacts[];
  schedules?: ScheduleFacts[];
}

export interface SignedCredentialSet {
  payload: string;
  signature: string;
}

export const MAX_SET_ENTRIES = 5_000_000;
export const MAX_SET_DOORS = 64;
export const MAX_SET_SCHEDULES = 1000;

export function signCredentialSet(signer: DeviceSigner, payload: CredentialSetPayload): SignedCredentialSet {
  const text = JSON.stringify(payload);
  return { payload: text, signature: signer.sign(Buffer.from(text, 'utf8')).toString('base64') };
}

function bad(message: string): VigilError {
  return new VigilError('VIGIL_CREDENTIAL_SET_INVALID', message);
}

export function openCredentialSet(set: SignedCredentialSet, platformKeyPem: string, controllerId: string): CredentialSetPayload {
  if (!verifySignature(platformKeyPem, Buffer.from(set.payload, 'utf8'), Buffer.from(set.signature, 'base64'))) throw bad('the credential set is not signed by the platform');
  const p = JSON.parse(set.payload) as CredentialSetPayload;
  if (p.controllerId !== controllerId) throw bad(`the credential set is for controller ${String(p.controllerId).slice(0, 64)}`);
  if (!Number.isSafeInteger(p.version) || p.version < 1) throw bad('bad version');
  if (p.baseVersion !== null && (!Number.isSafeInteger(p.baseVersion) || p.baseVersion >= p.version)) throw bad('bad base version');
  if (!Array.isArray(p.upserts) || !Array.isArray(p.removals) || p.upserts.length + p.removals.length > MAX_SET_ENTRIES) throw bad('bad entries');
  if (p.baseVersion === null && p.removals.length > 0) throw bad('a full set has no removals');
  if (p.doors !== undefined && (!Array.isArray(p.doors) || p.doors.length > MAX_SET_DOORS)) throw bad('bad doors');
  if (p.schedules !== undefined && (!Array.isArray(p.schedules) || p.schedules.length > MAX_SET_SCHEDULES)) throw bad('bad schedules');
  return p;
}
