// A backup target on a directory: a second internal disk (NVR-5.1.5.1a) or a removable medium's
// mount point (NVR-5.1.5.1b). Objects are files written aside (.tmp-*) with 0600, fsynced and
// renamed into place, so a pulled USB stick or a power cut never leaves a half object under its
// real name. With `mustExist` (the default) the root is never created: an unmounted medium's
// empty mount point would otherwise silently fill the system disk.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { checkObjectName, type BackupObjectInfo, type BackupTarget, type PutOptions } from './target.ts';

const TEMP_PREFIX = '.tmp-';
/** Bounds one directory level a list() walks (a directory target is ours; more means foreign files). */
const MAX_DIR_ENTRIES = 200_000;

export interface DirectoryTargetOptions {
  root: string;
  /** Refuse a root that does not exist yet (default true: removable media not mounted). */
  mustExist?: boolean;
}

export class DirectoryTarget implements BackupTarget {
  readonly description: string;
  readonly #root: string;

  private constructor(root: string) {
    this.#root = root;
    this.description = `dir:${root}`;
  }

  static async open(options: DirectoryTargetOptions): Promise<DirectoryTarget> {
    const root = path.resolve(options.root);
    if (options.mustExist === false) await mkdir(root, { recursive: true, mode: 0o700 });
    const info = await stat(root).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) {
      throw new VigilError('VIGIL_BACKUP_TARGET_UNAVAILABLE', `backup directory ${root} does not exist (medium not mounted?)`);
    }
    return new DirectoryTarget(root);
  }

  async put(name: string, data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions = {}): Promise<{ size: number; sha256: string }> {
    const file = this.#path(name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = path.join(path.dirname(file), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(temp, 'wx', 0o600);
    let published = false;
    try {
      for await (const chunk of data) {
        hash.update(chunk);
        size += chunk.byteLength;
        await handle.write(chunk);
      }
      await handle.datasync();
      await handle.close();
      const sha256 = hash.digest('hex');
      if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
        throw new VigilError('VIGIL_BACKUP_INVALID', `object ${name} did not have the expected SHA-256; not stored`);
      }
      await rename(temp, file);
      published = true;
      await syncDirectory(path.dirname(file));
      return { size, sha256 };
    } finally {
      await handle.close().catch(() => undefined);
      if (!published) await unlink(temp).catch(() => undefined);
    }
  }

  async *get(name: string): AsyncGenerator<Buffer> {
    const file = this.#path(name);
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VigilError('VIGIL_BACKUP_NOT_FOUND', `no object ${name} in ${this.description}`);
      throw err;
    } finally {
      stream.destroy();
    }
  }

  async stat(name: string): Promise<BackupObjectInfo | undefined> {
    const info = await stat(this.#path(name)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    return info?.isFile() === true ? { size: info.size } : undefined;
  }

  async list(prefix: string, options: { after?: string; limit: number }): Promise<string[]> {
    checkObjectName(prefix, 'prefix');
    const out: string[] = [];
    await this.#walk(prefix, options.after ?? '', options.limit, out);
    return out;
  }

  async delete(name: string): Promise<void> {
    await unlink(this.#path(name)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  }

  /** Depth-first in byte order, so names come out sorted like an object store lists them. */
  async #walk(prefix: string, after: string, limit: number, out: string[]): Promise<void> {
    const dir = path.join(this.#root, ...prefix.split('/').filter((p) => p !== ''));
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    if (entries.length > MAX_DIR_ENTRIES) throw new VigilError('VIGIL_BACKUP_TOO_LARGE', `${prefix} holds more than ${MAX_DIR_ENTRIES} entries`);
    const names = entries.filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory())).map((e) => ({ name: e.name, dir: e.isDirectory() }));
    names.sort((a, b) => compareBytes(a.dir ? `${a.name}/` : a.name, b.dir ? `${b.name}/` : b.name));
    for (const e of names) {
      if (out.length >= limit) return;
      const full = `${prefix}${e.name}`;
      if (e.dir) {
        // Skip a whole subtree that sorts before `after` and does not contain it.
        if (compareBytes(`${full}/`, after) <= 0 && !after.startsWith(`${full}/`)) continue;
        await this.#walk(`${full}/`, after, limit, out);
      } else if (compareBytes(full, after) > 0) {
        out.push(full);
      }
    }
  }

  #path(name: string): string {
    checkObjectName(name);
    return path.join(this.#root, ...name.split('/'));
  }
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
