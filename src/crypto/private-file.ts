// Files that hold key material or its protection (KEK, token PIN, sealed keys): created 0600 in
// 0700 directories, refused when group or others can read them. An unsafe mode is reported, not
// silently fixed: it means someone else may already have read the secret (NVR-5.2.4.1a).
import { closeSync, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, writeSync, constants } from 'node:fs';
import path from 'node:path';
import { VigilError, type ErrorCode } from '../core/errors.ts';

/** Hard bound on what we read from a secret file: they are all small. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/**
 * Reads a regular file that must not be readable, writable or executable by group or others.
 * The mode is checked on the open descriptor (fstat), so the check and the read are about the
 * same file even if the path is swapped meanwhile. Symbolic links are followed (mounted secrets
 * are often links); the mode checked is the target's.
 */
export function readPrivateFile(file: string, code: ErrorCode, unavailable: ErrorCode = 'VIGIL_KEYRING_UNAVAILABLE'): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (err) {
    throw new VigilError(unavailable, `cannot open ${file}`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new VigilError(unavailable, `${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new VigilError(code, `${file} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); it must be 0600`);
    }
    if (stat.size > MAX_SECRET_FILE_BYTES) throw new VigilError(unavailable, `${file} is too large for a key file`);
    const data = Buffer.alloc(stat.size);
    let done = 0;
    while (done < data.length) {
      const n = readSync(fd, data, done, data.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === data.length ? data : data.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Creates `file` with `data`, mode 0600, failing if it exists (first-run races lose cleanly). */
export function createPrivateFileExclusive(file: string, data: Uint8Array): void {
  ensurePrivateDir(path.dirname(file));
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` atomically (write to a temp file, fsync, rename) with the given mode. */
export function writeFileAtomic(file: string, data: Uint8Array, mode: number): void {
  ensurePrivateDir(path.dirname(file));
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}
