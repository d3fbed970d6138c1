// The credential set a controller receives from the platform (design.md §6): versioned, signed
// by the platform (Ed25519), full or a delta on a named base version. The controller refuses
// anything unsigned, older, or not built on the version it holds (ACS-5.4.2.3).
//
// Wire form: one JSON document {payload, signature}; the signature covers the payload's UTF-8
// bytes exactly as sent, so no re-serialisation is involved in verification.
import { VigilError } from '../../core/errors.ts';
import { verifySignature, type DeviceSigner } from '../../crypto/signer.ts';

export interface CredentialEntry {
  /** Card format and number, e.g. 'h10301:90:324' or 'pin-free card number'. */
  key: string;
  holderId: string;
  /** Doors of this controller the holder may open (schedules are resolved by the platform). */
  doors: string[];
  notBefore: number;
  notAfter: number;
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
}

export interface SignedCredentialSet {
  payload: string;
  signature: string;
}

export const MAX_SET_ENTRIES = 5_000_000;

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
  return p;
}
