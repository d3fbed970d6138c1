// Where backup sets are kept: a flat store of named objects, streamed in and out. A directory
// (second internal disk, NVR-5.1.5.1a; removable media, NVR-5.1.5.1b) implements it now; S3 and
// SFTP (off-site, NVR-5.2.9.3a) implement the same contract later — the backup service only ever
// sees this interface, and it only ever hands a target bytes that are already encrypted.
import { VigilError } from '../core/errors.ts';

export interface BackupObjectInfo {
  size: number;
}

export interface PutOptions {
  /**
   * SHA-256 (hex) the streamed bytes must have. On a mismatch nothing is stored under `name`
   * (the object is written aside and only published when it checks out) and put() rejects.
   */
  expectedSha256?: string;
}

export interface BackupTarget {
  /** Operator-facing description for audit and alarms (a path or bucket; never credentials). */
  readonly description: string;
  /** Stores (or replaces) `name`, published atomically: a reader sees the old or the new object. */
  put(name: string, data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: PutOptions): Promise<{ size: number; sha256: string }>;
  /** The object's bytes; rejects VIGIL_BACKUP_NOT_FOUND when there is none. */
  get(name: string): AsyncIterable<Buffer>;
  stat(name: string): Promise<BackupObjectInfo | undefined>;
  /** Names under `prefix` (which ends in '/') in byte order, after `after`, at most `limit` (S3 ListObjectsV2 start-after semantics). */
  list(prefix: string, options: { after?: string; limit: number }): Promise<string[]>;
  /** Removes `name`; no error when it is absent. */
  delete(name: string): Promise<void>;
}

export const MAX_OBJECT_NAME = 512;
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Object names are '/'-separated parts of [A-Za-z0-9._-], none starting with '.', so a name can
 * never climb out of a directory target or address a hidden/temporary file.
 */
export function checkObjectName(name: string, kind: 'object' | 'prefix' = 'object'): void {
  const body = kind === 'prefix' ? name.replace(/\/$/, '') : name;
  const ok = name.length > 0 && name.length <= MAX_OBJECT_NAME && (kind === 'object' || name.endsWith('/')) && body.split('/').every((part) => NAME_PART.test(part));
  if (!ok) throw new VigilError('VIGIL_BACKUP_NAME_INVALID', `invalid backup ${kind} name`, { details: { name: name.slice(0, 80) } });
}
