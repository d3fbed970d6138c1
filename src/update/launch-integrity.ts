// Launch integrity (NVR-5.2.3.1d, ACS-5.5.1.2): before an installed slot is trusted — at start-up,
// before a rollback, right after an install — every file is re-hashed against the manifest kept
// with the slot. The manifest is trusted because its SHA-256 is in the vendor-signed header kept
// beside it (package-prefix.bin), whose signature is checked again here with the vendor key the
// device ships with; so editing a file, the manifest or the header is each detected.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { DEFAULT_ARCHIVE_LIMITS, parseManifest, type ArchiveLimits, type Manifest } from './archive.ts';
import { readActiveSlot, readSmallFile, slotDir, SLOT_FILES_DIR, SLOT_MANIFEST, SLOT_PREFIX, type SlotName } from './install-root.ts';
import { MAX_PREFIX_BYTES, splitPackagePrefix, type PackageHeader } from './package-format.ts';
import { STREAM_CHUNK_BYTES, verifyPrefix } from './package-reader.ts';

export type SlotProblemKind = 'modified' | 'missing' | 'unexpected' | 'not-a-regular-file' | 'mode-changed';

export interface SlotProblem {
  path: string;
  problem: SlotProblemKind;
}

export interface SlotReport {
  slot: SlotName;
  version: string;
  ok: boolean;
  files: number;
  problems: SlotProblem[];
}

const MAX_PROBLEMS = 1000;

function integrity(message: string, cause?: unknown): VigilError {
  return new VigilError('VIGIL_UPDATE_SLOT_INTEGRITY', message, cause === undefined ? undefined : { cause });
}

/** The signed header and manifest of a complete slot; throws if either fails its check. */
export async function readSlotIdentity(root: string, slot: SlotName, vendorPublicKey: KeyObject, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<{ header: PackageHeader; manifest: Manifest }> {
  const dir = slotDir(root, slot);
  const prefixBytes = await readSmallFile(path.join(dir, SLOT_PREFIX), MAX_PREFIX_BYTES);
  if (prefixBytes === undefined) throw integrity(`${slot} is not a complete installation (no signed header)`);
  let header: PackageHeader;
  try {
    const prefix = splitPackagePrefix(prefixBytes);
    if (prefix === undefined || prefix.payloadOffset !== prefixBytes.length) throw integrity(`${slot}: the stored package header is truncated`);
    header = verifyPrefix(prefix, vendorPublicKey);
  } catch (err) {
    if (err instanceof VigilError && err.code === 'VIGIL_UPDATE_SLOT_INTEGRITY') throw err;
    throw integrity(`${slot}: the stored package header fails its vendor signature`, err);
  }
  const manifestBytes = await readSmallFile(path.join(dir, SLOT_MANIFEST), limits.maxManifestBytes);
  if (manifestBytes === undefined) throw integrity(`${slot}: manifest.json is missing`);
  if (createHash('sha256').update(manifestBytes).digest('hex') !== header.manifestSha256) throw integrity(`${slot}: manifest.json does not match the signed header`);
  const manifest = parseManifest(manifestBytes, limits);
  if (manifest.product !== header.product || manifest.version !== header.version) throw integrity(`${slot}: manifest and header disagree`);
  return { header, manifest };
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: STREAM_CHUNK_BYTES }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** Compares the files under `filesDir` with the manifest: changed, missing and extra files. */
export async function checkSlotFiles(filesDir: string, manifest: Manifest, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<SlotProblem[]> {
  const problems: SlotProblem[] = [];
  const add = (p: SlotProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const expected = new Set<string>();
  for (const f of manifest.files) {
    expected.add(f.path);
    const abs = path.join(filesDir, f.path);
    let st;
    try {
      st = await lstat(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        add({ path: f.path, problem: 'missing' });
        continue;
      }
      throw err;
    }
    if (!st.isFile()) {
      add({ path: f.path, problem: 'not-a-regular-file' });
      continue;
    }
    if (st.size !== f.size || (await hashFile(abs)) !== f.sha256) add({ path: f.path, problem: 'modified' });
    else if ((st.mode & 0o7777) !== f.mode) add({ path: f.path, problem: 'mode-changed' });
  }
  // Anything else in the tree was not shipped: report it (bounded walk).
  const stack: string[] = [''];
  let visited = 0;
  const maxVisits = limits.maxFiles * 2 + 1000;
  while (stack.length > 0) {
    const rel = stack.pop() ?? '';
    let entries;
    try {
      entries = await readdir(path.join(filesDir, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') break;
      throw err;
    }
    for (const e of entries) {
      if (++visited > maxVisits) {
        add({ path: rel, problem: 'unexpected' });
        return problems;
      }
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) stack.push(childRel);
      else if (!expected.has(childRel)) add({ path: childRel, problem: 'unexpected' });
    }
  }
  return problems;
}

/**
 * Re-hashes every file of an installed slot (the active one by default) against its signed
 * manifest. Throws VIGIL_UPDATE_SLOT_INTEGRITY if the slot's header or manifest is not authentic;
 * returns a report naming each changed, missing or unexpected file otherwise.
 */
export async function verifyInstalledSlot(root: string, vendorPublicKey: KeyObject, slot?: SlotName, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<SlotReport> {
  const target = slot ?? (await readActiveSlot(root));
  if (target === undefined) throw integrity('nothing is installed in this install root (no current slot)');
  const { header, manifest } = await readSlotIdentity(root, target, vendorPublicKey, limits);
  const problems = await checkSlotFiles(path.join(slotDir(root, target), SLOT_FILES_DIR), manifest, limits);
  return { slot: target, version: header.version, ok: problems.length === 0, files: manifest.files.length, problems };
}
