// Verification of a backup set before anything is restored from it: the manifest's device
// signature, every catalog row's signature, and the SHA-256 of every segment object, streamed.
// Each problem names the object it is about, so an operator knows which file is damaged.
import { createHash, createPublicKey } from 'node:crypto';
import { isVigilError, VigilError } from '../core/errors.ts';
import { publicKeyId } from '../crypto/signer.ts';
import type { SegmentRow } from '../video/storage/catalog.ts';
import { rowSignatureValid } from '../video/storage/segment-seal.ts';
import {
  manifestObject,
  manifestSignatureValid,
  MAX_MANIFEST_BYTES,
  MAX_SIGNATURE_BYTES,
  parseManifest,
  parseSignature,
  readBounded,
  segmentObject,
  signatureObject,
  type BackupManifest,
  type ManifestSegment,
  type ManifestSignature,
} from './manifest.ts';
import type { BackupTarget } from './target.ts';

const BACKUP_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$/;
const MAX_PROBLEMS = 1000;

export interface BackupProblem {
  /** The object the problem is in (manifest, signature or a segment file). */
  object: string;
  message: string;
}

export interface BackupVerification {
  backupId: string;
  ok: boolean;
  /** Key id of the device key that signed the manifest (when it could be read). */
  signedBy: string | null;
  segments: number;
  filesChecked: number;
  problems: BackupProblem[];
}

/** A verified (or not) set with what restore needs; the manifest bytes are those that were checked. */
export interface InspectedBackup {
  verification: BackupVerification;
  manifest: BackupManifest | undefined;
  manifestBytes: Buffer | undefined;
  signature: ManifestSignature | undefined;
}

export function checkBackupId(id: string): void {
  if (!BACKUP_ID.test(id)) throw new VigilError('VIGIL_BACKUP_NAME_INVALID', 'a backup id looks like 20261123T080000Z-0123abcd');
}

/** NVR-5.2.9.1a: checks a backup set without any key: signature, row signatures, file hashes. */
export async function verifyBackup(target: BackupTarget, id: string, options: { trustedPublicKeyPem?: string } = {}): Promise<BackupVerification> {
  return (await inspectBackup(target, id, options)).verification;
}

export async function inspectBackup(target: BackupTarget, id: string, options: { trustedPublicKeyPem?: string } = {}): Promise<InspectedBackup> {
  checkBackupId(id);
  const problems: BackupProblem[] = [];
  const add = (object: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ object, message });
  };
  const verification: BackupVerification = { backupId: id, ok: false, signedBy: null, segments: 0, filesChecked: 0, problems };
  const mName = manifestObject(id);
  const sName = signatureObject(id);
  const manifestBytes = await readObject(target, mName, MAX_MANIFEST_BYTES, add);
  const sigBytes = await readObject(target, sName, MAX_SIGNATURE_BYTES, add);
  if (manifestBytes === undefined || sigBytes === undefined) return { verification, manifest: undefined, manifestBytes, signature: undefined };
  const manifest = parseOr(() => parseManifest(manifestBytes), mName, add);
  const signature = parseOr(() => parseSignature(sigBytes), sName, add);
  if (manifest === undefined || signature === undefined) return { verification, manifest, manifestBytes, signature };

  verification.signedBy = signature.signedBy;
  verification.segments = manifest.segments.length;
  const pem = manifest.device.publicKeyPem;
  if (manifest.id !== id) add(mName, `manifest is of backup ${manifest.id}, not ${id}`);
  if (keyIdOf(pem) !== manifest.device.keyId || signature.signedBy !== manifest.device.keyId) add(sName, 'signing key does not match the device key named in the manifest');
  else if (!manifestSignatureValid(manifestBytes, signature, pem)) add(sName, 'manifest signature is invalid (manifest or signature changed)');
  if (options.trustedPublicKeyPem !== undefined && keyIdOf(options.trustedPublicKeyPem) !== manifest.device.keyId) add(sName, 'manifest was signed by another device than the trusted one');

  const seen = new Set<string>();
  for (const entry of manifest.segments) {
    if (seen.has(entry.id)) add(mName, `segment ${entry.id} is listed twice`);
    seen.add(entry.id);
    if (!rowSignatureValid(rowOf(entry), pem)) add(mName, `catalog row of segment ${entry.id} (camera ${entry.cameraId} #${entry.seq}) has an invalid signature`);
    if ((entry.object === null) !== (entry.key === null) || (entry.state === 'complete') !== (entry.object !== null)) {
      add(mName, `segment ${entry.id}: file and key entries are inconsistent`);
      continue;
    }
    if (entry.object === null || entry.hash === null) continue;
    if (entry.object !== segmentObject(entry.cameraId, entry.id, entry.hash)) {
      add(mName, `segment ${entry.id} names an unexpected object`);
      continue;
    }
    verification.filesChecked++;
    const hash = await hashObject(target, entry.object);
    if (hash === undefined) add(entry.object, 'segment file is missing');
    else if (hash !== entry.hash) add(entry.object, 'segment file does not match its signed SHA-256 (changed bytes)');
  }
  verification.ok = problems.length === 0;
  return { verification, manifest, manifestBytes, signature };
}

/** The catalog row a manifest entry stands for (restore inserts exactly this, plus local fields). */
export function rowOf(entry: ManifestSegment): SegmentRow {
  return {
    id: entry.id,
    camera_id: entry.cameraId,
    seq: entry.seq,
    state: entry.state,
    started_at: entry.startedAt,
    ended_at: entry.endedAt,
    fragments: entry.fragments,
    bytes: entry.bytes,
    volumes: '[]',
    wrapped_dek: null,
    hash: entry.hash,
    prev_hash: entry.prevHash,
    signature: entry.signature,
    key_id: entry.signedBy,
  };
}

export function keyIdOf(pem: string): string | null {
  try {
    return publicKeyId(createPublicKey(pem));
  } catch {
    return null;
  }
}

async function readObject(target: BackupTarget, name: string, max: number, add: (o: string, m: string) => void): Promise<Buffer | undefined> {
  try {
    return await readBounded(target.get(name), max, name);
  } catch (err) {
    if (isVigilError(err, 'VIGIL_BACKUP_NOT_FOUND')) add(name, 'missing');
    else if (isVigilError(err, 'VIGIL_BACKUP_TOO_LARGE')) add(name, err.message);
    else throw err;
    return undefined;
  }
}

function parseOr<T>(parse: () => T, name: string, add: (o: string, m: string) => void): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (!isVigilError(err, 'VIGIL_BACKUP_INVALID')) throw err;
    add(name, err.message);
    return undefined;
  }
}

async function hashObject(target: BackupTarget, name: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of target.get(name)) hash.update(chunk);
  } catch (err) {
    if (isVigilError(err, 'VIGIL_BACKUP_NOT_FOUND')) return undefined;
    throw err;
  }
  return hash.digest('hex');
}
