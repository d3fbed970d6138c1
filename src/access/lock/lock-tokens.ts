// What a smart lock accepts without a network (design.md §6, ACS smart-lock clauses): credentials
// issued by the platform — signed (Ed25519), time-bound and door-bound — and remote unlock
// commands signed over a nonce the lock itself issued, so a recorded command cannot be replayed.
//
// Token: base64url(JSON payload) "." base64url(signature over the payload bytes). The payload
// carries a type tag, so a credential can never be used as a command or the other way round.
import { VigilError } from '../../core/errors.ts';
import { verifySignature, type DeviceSigner } from '../../crypto/signer.ts';

export interface LockCredentialClaims {
  /** Credential id (revocation lists name it). */
  id: string;
  holderId: string;
  /** Doors this credential opens. */
  doors: string[];
  /** Epoch ms validity window. */
  notBefore: number;
  notAfter: number;
}

export interface UnlockCommandClaims {
  lockId: string;
  doorId: string;
  /** The nonce the lock issued for this command. */
  nonce: string;
  issuedAt: number;
  /** How long the lock stays released. */
  releaseSeconds: number;
  /** Who asked (for the lock's own log). */
  actor: string;
}

const MAX_TOKEN = 4096;
type Tagged<T> = T & { typ: 'vigil.lock.credential.v1' | 'vigil.lock.unlock.v1' };

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_LOCK_TOKEN_INVALID', message);
}

function sign(signer: DeviceSigner, payload: object): string {
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return `${bytes.toString('base64url')}.${signer.sign(bytes).toString('base64url')}`;
}

/** The verified payload, or a coded error. Signature first: nothing unsigned is parsed further. */
function open(token: string, publicKeyPem: string, typ: Tagged<object>['typ']): Record<string, unknown> {
  if (token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw malformed('not a lock token');
  const [body = '', sig = ''] = token.split('.');
  const bytes = Buffer.from(body, 'base64url');
  if (!verifySignature(publicKeyPem, bytes, Buffer.from(sig, 'base64url'))) throw new VigilError('VIGIL_LOCK_TOKEN_INVALID', 'signature does not verify with the platform key');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed('payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || (value as { typ?: unknown }).typ !== typ) throw malformed(`not a ${typ} token`);
  return value as Record<string, unknown>;
}

function str(v: unknown, field: string, max = 128): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw malformed(`${field} missing or too long`);
  return v;
}

function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${field} is not a time`);
  return v;
}

export function issueCredential(signer: DeviceSigner, claims: LockCredentialClaims): string {
  if (claims.notAfter <= claims.notBefore) throw new VigilError('VIGIL_VALIDATION', 'notAfter must be after notBefore');
  if (claims.doors.length === 0 || claims.doors.length > 64) throw new VigilError('VIGIL_VALIDATION', 'a credential opens 1 to 64 doors');
  return sign(signer, { typ: 'vigil.lock.credential.v1', ...claims });
}

export function readCredential(token: string, platformKeyPem: string): LockCredentialClaims {
  const v = open(token, platformKeyPem, 'vigil.lock.credential.v1');
  const doors = v['doors'];
  if (!Array.isArray(doors) || doors.length === 0 || doors.length > 64) throw malformed('doors missing');
  return {
    id: str(v['id'], 'id'),
    holderId: str(v['holderId'], 'holderId'),
    doors: doors.map((d, i) => str(d, `doors[${i}]`)),
    notBefore: int(v['notBefore'], 'notBefore'),
    notAfter: int(v['notAfter'], 'notAfter'),
  };
}

export function issueUnlockCommand(signer: DeviceSigner, claims: UnlockCommandClaims): string {
  if (!Number.isInteger(claims.releaseSeconds) || claims.releaseSeconds < 1 || claims.releaseSeconds > 60) throw new VigilError('VIGIL_VALIDATION', 'releaseSeconds is 1 to 60');
  return sign(signer, { typ: 'vigil.lock.unlock.v1', ...claims });
}

export function readUnlockCommand(token: string, platformKeyPem: string): UnlockCommandClaims {
  const v = open(token, platformKeyPem, 'vigil.lock.unlock.v1');
  const release = int(v['releaseSeconds'], 'releaseSeconds');
  if (release < 1 || release > 60) throw malformed('releaseSeconds out of range');
  return { lockId: str(v['lockId'], 'lockId'), doorId: str(v['doorId'], 'doorId'), nonce: str(v['nonce'], 'nonce'), issuedAt: int(v['issuedAt'], 'issuedAt'), releaseSeconds: release, actor: str(v['actor'], 'actor', 200) };
}
