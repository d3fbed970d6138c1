// Offline verification of an evidence bundle (NVR-5.2.8.1b, NVR-5.2.7.1a): one implementation for
// `vigil verify` and the web UI's "Verify evidence" page, on WebCrypto only (no Node API), so a
// bundle is checked where it is opened and never uploaded. Every problem names the file at fault:
// - the manifest's Ed25519 signature, by the embedded key, and that key against a pinned one;
// - every file's SHA-256 and size against the signed manifest; files added or missing;
// - every recorded segment's recording-time signature and its link to the previous segment
//   (a removed, edited or reordered segment breaks the chain);
// - encrypted bundles: a wrong password, or any changed, dropped or reordered chunk.
import { unzipSync } from 'fflate';
import { Value } from '@sinclair/typebox/value';
import { segmentSignedText } from '../storage/segment-signed-text.ts';
import {
  CLIP_DIR,
  ENCRYPTED_FORMAT,
  ENCRYPTED_MAGIC,
  ENCRYPTED_PREFIX_BYTES,
  ENCRYPTED_TAG_BYTES,
  ENTRY_MANIFEST,
  ENTRY_PUBLIC_KEY,
  ENTRY_SIGNATURE,
  EvidenceManifestSchema,
  MAX_BUNDLE_BYTES,
  MAX_ENCRYPTED_HEADER_BYTES,
  chunkNonce,
  fromBase64,
  pemBody,
  startsWithMagic,
  toHex,
  type EncryptedHeader,
  type EvidenceManifest,
} from './evidence-format.ts';

/** '(bundle)' for a problem of the whole file. */
export interface EvidenceProblem {
  file: string;
  message: string;
}

export interface EvidenceVerification {
  ok: boolean;
  encrypted: boolean;
  /** Encrypted and no password given: nothing else was checked. */
  needsPassword: boolean;
  manifest: EvidenceManifest | null;
  /** SHA-256 of the embedded signing key's SPKI. */
  keyId: string | null;
  /** Whether the embedded key is the one the caller trusts; 'not-given' when no key was pinned. */
  pinned: 'match' | 'mismatch' | 'not-given';
  checkedFiles: number;
  checkedSegments: number;
  problems: EvidenceProblem[];
  /** The archive's entries (decrypted), for a caller that wants to play a verified clip. */
  entries: Record<string, Uint8Array>;
}

export interface VerifyEvidenceOptions {
  password?: string;
  /** The device's public key (PEM) as obtained from its administrator: pins the signer. */
  trustedPublicKeyPem?: string;
}

const BUNDLE = '(bundle)';
type Subtle = typeof globalThis.crypto.subtle;
type Key = Awaited<ReturnType<Subtle['importKey']>>;
const subtle = (): Subtle => globalThis.crypto.subtle;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

function fail(result: EvidenceVerification, file: string, message: string): EvidenceVerification {
  result.problems.push({ file, message });
  result.ok = false;
  return result;
}

export async function verifyEvidence(input: Uint8Array, options: VerifyEvidenceOptions = {}): Promise<EvidenceVerification> {
  const result: EvidenceVerification = {
    ok: false, encrypted: false, needsPassword: false, manifest: null, keyId: null, pinned: 'not-given', checkedFiles: 0, checkedSegments: 0, problems: [], entries: {},
  };
  if (input.length > MAX_BUNDLE_BYTES) return fail(result, BUNDLE, `larger than ${MAX_BUNDLE_BYTES} bytes: not an evidence bundle`);
  let archive = input;
  if (startsWithMagic(input)) {
    result.encrypted = true;
    if (options.password === undefined || options.password === '') {
      result.needsPassword = true;
      return fail(result, BUNDLE, 'the bundle is encrypted: a password is needed');
    }
    const opened = await decrypt(input, options.password);
    if (typeof opened === 'string') return fail(result, BUNDLE, opened);
    archive = opened;
  }

  const entries = unzipStored(archive);
  if (typeof entries === 'string') return fail(result, BUNDLE, entries);
  result.entries = entries;

  const manifestBytes = entries[ENTRY_MANIFEST];
  const signatureText = entries[ENTRY_SIGNATURE];
  const keyPem = entries[ENTRY_PUBLIC_KEY];
  if (manifestBytes === undefined) return fail(result, ENTRY_MANIFEST, 'missing: not an evidence bundle');
  if (signatureText === undefined) return fail(result, ENTRY_SIGNATURE, 'missing: the manifest is unsigned');
  if (keyPem === undefined) return fail(result, ENTRY_PUBLIC_KEY, 'missing: no signing key to check against');

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch {
    return fail(result, ENTRY_MANIFEST, 'is not valid JSON');
  }
  if (!Value.Check(EvidenceManifestSchema, parsed)) {
    const first = Value.Errors(EvidenceManifestSchema, parsed).First();
    return fail(result, ENTRY_MANIFEST, `does not follow the evidence format (${first?.path ?? ''}: ${first?.message ?? 'invalid'})`);
  }
  const manifest = parsed;
  result.manifest = manifest;

  // The signing key: embedded, named by the manifest, and (when given) the one the caller trusts.
  const keyText = new TextDecoder().decode(keyPem);
  const der = pemBody(keyText, 'PUBLIC KEY');
  if (der === undefined) return fail(result, ENTRY_PUBLIC_KEY, 'is not a PEM public key');
  result.keyId = await sha256Hex(der);
  if (result.keyId !== manifest.device.signingKeyId) fail(result, ENTRY_PUBLIC_KEY, 'is not the key the manifest names (key replaced)');
  if (options.trustedPublicKeyPem !== undefined) {
    const trusted = pemBody(options.trustedPublicKeyPem, 'PUBLIC KEY');
    result.pinned = trusted !== undefined && (await sha256Hex(trusted)) === result.keyId ? 'match' : 'mismatch';
    if (result.pinned === 'mismatch') fail(result, ENTRY_PUBLIC_KEY, 'is not the trusted device key: this bundle was not signed by that device');
  }
  let key: Key;
  try {
    key = await subtle().importKey('spki', der as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return fail(result, ENTRY_PUBLIC_KEY, 'is not an Ed25519 public key (or this browser cannot verify Ed25519)');
  }
  const verify = async (signatureB64: string, text: Uint8Array): Promise<boolean> => {
    const signature = fromBase64(signatureB64.trim());
    if (signature === undefined) return false;
    return subtle().verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, text as Uint8Array<ArrayBuffer>);
  };
  if (!(await verify(new TextDecoder().decode(signatureText), manifestBytes))) {
    fail(result, ENTRY_SIGNATURE, 'the manifest signature does not verify: manifest.json was changed after export');
  }

  // Every file against the signed manifest, and nothing extra.
  const listed = new Set<string>();
  for (const file of manifest.files) {
    listed.add(file.path);
    const bytes = entries[file.path];
    result.checkedFiles++;
    if (bytes === undefined) {
      fail(result, file.path, 'listed in the manifest but missing from the bundle (removed)');
      continue;
    }
    if (bytes.length !== file.bytes || (await sha256Hex(bytes)) !== file.sha256) {
      fail(result, file.path, 'SHA-256 does not match the signed manifest (file changed)');
    }
  }
  for (const name of Object.keys(entries)) {
    if (name === ENTRY_MANIFEST || name === ENTRY_SIGNATURE || name === ENTRY_PUBLIC_KEY || listed.has(name)) continue;
    fail(result, name, 'not listed in the signed manifest (added after export)');
  }

  // The recording chain: each segment signed when it was recorded, each linked to the one before.
  const ids = new Set<string>();
  let previous: EvidenceManifest['segments'][number] | undefined;
  for (const segment of manifest.segments) {
    result.checkedSegments++;
    ids.add(segment.id);
    const name = `segment ${segment.seq} (${segment.id})`;
    if (segment.keyId !== manifest.device.signingKeyId) {
      fail(result, name, 'was signed by another device key');
    } else {
      const text = segmentSignedText({
        id: segment.id, camera_id: manifest.camera.id, seq: segment.seq, started_at: segment.startedAt, ended_at: segment.endedAt,
        fragments: segment.fragments, bytes: segment.bytes, hash: segment.hash, prev_hash: segment.prevHash,
      });
      if (!(await verify(segment.signature, new TextEncoder().encode(text)))) fail(result, name, 'recording signature does not verify (catalog row edited)');
    }
    if (previous !== undefined) {
      if (segment.seq !== previous.seq + 1) fail(result, name, `segment ${previous.seq + 1} of the chain is missing`);
      else if (segment.prevHash !== previous.hash) fail(result, name, 'chain link does not match the previous segment');
    }
    previous = segment;
  }
  for (const file of manifest.files) {
    if (!file.path.startsWith(CLIP_DIR)) continue;
    for (const id of file.segments ?? []) if (!ids.has(id)) fail(result, file.path, `cut from segment ${id}, which the manifest does not list`);
  }
  if (manifest.files.every((f) => !f.path.startsWith(CLIP_DIR))) fail(result, BUNDLE, 'holds no video clip');
  result.ok = result.problems.length === 0;
  return result;
}

/** A stored-only ZIP's entries, or why it cannot be read. Duplicate names are refused. */
function unzipStored(archive: Uint8Array): Record<string, Uint8Array> | string {
  const seen = new Set<string>();
  let problem: string | undefined;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(archive, {
      filter: (file) => {
        if (seen.has(file.name)) problem ??= `${file.name} appears twice in the archive`;
        seen.add(file.name);
        if (file.compression !== 0) problem ??= `${file.name} is compressed: evidence bundles store files as they are`;
        if (file.name.startsWith('/') || file.name.split('/').includes('..')) problem ??= `${file.name} is not a safe path`;
        return problem === undefined;
      },
    });
  } catch (err) {
    return `not a readable evidence bundle (${err instanceof Error ? err.message : 'invalid ZIP'})`;
  }
  return problem ?? entries;
}

async function decrypt(input: Uint8Array, password: string): Promise<Uint8Array | string> {
  const headerStart = ENCRYPTED_MAGIC.length + 4;
  if (input.length < headerStart) return 'the encrypted bundle is truncated';
  const headerLength = new DataView(input.buffer, input.byteOffset, input.byteLength).getUint32(ENCRYPTED_MAGIC.length);
  if (headerLength > MAX_ENCRYPTED_HEADER_BYTES || input.length < headerStart + headerLength) return 'the encrypted bundle has a malformed header';
  const aad = input.subarray(0, headerStart + headerLength);
  let header: EncryptedHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(aad.subarray(headerStart))) as EncryptedHeader;
  } catch {
    return 'the encrypted bundle has a malformed header';
  }
  const salt = fromBase64(header.kdf?.salt ?? '');
  const prefix = fromBase64(header.noncePrefix ?? '');
  const iterations = header.kdf?.iterations;
  if (header.format !== ENCRYPTED_FORMAT || header.cipher !== 'AES-256-GCM' || header.kdf.name !== 'PBKDF2' || header.kdf.hash !== 'SHA-256'
    || salt === undefined || salt.length < 16 || prefix === undefined || prefix.length !== ENCRYPTED_PREFIX_BYTES
    || !Number.isInteger(iterations) || iterations < 100_000 || iterations > 10_000_000
    || !Number.isInteger(header.chunkBytes) || header.chunkBytes < 1024 || header.chunkBytes > 64 * 1024 * 1024) {
    return 'the encrypted bundle uses parameters this verifier does not accept';
  }
  const material = await subtle().importKey('raw', new TextEncoder().encode(password.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  const key = await subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations },
    material, { name: 'AES-GCM', length: 256 }, false, ['decrypt'],
  );
  const body = input.subarray(aad.length);
  const sealedChunk = header.chunkBytes + ENCRYPTED_TAG_BYTES;
  const chunks = Math.max(1, Math.ceil(body.length / sealedChunk));
  const out = new Uint8Array(Math.max(0, body.length - chunks * ENCRYPTED_TAG_BYTES));
  let written = 0;
  const open = (sealed: Uint8Array, i: number, last: boolean): Promise<ArrayBuffer> => subtle().decrypt(
    { name: 'AES-GCM', iv: chunkNonce(prefix, i, last) as Uint8Array<ArrayBuffer>, additionalData: aad as Uint8Array<ArrayBuffer>, tagLength: 128 },
    key, sealed as Uint8Array<ArrayBuffer>,
  );
  for (let i = 0; i < chunks; i++) {
    const sealed = body.subarray(i * sealedChunk, Math.min(body.length, (i + 1) * sealedChunk));
    const last = i === chunks - 1;
    try {
      const plain = new Uint8Array(await open(sealed, i, last));
      out.set(plain, written);
      written += plain.length;
    } catch {
      // A chunk that opens as a middle one where the last should be: chunks were cut off the end.
      if (last && (await open(sealed, i, false).then(() => true, () => false))) return 'the encrypted bundle is truncated (its end is missing)';
      return i === 0 ? 'wrong password, or the encrypted bundle was changed' : `the encrypted bundle was changed (chunk ${i} fails authentication)`;
    }
  }
  return out.subarray(0, written);
}
