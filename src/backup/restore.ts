// Restore of a backup set (NVR-5.2.9.1a round trip; NVR-5.1.5.1c "restorable backups"). Order:
//   1. verify the whole set (signature, row signatures, every file's SHA-256) — any problem: refuse;
//   2. open the backup key (device keyring, or the recovery passphrase on a replacement device),
//      check the manifest MAC under it, open every segment key, check the catalog for conflicts —
//      any failure: refuse; nothing has been written up to here;
//   3. copy each segment back to the online volumes (hash re-checked while copying), then insert
//      its catalog row with the segment key re-wrapped under this device's keyring.
// Rows already in the catalog are skipped. A set signed by another device is accepted only when
// its MAC checks out under the key the passphrase opened; its rows are then re-signed with this
// device's key (the audit event names the original signer), so VideoStore verification holds.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { DeviceSigner } from '../crypto/signer.ts';
import type { SegmentRow } from '../video/storage/catalog.ts';
import { signRow } from '../video/storage/segment-seal.ts';
import { SEGMENT_KEY_PURPOSE, type VideoStore } from '../video/storage/video-store.ts';
import { segmentPath, type VolumeStatus } from '../video/storage/volumes.ts';
import { backupSubkeys, manifestMacValid, openSegmentKey, unwrapBackupKey } from './backup-keys.ts';
import type { ManifestSegment } from './manifest.ts';
import type { BackupTarget } from './target.ts';
import { inspectBackup, rowOf } from './verify.ts';

export interface RestoreDeps {
  video: VideoStore;
  keyring: Keyring;
  signer: DeviceSigner;
  /** Copies of each restored segment (config video.mirrorCopies). */
  mirrorCopies: number;
}

export interface RestoreOptions {
  /** Opens the backup key on a device whose keyring did not make the backup. */
  recoveryPassphrase?: string | undefined;
}

export interface RestoreResult {
  backupId: string;
  restored: number;
  /** Rows restored without video (shredded/tampered rows kept for the chain). */
  rowsOnly: number;
  alreadyPresent: number;
  /** Key id of the device that signed the backup; differs from this device's after a hardware loss. */
  signedBy: string;
  resigned: boolean;
}

export async function restoreBackup(deps: RestoreDeps, target: BackupTarget, id: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const inspected = await inspectBackup(target, id);
  const { verification, manifest, manifestBytes, signature } = inspected;
  if (!verification.ok || manifest === undefined || manifestBytes === undefined || signature === undefined) {
    throw new VigilError('VIGIL_BACKUP_INVALID', `backup ${id} failed verification; nothing was restored: ${verification.problems.slice(0, 5).map((p) => `${p.object}: ${p.message}`).join('; ')}`, {
      details: { problems: verification.problems.slice(0, 50) },
    });
  }
  const key = await unwrapBackupKey(manifest.keys, id, { keyring: deps.keyring, passphrase: options.recoveryPassphrase });
  const { segmentWrap, manifestMac } = backupSubkeys(key, id);
  key.fill(0);
  try {
    if (!manifestMacValid(manifestMac, manifestBytes, signature.mac)) {
      throw new VigilError('VIGIL_BACKUP_INVALID', `backup ${id}: the manifest does not match its backup key; nothing was restored`);
    }
    const resign = manifest.device.keyId !== deps.signer.keyId;
    const plan = await planRestore(deps, manifest.segments, segmentWrap);
    const targets = deps.video.volumes.online().slice(0, Math.max(1, deps.mirrorCopies));
    if (plan.todo.length > 0 && targets.length === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'no recording volume is online to restore to');
    const result: RestoreResult = { backupId: id, restored: 0, rowsOnly: 0, alreadyPresent: plan.present, signedBy: manifest.device.keyId, resigned: resign };
    for (const entry of plan.todo) {
      let row: SegmentRow = { ...rowOf(entry), state: entry.state };
      if (entry.object !== null && entry.key !== null && entry.hash !== null) {
        const volumeIds = await copyIn(target, entry.object, entry.hash, targets, entry.cameraId, entry.id);
        const dek = openSegmentKey(segmentWrap, entry.id, entry.key);
        try {
          row = { ...row, volumes: JSON.stringify(volumeIds), wrapped_dek: await deps.keyring.seal(SEGMENT_KEY_PURPOSE, dek, entry.id) };
        } finally {
          dek.fill(0);
        }
        result.restored++;
      } else {
        result.rowsOnly++;
      }
      if (resign) row = { ...row, ...signRow(row, deps.signer) };
      await deps.video.catalog.insert(row);
    }
    return result;
  } finally {
    segmentWrap.fill(0);
    manifestMac.fill(0);
  }
}

/** Everything that can refuse the restore, checked before the first byte is written. */
async function planRestore(deps: RestoreDeps, entries: readonly ManifestSegment[], segmentWrap: Buffer): Promise<{ todo: ManifestSegment[]; present: number }> {
  const todo: ManifestSegment[] = [];
  let present = 0;
  const conflicts: string[] = [];
  for (const entry of entries) {
    if ((await deps.video.catalog.get(entry.id)) !== undefined) {
      present++;
      continue;
    }
    const atSeq = (await deps.video.catalog.chain(entry.cameraId, entry.seq - 1, 1))[0];
    if (atSeq !== undefined && atSeq.seq === entry.seq) conflicts.push(`${entry.cameraId} #${entry.seq}`);
    if (entry.key !== null) {
      try {
        openSegmentKey(segmentWrap, entry.id, entry.key).fill(0);
      } catch (err) {
        throw new VigilError('VIGIL_BACKUP_INVALID', `the key of segment ${entry.id} does not open; nothing was restored`, { cause: err });
      }
    }
    todo.push(entry);
  }
  if (conflicts.length > 0) {
    throw new VigilError('VIGIL_BACKUP_CONFLICT', `the catalog already holds other segments at ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''}; nothing was restored`);
  }
  todo.sort((a, b) => (a.cameraId === b.cameraId ? a.seq - b.seq : a.cameraId < b.cameraId ? -1 : 1));
  return { todo, present };
}

/** Streams the object to the first volume (hash re-checked: it may have changed since verify), then copies it to the others. */
async function copyIn(target: BackupTarget, object: string, hash: string, volumes: readonly VolumeStatus[], cameraId: string, segmentId: string): Promise<string[]> {
  const [first, ...rest] = volumes;
  if (first === undefined) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'no recording volume is online to restore to');
  const dest = segmentPath(first, cameraId, segmentId);
  await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
  const temp = `${dest}.restore-${randomBytes(6).toString('hex')}`;
  const sha = createHash('sha256');
  const handle = await open(temp, 'wx', 0o600);
  let done = false;
  try {
    for await (const chunk of target.get(object)) {
      sha.update(chunk);
      await handle.write(chunk);
    }
    await handle.datasync();
    await handle.close();
    if (sha.digest('hex') !== hash) throw new VigilError('VIGIL_BACKUP_INVALID', `${object} changed after it was verified; restore stopped`);
    await rename(temp, dest);
    done = true;
  } finally {
    await handle.close().catch(() => undefined);
    if (!done) await unlink(temp).catch(() => undefined);
  }
  for (const v of rest) {
    const to = segmentPath(v, cameraId, segmentId);
    await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    await copyFile(dest, to);
  }
  return volumes.map((v) => v.id);
}
