// Signed evidence export (NVR-5.2.7.1a; NVR-5.2.8.1b): one camera's recordings over a time range
// as a bundle (evidence-format.ts) streamed to the caller — the plain video never touches the
// disk. Before the first byte, every segment of the range is verified (signature, chain link,
// every copy's hash): a tampered recording is refused, never exported as genuine. The route or
// command calling this authorizes and audits.
import { createCipheriv, createHash, pbkdf2, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Zip, ZipPassThrough } from 'fflate';
import { VigilError, isVigilError } from '../../core/errors.ts';
import type { DeviceSigner } from '../../crypto/signer.ts';
import { MAX_PLAYBACK_SECONDS, playbackClip } from '../playback.ts';
import type { SegmentRow } from '../storage/catalog.ts';
import type { VideoStore } from '../storage/video-store.ts';
import {
  CLIP_DIR,
  ENCRYPTED_CHUNK_BYTES,
  ENCRYPTED_FORMAT,
  ENCRYPTED_ITERATIONS,
  ENCRYPTED_PREFIX_BYTES,
  ENTRY_MANIFEST,
  ENTRY_PUBLIC_KEY,
  ENTRY_README,
  ENTRY_SIGNATURE,
  EVIDENCE_FORMAT,
  MAX_EXPORT_SECONDS,
  MIN_BUNDLE_PASSWORD_LENGTH,
  chunkNonce,
  encodeEncryptedHeader,
  readmeText,
  type EvidenceFile,
  type EvidenceManifest,
  type EvidenceSegment,
} from './evidence-format.ts';

const MAX_SEGMENTS = 1000;
const pbkdf2Async = promisify(pbkdf2);

export interface EvidenceRequest {
  camera: { id: string; name: string };
  from: number;
  to: number;
  /** Encrypts the bundle (AES-256-GCM under PBKDF2) when given. */
  password?: string;
  reason?: string;
  exportedBy: string;
}

export interface EvidenceDeps {
  video: VideoStore;
  signer: DeviceSigner;
  device: { name: string; product: string; version: string };
  now: () => number;
}

export interface EvidenceSummary {
  exportId: string;
  bytes: number;
  sha256: string;
  clips: number;
  segments: number;
  encrypted: boolean;
}

export interface PreparedEvidence {
  exportId: string;
  filename: string;
  /** Sum of the recorded segments' sizes: what a progress bar can aim at. */
  estimatedBytes: number;
  segments: number;
  /** The bundle's bytes; once it has ended, `summary()` describes what was sent. */
  stream(): AsyncGenerator<Uint8Array>;
  summary(): EvidenceSummary;
}

function validate(request: EvidenceRequest): void {
  if (!Number.isFinite(request.from) || !Number.isFinite(request.to) || !(request.to > request.from)) {
    throw new VigilError('VIGIL_VALIDATION', 'the time range is empty', { details: { field: 'to' } });
  }
  if (request.to - request.from > MAX_EXPORT_SECONDS * 1000) {
    throw new VigilError('VIGIL_VALIDATION', `one export covers at most ${MAX_EXPORT_SECONDS} s`, { details: { field: 'to' } });
  }
  if (request.password !== undefined && request.password.length < MIN_BUNDLE_PASSWORD_LENGTH) {
    throw new VigilError('VIGIL_VALIDATION', `a bundle password has at least ${MIN_BUNDLE_PASSWORD_LENGTH} characters`, { details: { field: 'password' } });
  }
}

function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function segmentEntry(row: SegmentRow): EvidenceSegment {
  return {
    id: row.id, seq: row.seq, startedAt: row.started_at, endedAt: row.ended_at ?? row.started_at, fragments: row.fragments, bytes: row.bytes,
    hash: row.hash ?? '', prevHash: row.prev_hash, signature: row.signature ?? '', keyId: row.key_id ?? '',
  };
}

export async function prepareEvidenceExport(deps: EvidenceDeps, request: EvidenceRequest): Promise<PreparedEvidence> {
  validate(request);
  const { video } = deps;
  // The chain of the range: every finished row (shredded ones keep their signed place in it).
  const rows = (await video.catalog.overlapping(request.camera.id, request.from, request.to, MAX_SEGMENTS))
    .filter((r) => r.hash !== null && r.signature !== null && r.ended_at !== null);
  if (!rows.some((r) => r.state === 'complete')) throw new VigilError('VIGIL_NOT_FOUND', 'no finished recording in the requested time range');
  for (const row of rows) {
    const check = await video.verifySegment(row.id);
    if (!check.ok) {
      throw new VigilError('VIGIL_VIDEO_SEGMENT_TAMPERED', `segment ${row.seq} of the range fails verification (${check.problems.map((p) => p.message).join('; ')}): not exported`);
    }
  }
  const exportId = randomUUID();
  const encrypted = request.password !== undefined;
  let summary: EvidenceSummary | undefined;

  async function* plainArchive(): AsyncGenerator<Uint8Array> {
    const out: Uint8Array[] = [];
    let zipError: Error | null = null;
    const zip = new Zip((err, chunk) => {
      if (err !== null) zipError = err;
      else out.push(chunk);
    });
    const drain = function* (): Generator<Uint8Array> {
      if (zipError !== null) throw zipError;
      while (out.length > 0) yield out.shift() as Uint8Array;
    };
    const add = function* (name: string, parts: Iterable<Uint8Array>): Generator<Uint8Array> {
      const entry = new ZipPassThrough(name);
      entry.mtime = deps.now();
      zip.add(entry);
      for (const part of parts) {
        entry.push(part);
        yield* drain();
      }
      entry.push(new Uint8Array(0), true);
      yield* drain();
    };
    const files: EvidenceFile[] = [];
    const addListed = function* (name: string, parts: Uint8Array[], extra: Partial<EvidenceFile> = {}): Generator<Uint8Array> {
      const hash = createHash('sha256');
      let bytes = 0;
      for (const p of parts) {
        hash.update(p);
        bytes += p.length;
      }
      files.push({ path: name, sha256: hash.digest('hex'), bytes, ...extra });
      yield* add(name, parts);
    };

    for (let t = request.from, n = 1; t < request.to; t += MAX_PLAYBACK_SECONDS * 1000) {
      let clip;
      try {
        clip = await playbackClip(video, request.camera.id, t, Math.min(request.to, t + MAX_PLAYBACK_SECONDS * 1000));
      } catch (err) {
        if (isVigilError(err, 'VIGIL_NOT_FOUND')) continue; // a gap in the recording
        throw err;
      }
      const name = `${CLIP_DIR}${String(n++).padStart(2, '0')}-${compactTime(clip.startedAt)}.mp4`;
      yield* addListed(name, clip.parts, { startedAt: new Date(clip.startedAt).toISOString(), endedAt: new Date(clip.endedAt).toISOString(), segments: clip.segments });
    }
    if (!files.some((f) => f.path.startsWith(CLIP_DIR))) throw new VigilError('VIGIL_NOT_FOUND', 'no playable recording in the requested time range');

    const manifest: EvidenceManifest = {
      format: EVIDENCE_FORMAT,
      exportId,
      exportedAt: new Date(deps.now()).toISOString(),
      exportedBy: request.exportedBy,
      reason: request.reason ?? null,
      device: { ...deps.device, signingKeyId: deps.signer.keyId },
      camera: request.camera,
      requested: { from: new Date(request.from).toISOString(), to: new Date(request.to).toISOString() },
      files,
      segments: rows.map(segmentEntry),
    };
    yield* addListed(ENTRY_README, [Buffer.from(readmeText(manifest), 'utf8')]);
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    yield* add(ENTRY_PUBLIC_KEY, [Buffer.from(deps.signer.publicKeyPem, 'utf8')]);
    yield* add(ENTRY_MANIFEST, [manifestBytes]);
    yield* add(ENTRY_SIGNATURE, [Buffer.from(`${deps.signer.sign(manifestBytes).toString('base64')}\n`, 'utf8')]);
    zip.end();
    yield* drain();
    summary = { exportId, bytes: 0, sha256: '', clips: files.filter((f) => f.path.startsWith(CLIP_DIR)).length, segments: rows.length, encrypted };
  }

  async function* stream(): AsyncGenerator<Uint8Array> {
    const hash = createHash('sha256');
    let bytes = 0;
    const source = request.password === undefined ? plainArchive() : encryptArchive(plainArchive(), request.password);
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    if (summary !== undefined) Object.assign(summary, { bytes, sha256: hash.digest('hex') });
  }

  return {
    exportId,
    filename: `vigil-evidence-${compactTime(request.from)}-${exportId.slice(0, 8)}.${encrypted ? 'vigilenc' : 'zip'}`,
    estimatedBytes: rows.reduce((sum, r) => sum + r.bytes, 0),
    segments: rows.length,
    stream,
    summary: () => {
      if (summary === undefined || summary.sha256 === '') throw new VigilError('VIGIL_INTERNAL', 'the export has not finished');
      return summary;
    },
  };
}

/** The archive sealed in chunks under a password-derived key (evidence-format.ts). */
async function* encryptArchive(source: AsyncIterable<Uint8Array>, password: string): AsyncGenerator<Uint8Array> {
  const salt = randomBytes(16);
  const prefix = randomBytes(ENCRYPTED_PREFIX_BYTES);
  const header = encodeEncryptedHeader({
    format: ENCRYPTED_FORMAT,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: ENCRYPTED_ITERATIONS, salt: salt.toString('base64') },
    cipher: 'AES-256-GCM',
    chunkBytes: ENCRYPTED_CHUNK_BYTES,
    noncePrefix: prefix.toString('base64'),
  });
  const key = await pbkdf2Async(password.normalize('NFC'), salt, ENCRYPTED_ITERATIONS, 32, 'sha256');
  let index = 0;
  const seal = (plain: Uint8Array, last: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(prefix, index++, last));
    cipher.setAAD(header);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  try {
    yield header;
    // One chunk is always held back: only at the end is it known to be the last.
    let pending = Buffer.alloc(0);
    for await (const chunk of source) {
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      while (pending.length > ENCRYPTED_CHUNK_BYTES) {
        yield seal(pending.subarray(0, ENCRYPTED_CHUNK_BYTES), false);
        pending = pending.subarray(ENCRYPTED_CHUNK_BYTES);
      }
    }
    yield seal(pending, true);
  } finally {
    key.fill(0);
  }
}
