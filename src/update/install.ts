// Installing a package into the inactive A/B slot (NVR-5.2.3.1a/d, ACS-5.5.1.2/3/7).
//
// apply: 1. signature, header, exact length (package-reader.ts);  2. product, anti-rollback and
// minimum-from checks;  3. payload SHA-256 streamed and compared with the signed header;
// 4. content key unwrapped with the device key;  5. lock the install root, re-check anti-rollback;
// 6. the inactive slot is emptied and the archive streamed through AES-256-GCM into it with a
// bounded buffer, every file hashed as it is written;  7. the GCM tag is checked, the payload hash
// re-checked (the file could change between passes), the files re-read and re-hashed from disk;
// 8. manifest.json and the signed header are written (the header last: "slot complete");
// 9. `current` is switched by rename; 10. the anti-rollback state is raised.
// Any failure before 9 removes the half-written slot; the active slot is never touched, so an
// interrupted update leaves the running system as it was (ACS-5.5.1.7).
import { createDecipheriv, createHash, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { ArchiveParser, DEFAULT_ARCHIVE_LIMITS, quotePath, type ArchiveEvent, type ArchiveLimits, type Manifest } from './archive.ts';
import { DEFAULT_PRODUCT } from './build.ts';
import { lockInstallRoot, otherSlot, readActiveSlot, readInstallState, removeSlot, slotDir, slotIsComplete, switchActiveSlot, syncDir, writeInstallState, SLOT_FILES_DIR, SLOT_MANIFEST, SLOT_PREFIX, SLOTS, type SlotName } from './install-root.ts';
import { unwrapContentKey } from './key-wrap.ts';
import { checkSlotFiles, readSlotIdentity, verifyInstalledSlot } from './launch-integrity.ts';
import { GCM_TAG_BYTES, payloadAad, type PackageHeader } from './package-format.ts';
import { checkPayloadHash, openSignedPackage, STREAM_CHUNK_BYTES, type OpenedPackage } from './package-reader.ts';
import { compareVersions, maxVersion, parseVersion } from './semver.ts';

export interface ApplyOptions {
  packageFile: string;
  vendorPublicKey: KeyObject;
  devicePrivateKey: KeyObject;
  installRoot: string;
  /** The version running now; defaults to the active slot's version. */
  currentVersion?: string;
  product?: string;
  limits?: ArchiveLimits;
}

export interface ApplyResult {
  version: string;
  slot: SlotName;
  previousSlot: SlotName | undefined;
  files: number;
}

interface SlotVersions {
  active: SlotName | undefined;
  headers: Partial<Record<SlotName, PackageHeader>>;
}

/** The signed headers of the complete slots whose signature checks out (others are ignored). */
async function slotVersions(root: string, vendorPublicKey: KeyObject, limits: ArchiveLimits): Promise<SlotVersions> {
  const headers: Partial<Record<SlotName, PackageHeader>> = {};
  for (const slot of SLOTS) {
    if (!(await slotIsComplete(root, slot))) continue;
    try {
      headers[slot] = (await readSlotIdentity(root, slot, vendorPublicKey, limits)).header;
    } catch (err) {
      // A slot that fails its signature is no evidence of any version; it is overwritten or refused later.
      if (!(err instanceof VigilError && err.code === 'VIGIL_UPDATE_SLOT_INTEGRITY')) throw err;
    }
  }
  return { active: await readActiveSlot(root), headers };
}

/** Anti-rollback (ACS-5.5.1.3) and minimum-from checks against everything the device knows. */
async function checkVersions(header: PackageHeader, o: ApplyOptions, limits: ArchiveLimits): Promise<SlotVersions> {
  const expectedProduct = o.product ?? DEFAULT_PRODUCT;
  if (header.product !== expectedProduct) throw new VigilError('VIGIL_UPDATE_WRONG_PRODUCT', `the package is for ${JSON.stringify(header.product)}, not ${JSON.stringify(expectedProduct)}`);
  if (o.currentVersion !== undefined) parseVersion(o.currentVersion, 'current-version');
  const slots = await slotVersions(o.installRoot, o.vendorPublicKey, limits);
  const state = await readInstallState(o.installRoot);
  const highest = maxVersion(o.currentVersion, state.highestVersion ?? undefined, slots.headers['slot-a']?.version, slots.headers['slot-b']?.version);
  if (highest !== undefined && compareVersions(header.version, highest) <= 0) {
    const what = compareVersions(header.version, highest) === 0 ? 'is already installed (replay)' : 'is older (downgrade)';
    throw new VigilError('VIGIL_UPDATE_NOT_NEWER', `package version ${header.version} ${what}: the highest installed version is ${highest} (ACS-5.5.1.3 anti-rollback)`, { details: { packageVersion: header.version, highestVersion: highest } });
  }
  const running = o.currentVersion ?? (slots.active === undefined ? undefined : slots.headers[slots.active]?.version);
  if (running === undefined) throw new VigilError('VIGIL_VALIDATION', 'the running version is unknown: pass --current-version for a first install');
  if (compareVersions(running, header.minimumFromVersion) < 0) {
    throw new VigilError('VIGIL_UPDATE_FROM_VERSION', `package ${header.version} installs over ${header.minimumFromVersion} or later; this device runs ${running}`);
  }
  return slots;
}

/** Writes the archive's files into `filesDir`; one open file at a time, no path outside it. */
class SlotWriter {
  readonly #filesDir: string;
  #file: FileHandle | undefined;
  #position = 0;
  #manifest: Manifest | undefined;
  #manifestBytes: Buffer | undefined;

  constructor(filesDir: string) {
    this.#filesDir = filesDir;
  }

  get manifest(): { manifest: Manifest; bytes: Buffer } | undefined {
    return this.#manifest === undefined || this.#manifestBytes === undefined ? undefined : { manifest: this.#manifest, bytes: this.#manifestBytes };
  }

  async handle(e: ArchiveEvent): Promise<void> {
    if (e.kind === 'manifest') {
      this.#manifest = e.manifest;
      this.#manifestBytes = e.bytes;
    } else if (e.kind === 'file-start') {
      const abs = path.resolve(this.#filesDir, e.file.path);
      // Defence in depth: checkArchivePath already refused anything that could escape.
      if (!abs.startsWith(this.#filesDir + path.sep)) throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `unsafe path ${quotePath(e.file.path)}`);
      await mkdir(path.dirname(abs), { recursive: true, mode: 0o755 });
      this.#file = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, e.file.mode);
      await this.#file.chmod(e.file.mode);
      this.#position = 0;
    } else if (e.kind === 'file-data') {
      const fh = this.#file;
      if (fh === undefined) throw new VigilError('VIGIL_INTERNAL', 'archive data outside a file');
      let done = 0;
      while (done < e.data.length) done += (await fh.write(e.data, done, e.data.length - done, this.#position + done)).bytesWritten;
      this.#position += e.data.length;
    } else {
      // The parser has already compared the streamed SHA-256 with the manifest.
      await this.close(true);
    }
  }

  async close(sync = false): Promise<void> {
    const fh = this.#file;
    this.#file = undefined;
    if (fh === undefined) return;
    try {
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** Pass 2: decrypt into the slot. Returns the manifest; throws on any mismatch. */
async function extract(pkg: OpenedPackage, contentKey: Buffer, filesDir: string, limits: ArchiveLimits): Promise<{ manifest: Manifest; bytes: Buffer }> {
  const { header, prefix, handle } = pkg;
  const tag = Buffer.alloc(GCM_TAG_BYTES);
  await handle.read(tag, 0, GCM_TAG_BYTES, prefix.payloadOffset + header.payload.length);
  const decipher = createDecipheriv('aes-256-gcm', contentKey, Buffer.from(header.payload.iv, 'base64'), { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(payloadAad(header.product, header.version));
  decipher.setAuthTag(tag);
  const parser = new ArchiveParser(header.manifestSha256, limits);
  const writer = new SlotWriter(filesDir);
  const hash = createHash('sha256');
  try {
    if (header.payload.length > 0) {
      const stream = handle.createReadStream({ start: prefix.payloadOffset, end: prefix.payloadOffset + header.payload.length - 1, highWaterMark: STREAM_CHUNK_BYTES, autoClose: false });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        for (const e of parser.push(decipher.update(chunk))) await writer.handle(e);
      }
    }
    hash.update(tag);
    try {
      decipher.final();
    } catch (err) {
      throw new VigilError('VIGIL_UPDATE_TAMPERED', 'update package: the GCM authentication tag does not verify', { cause: err, details: { failed: 'gcm-tag' } });
    }
    if (hash.digest('hex') !== header.payload.sha256) throw new VigilError('VIGIL_UPDATE_TAMPERED', 'update package: the payload changed while it was being installed', { details: { failed: 'payload-hash' } });
    const manifest = parser.finish();
    const m = writer.manifest;
    if (m === undefined) throw new VigilError('VIGIL_UPDATE_MALFORMED', 'the archive has no manifest');
    if (manifest.product !== header.product || manifest.version !== header.version) throw new VigilError('VIGIL_UPDATE_MALFORMED', 'the archive manifest names another product or version than the header');
    return m;
  } finally {
    await writer.close();
  }
}

/** `vigil update apply`. */
export async function applyPackage(o: ApplyOptions): Promise<ApplyResult> {
  const limits = o.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const root = path.resolve(o.installRoot);
  const opts = { ...o, installRoot: root };
  const pkg = await openSignedPackage(o.packageFile, o.vendorPublicKey);
  try {
    const { header } = pkg;
    await checkVersions(header, opts, limits);
    await checkPayloadHash(pkg);
    const contentKey = unwrapContentKey(header.recipients, o.devicePrivateKey);
    try {
      // Everything above only read. From here on the install root is written, under a lock.
      const unlock = await lockInstallRoot(root);
      try {
        const { active } = await checkVersions(header, opts, limits);
        const target = active === undefined ? 'slot-a' : otherSlot(active);
        const dir = slotDir(root, target);
        const filesDir = path.join(dir, SLOT_FILES_DIR);
        await removeSlot(root, target);
        let done = false;
        try {
          await mkdir(filesDir, { recursive: true, mode: 0o755 });
          const { manifest, bytes } = await extract(pkg, contentKey, filesDir, limits);
          // Re-read what landed on disk before trusting it.
          const problems = await checkSlotFiles(filesDir, manifest, limits);
          if (problems.length > 0) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', `installed files do not match the manifest: ${problems.slice(0, 5).map((p) => `${quotePath(p.path)} ${p.problem}`).join(', ')}`);
          await writeFile(path.join(dir, SLOT_MANIFEST), bytes, { mode: 0o644, flag: 'wx' });
          await writeFile(path.join(dir, SLOT_PREFIX), pkg.prefixBytes, { mode: 0o644, flag: 'wx' });
          await syncDir(dir);
          const check = await verifyInstalledSlot(root, o.vendorPublicKey, target, limits);
          if (!check.ok) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the new slot fails launch integrity');
          await switchActiveSlot(root, target);
          done = true;
          const state = await readInstallState(root);
          await writeInstallState(root, {
            format: 1,
            highestVersion: maxVersion(state.highestVersion ?? undefined, header.version) ?? header.version,
            securityFloor: maxVersion(state.securityFloor ?? undefined, header.securityFloor ?? undefined) ?? null,
          });
          return { version: header.version, slot: target, previousSlot: active, files: manifest.files.length };
        } finally {
          if (!done) await removeSlot(root, target);
        }
      } finally {
        await unlock();
      }
    } finally {
      contentKey.fill(0);
    }
  } finally {
    await pkg.close();
  }
}

export interface RollbackResult {
  from: SlotName;
  to: SlotName;
  fromVersion: string;
  toVersion: string;
}

/**
 * `vigil update rollback`: switch back to the other slot, after checking its signed header and
 * every file. Refused below the security floor: a package marked as a security fix records the
 * oldest version that may run again, and neither rollback nor a package goes below it.
 */
export async function rollbackInstall(installRoot: string, vendorPublicKey: KeyObject, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<RollbackResult> {
  const root = path.resolve(installRoot);
  const unlock = await lockInstallRoot(root);
  try {
    const active = await readActiveSlot(root);
    if (active === undefined) throw new VigilError('VIGIL_UPDATE_ROLLBACK_REFUSED', 'nothing is installed: there is no slot to roll back from');
    const target = otherSlot(active);
    if (!(await slotIsComplete(root, target))) throw new VigilError('VIGIL_UPDATE_ROLLBACK_REFUSED', `${target} holds no complete installation to roll back to`);
    const from = await readSlotIdentity(root, active, vendorPublicKey, limits).catch((err: unknown) => {
      // The active slot may be the broken one we are escaping; its floor then comes from state only.
      if (err instanceof VigilError && err.code === 'VIGIL_UPDATE_SLOT_INTEGRITY') return undefined;
      throw err;
    });
    const report = await verifyInstalledSlot(root, vendorPublicKey, target, limits);
    if (!report.ok) throw new VigilError('VIGIL_UPDATE_ROLLBACK_REFUSED', `${target} fails launch integrity: ${report.problems.slice(0, 5).map((p) => `${quotePath(p.path)} ${p.problem}`).join(', ')}`);
    const state = await readInstallState(root);
    const floor = maxVersion(state.securityFloor ?? undefined, from?.header.securityFloor ?? undefined);
    if (floor !== undefined && compareVersions(report.version, floor) < 0) {
      throw new VigilError('VIGIL_UPDATE_ROLLBACK_REFUSED', `rollback to ${report.version} refused: a security fix requires ${floor} or later`, { details: { toVersion: report.version, securityFloor: floor } });
    }
    await switchActiveSlot(root, target);
    return { from: active, to: target, fromVersion: from?.header.version ?? 'unknown', toVersion: report.version };
  } finally {
    await unlock();
  }
}

export interface InstallStatus {
  active: SlotName | undefined;
  slots: { slot: SlotName; version: string | undefined; complete: boolean }[];
  highestVersion: string | null;
  securityFloor: string | null;
}

export async function installStatus(installRoot: string, vendorPublicKey: KeyObject): Promise<InstallStatus> {
  const root = path.resolve(installRoot);
  const { active, headers } = await slotVersions(root, vendorPublicKey, DEFAULT_ARCHIVE_LIMITS);
  const state = await readInstallState(root);
  const slots = [];
  for (const slot of SLOTS) slots.push({ slot, version: headers[slot]?.version, complete: await slotIsComplete(root, slot) });
  return { active, slots, highestVersion: state.highestVersion, securityFloor: state.securityFloor };
}
