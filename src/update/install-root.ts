// The install root on a device (ACS-5.5.1.7: an interrupted update leaves a working system):
//
//   install-root/
//     current            "slot-a\n" or "slot-b\n": the active slot; replaced only by rename
//     state.json         { format, highestVersion, securityFloor }: anti-rollback memory
//     .update.lock       pid of the process installing (exclusive create)
//     slot-a/ slot-b/    files/…  manifest.json  package-prefix.bin (signed header + signature)
//
// A slot is complete only when package-prefix.bin exists: it is written last, after every file
// was extracted, hashed and synced. The `current` pointer moves only to a complete, verified slot.
// Anti-rollback does not trust state.json alone: the highest version is the maximum of the state
// file, the running version, and the vendor-signed headers of both slots, so deleting or editing
// the state file cannot re-open a downgrade while a newer signed slot is present.
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { isVersion } from './semver.ts';

export const SLOTS = ['slot-a', 'slot-b'] as const;
export type SlotName = (typeof SLOTS)[number];
export const SLOT_FILES_DIR = 'files';
export const SLOT_MANIFEST = 'manifest.json';
export const SLOT_PREFIX = 'package-prefix.bin';
const CURRENT = 'current';
const STATE = 'state.json';
const LOCK = '.update.lock';
const MAX_STATE_BYTES = 4096;

export interface InstallState {
  format: 1;
  highestVersion: string | null;
  securityFloor: string | null;
}

export function otherSlot(slot: SlotName): SlotName {
  return slot === 'slot-a' ? 'slot-b' : 'slot-a';
}

export function slotDir(root: string, slot: SlotName): string {
  return path.join(root, slot);
}

async function readSmall(file: string, max: number): Promise<Buffer | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', `cannot read ${path.basename(file)} in the install root`, { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', `${path.basename(file)} in the install root is not a small regular file`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export { readSmall as readSmallFile };

export async function readActiveSlot(root: string): Promise<SlotName | undefined> {
  const bytes = await readSmall(path.join(root, CURRENT), 16);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('utf8').trim();
  if (text !== 'slot-a' && text !== 'slot-b') throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the install root current pointer is corrupt');
  return text;
}

export async function readInstallState(root: string): Promise<InstallState> {
  const bytes = await readSmall(path.join(root, STATE), MAX_STATE_BYTES);
  if (bytes === undefined) return { format: 1, highestVersion: null, securityFloor: null };
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Fail closed: an unreadable anti-rollback record must not be read as "nothing installed".
    throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the install state file is corrupt');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const version = (x: unknown): string | null => {
    if (x === null) return null;
    if (typeof x === 'string' && isVersion(x)) return x;
    throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the install state file is corrupt');
  };
  if (o['format'] !== 1) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the install state file is corrupt');
  return { format: 1, highestVersion: version(o['highestVersion']), securityFloor: version(o['securityFloor']) };
}

/** Write to a temp file, fsync, rename over `file`, fsync the directory: all or nothing. */
export async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, file);
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeInstallState(root: string, state: InstallState): Promise<void> {
  await writeAtomic(path.join(root, STATE), `${JSON.stringify(state)}\n`);
}

export async function switchActiveSlot(root: string, slot: SlotName): Promise<void> {
  await writeAtomic(path.join(root, CURRENT), `${slot}\n`);
}

export async function removeSlot(root: string, slot: SlotName): Promise<void> {
  await rm(slotDir(root, slot), { recursive: true, force: true });
}

/** An exclusive lock on the install root; a lock left by a dead process is taken over. */
export async function lockInstallRoot(root: string): Promise<() => Promise<void>> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  const file = path.join(root, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readSmall(file, 32))?.toString('utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw new VigilError('VIGIL_UPDATE_IN_PROGRESS', `another update is running in this install root (pid ${owner})`);
      await rm(file, { force: true });
    }
  }
  throw new VigilError('VIGIL_UPDATE_IN_PROGRESS', 'could not lock the install root');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function slotIsComplete(root: string, slot: SlotName): Promise<boolean> {
  try {
    return (await stat(path.join(slotDir(root, slot), SLOT_PREFIX))).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
