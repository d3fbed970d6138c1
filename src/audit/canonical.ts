// Canonical bytes of the security event log: what is hashed, what is signed, and the bounds and
// redaction applied before anything is stored. Pure functions, no I/O, so an offline verifier
// can re-implement them from this file alone (NVR-5.2.7.1b, ACS-5.6.1.11).
//
// Event hash (hex SHA-256), "vigil-audit-event-v1":
//
//   hash = SHA-256( UTF-8( "vigil-audit-event-v1\n" || JCS(E) ) )
//
//   E = { "action": s, "actor": s, "category": s, "details": s, "outcome": s,
//         "prev_hash": s, "seq": n, "source": s, "target": s, "ts": s }
//
//   - JCS is RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code units (the
//     order above), no whitespace, strings escaped as ECMAScript JSON.stringify does for
//     well-formed strings, seq an integer in decimal.
//   - "details" is the stored column text itself (a string, not an object): the canonical JSON
//     of the detail map (see canonicalDetails), so the verifier hashes the column as stored.
//   - "prev_hash" is the previous event's hash, or GENESIS_HASH (64 '0') for seq 1.
//   Every stored string is well-formed Unicode with no U+0000 (see boundText), so UTF-8 is
//   lossless and the same on SQLite and PostgreSQL.
//
// Checkpoint signature (Ed25519, base64 in audit_checkpoints.signature):
//
//   signed bytes = UTF-8( "vigil-audit-checkpoint\n" || seq || "\n" || hash || "\n" || ts )
//
// Export signature (last JSONL line, see query.ts):
//
//   signed bytes = UTF-8( "vigil-audit-export\n" || count || "\n" || sha256hex )
import type { AuditEventsTable } from '../store/schema.ts';
import { createHash, verify } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
export const EVENT_HASH_DOMAIN = 'vigil-audit-event-v1\n';
export const CHECKPOINT_DOMAIN = 'vigil-audit-checkpoint\n';
export const EXPORT_DOMAIN = 'vigil-audit-export\n';

/** Longest stored text field, in UTF-16 code units. */
export const MAX_FIELD_CHARS = 512;
export const MAX_DETAIL_KEYS = 32;
export const MAX_DETAIL_KEY_CHARS = 64;
export const REDACTED = '[redacted]';

// ACS-5.6.1.8: no plaintext or recoverable security-sensitive data in logs. A detail whose key
// merely looks like a secret is redacted: over-redaction is the safe failure.
const SECRET_KEY_PARTS = ['password', 'token', 'secret', 'key', 'pin', 'code', 'cookie', 'authorization'] as const;

export type DetailValue = string | number | boolean | null;
export type Details = Record<string, DetailValue>;

/** The fields the event hash covers, as stored (details as canonical JSON text). */
export type ChainedEventFields = Omit<AuditEventsTable, 'hash'>;

export function isSecretLookingKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SECRET_KEY_PARTS.some((part) => lower.includes(part));
}

/**
 * Bounds a text field and makes it storable everywhere: at most `max` code units, lone
 * surrogates (also those left by the cut) become U+FFFD, and U+0000 (refused by PostgreSQL
 * text) becomes U+FFFD.
 */
export function boundText(value: unknown, max: number = MAX_FIELD_CHARS): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const cut = text.length > max ? text.slice(0, max) : text;
  return cut.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/**
 * Bounded, redacted copy of a detail map: at most MAX_DETAIL_KEYS keys (the rest counted in
 * `_omittedKeys`), keys and strings bounded, non-finite numbers become null, anything that is
 * not a string, number, boolean or null becomes '[unsupported]'.
 */
export function sanitizeDetails(details: unknown): Details {
  const out: Details = {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return out;
  const entries = Object.entries(details);
  let kept = 0;
  for (const [rawKey, value] of entries) {
    if (value === undefined) continue;
    if (kept === MAX_DETAIL_KEYS) {
      out['_omittedKeys'] = entries.length - kept;
      break;
    }
    const key = boundText(rawKey, MAX_DETAIL_KEY_CHARS);
    kept++;
    if (isSecretLookingKey(key)) out[key] = REDACTED;
    else if (typeof value === 'string') out[key] = boundText(value);
    else if (typeof value === 'number') out[key] = Number.isFinite(value) ? value : null;
    else if (typeof value === 'boolean' || value === null) out[key] = value;
    else out[key] = '[unsupported]';
  }
  return out;
}

/**
 * RFC 8785 canonical JSON of a flat detail map. Built by hand: a JS object would put
 * integer-like keys ("9", "10") first in numeric order, which is not JCS order.
 */
export function canonicalDetails(details: Details): string {
  const keys = Object.keys(details).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const value = details[key];
    parts.push(`${JSON.stringify(key)}:${value === undefined ? 'null' : JSON.stringify(value)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The exact bytes hashed for one event (see the format at the top of this file). */
export function eventHashInput(e: ChainedEventFields): Buffer {
  const s = JSON.stringify;
  const jcs =
    `{"action":${s(e.action)},"actor":${s(e.actor)},"category":${s(e.category)},"details":${s(e.details)},` +
    `"outcome":${s(e.outcome)},"prev_hash":${s(e.prev_hash)},"seq":${String(e.seq)},"source":${s(e.source)},` +
    `"target":${s(e.target)},"ts":${s(e.ts)}}`;
  return Buffer.from(EVENT_HASH_DOMAIN + jcs, 'utf8');
}

export function hashEvent(e: ChainedEventFields): string {
  return createHash('sha256').update(eventHashInput(e)).digest('hex');
}

export function checkpointMessage(seq: number, hash: string, ts: string): Buffer {
  return Buffer.from(`${CHECKPOINT_DOMAIN}${String(seq)}\n${hash}\n${ts}`, 'utf8');
}

export function exportSignatureMessage(count: number, sha256Hex: string): Buffer {
  return Buffer.from(`${EXPORT_DOMAIN}${String(count)}\n${sha256Hex}`, 'utf8');
}

/** Ed25519 verification; a malformed key or signature is a failed verification, not a throw. */
export function verifyEd25519(publicKeyPem: string, data: Uint8Array, signatureB64: string): boolean {
  try {
    const signature = Buffer.from(signatureB64, 'base64');
    if (signature.length !== 64) return false;
    return verify(null, data, publicKeyPem, signature);
  } catch {
    return false;
  }
}

/** Parses a stored details column; a column that is not a JSON object is shown, not hidden. */
export function parseStoredDetails(text: string): Details {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Details;
  } catch {
    // fall through: a tampered or corrupt column is returned as text for the reader to see
  }
  return { _unparsed: boundText(text) };
}
