// The evidence bundle format (NVR-5.2.7.1a export, NVR-5.2.8.1b integrity), shared by the writer
// (evidence-export.ts, Node) and the offline verifier (evidence-verify.ts, Node and browser): so
// this module uses no Node API.
//
// A bundle is a ZIP archive (stored, no compression: video does not compress) holding
//   clips/NN-<start>.mp4          the video, plain fragmented MP4 any player opens;
//   README.txt                    how to verify;
//   device-signing-key.pem        the device's Ed25519 public key (SPKI);
//   manifest.json                 camera, range, exporting user and time, every other file's
//                                 SHA-256, and the catalog rows of the recorded segments the clips
//                                 come from (their hashes, chain links and recording-time signatures);
//   manifest.sig                  Base64 Ed25519 signature of manifest.json's bytes.
// Optionally the whole archive is encrypted with a password (ENCRYPTED_* below): PBKDF2-HMAC-SHA256
// derives an AES-256-GCM key; the archive is sealed in chunks (the STREAM construction: nonce =
// prefix ‖ chunk index ‖ last-chunk flag, so a reordered, dropped or truncated chunk fails).

import { Type, type Static } from '@sinclair/typebox';

export const EVIDENCE_FORMAT = 'vigil.evidence.v1';
export const ENTRY_MANIFEST = 'manifest.json';
export const ENTRY_SIGNATURE = 'manifest.sig';
export const ENTRY_PUBLIC_KEY = 'device-signing-key.pem';
export const ENTRY_README = 'README.txt';
export const CLIP_DIR = 'clips/';

/** One export covers at most an hour of one camera: bounded time, memory and archive size. */
export const MAX_EXPORT_SECONDS = 3600;
/** The verifier refuses larger inputs rather than exhaust memory (ZIP without ZIP64 ends at 4 GiB). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024 * 1024 - 1;

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const IsoTime = Type.String({ minLength: 20, maxLength: 40 });

export const EvidenceFileSchema = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 200 }),
  sha256: Sha256Hex,
  bytes: Type.Integer({ minimum: 0 }),
  /** Clips: the recorded time they cover and the segments they were cut from. */
  startedAt: Type.Optional(IsoTime),
  endedAt: Type.Optional(IsoTime),
  segments: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
});
export type EvidenceFile = Static<typeof EvidenceFileSchema>;

/** A recorded segment's catalog row as signed when it was recorded (segment-signed-text.ts). */
export const EvidenceSegmentSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Type.Integer({ minimum: 0 }),
  startedAt: Type.Integer({ minimum: 0 }),
  endedAt: Type.Integer({ minimum: 0 }),
  fragments: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  hash: Sha256Hex,
  prevHash: Sha256Hex,
  signature: Type.String({ minLength: 1, maxLength: 200 }),
  keyId: Sha256Hex,
});
export type EvidenceSegment = Static<typeof EvidenceSegmentSchema>;

export const EvidenceManifestSchema = Type.Object({
  format: Type.Literal(EVIDENCE_FORMAT),
  exportId: Type.String({ minLength: 1, maxLength: 64 }),
  exportedAt: IsoTime,
  exportedBy: Type.String({ maxLength: 200 }),
  reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
  device: Type.Object({ name: Type.String({ maxLength: 200 }), product: Type.String({ maxLength: 200 }), version: Type.String({ maxLength: 64 }), signingKeyId: Sha256Hex }),
  camera: Type.Object({ id: Type.String({ maxLength: 64 }), name: Type.String({ maxLength: 200 }) }),
  requested: Type.Object({ from: IsoTime, to: IsoTime }),
  files: Type.Array(EvidenceFileSchema, { maxItems: 1000 }),
  segments: Type.Array(EvidenceSegmentSchema, { maxItems: 10_000 }),
});
export type EvidenceManifest = Static<typeof EvidenceManifestSchema>;

// --- password encryption -------------------------------------------------------------------
export const ENCRYPTED_MAGIC = 'VIGILENC';
export const ENCRYPTED_FORMAT = 'vigil.evidence-encrypted.v1';
/** OWASP 2023 figure for PBKDF2-HMAC-SHA256 (also the password-hash figure of design.md §4). */
export const ENCRYPTED_ITERATIONS = 600_000;
export const ENCRYPTED_CHUNK_BYTES = 1024 * 1024;
export const ENCRYPTED_TAG_BYTES = 16;
export const ENCRYPTED_PREFIX_BYTES = 7;
export const MAX_ENCRYPTED_HEADER_BYTES = 4096;
/** A bundle password: long enough that an offline guess is out of reach at this PBKDF2 cost. */
export const MIN_BUNDLE_PASSWORD_LENGTH = 12;

export interface EncryptedHeader {
  format: typeof ENCRYPTED_FORMAT;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: 'AES-256-GCM';
  chunkBytes: number;
  noncePrefix: string;
}

/** magic ‖ uint32 BE header length ‖ header JSON: the bytes every chunk authenticates as AAD. */
export function encodeEncryptedHeader(header: EncryptedHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(ENCRYPTED_MAGIC.length + 4 + json.length);
  out.set(new TextEncoder().encode(ENCRYPTED_MAGIC), 0);
  new DataView(out.buffer).setUint32(ENCRYPTED_MAGIC.length, json.length);
  out.set(json, ENCRYPTED_MAGIC.length + 4);
  return out;
}

export function chunkNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(prefix.subarray(0, ENCRYPTED_PREFIX_BYTES), 0);
  new DataView(nonce.buffer).setUint32(ENCRYPTED_PREFIX_BYTES, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function startsWithMagic(bytes: Uint8Array): boolean {
  if (bytes.length < ENCRYPTED_MAGIC.length) return false;
  for (let i = 0; i < ENCRYPTED_MAGIC.length; i++) if (bytes[i] !== ENCRYPTED_MAGIC.charCodeAt(i)) return false;
  return true;
}

// --- encodings without Node's Buffer ---------------------------------------------------------
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Strict Base64 decode; undefined for anything that is not Base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The DER of a single-block PEM of the given label, or undefined. */
export function pemBody(pem: string, label: string): Uint8Array | undefined {
  const match = new RegExp(`^-----BEGIN ${label}-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+)-----END ${label}-----\\s*$`).exec(pem.trim() + '\n');
  return match?.[1] === undefined ? undefined : fromBase64(match[1].replace(/\s+/g, ''));
}

export function readmeText(manifest: Pick<EvidenceManifest, 'exportId' | 'camera' | 'requested' | 'device'>): string {
  return [
    'Vigil evidence bundle',
    '',
    `Export ${manifest.exportId} of camera "${manifest.camera.name}" (${manifest.camera.id})`,
    `from ${manifest.requested.from} to ${manifest.requested.to}, device "${manifest.device.name}".`,
    '',
    'The clips in clips/ play in any MP4 player. To check that nothing was changed, added or',
    'removed since the export, and that the video comes from the device\'s signed recording chain:',
    '',
    '  vigil verify <this bundle> --public-key <the device\'s signing key, from its administrator>',
    '',
    'or open the "Verify evidence" page of any Vigil web UI and choose this file: it is checked in',
    'the browser, nothing is uploaded.',
    `The device signing key id (SHA-256 of its public key) is ${manifest.device.signingKeyId}.`,
    '',
  ].join('\n');
}
