// Vendor side: build a signed, encrypted package from a directory (NVR-5.2.3.1b/d, CAM-T-sys-4/7).
// Pass 1 walks the tree (regular files only: a symlink, device or socket is refused), hashes each
// file and runs the secret lint; pass 2 streams the archive through AES-256-GCM straight into
// the package at its final offset (all lengths are known in advance, and the only value learnt
// at the end, the payload hash, has a fixed width), then writes the signed header in front.
import { createCipheriv, createHash, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';
import { publicKeyId } from '../crypto/signer.ts';
import { DEFAULT_ARCHIVE_LIMITS, checkArchivePath, quotePath, serializeArchivePreamble, serializeEntryHeader, serializeManifest, validateManifest, type ArchiveLimits, type Manifest, type ManifestFile } from './archive.ts';
import { wrapContentKey } from './key-wrap.ts';
import { GCM_IV_BYTES, GCM_TAG_BYTES, payloadAad, serializeHeader, serializePackagePrefix, serializeSignedPrefix, SIGNATURE_BYTES, MAX_RECIPIENTS, type PackageHeader } from './package-format.ts';
import { SecretScanner, type SecretFinding } from './secret-lint.ts';
import { compareVersions, parseVersion } from './semver.ts';
import { STREAM_CHUNK_BYTES } from './package-reader.ts';

export const DEFAULT_PRODUCT = 'vigil';

export interface PackageMetadata {
  product: string;
  version: string;
  minimumFromVersion: string;
  securityFloor: string | null;
  createdAt: Date;
}

export interface BuildOptions {
  sourceDir: string;
  version: string;
  minimumFromVersion?: string;
  securityFloor?: string;
  product?: string;
  signingKey: KeyObject;
  deviceKeys: readonly KeyObject[];
  outFile: string;
  now?: Date;
  limits?: ArchiveLimits;
}

export interface BuildResult {
  header: PackageHeader;
  files: number;
  bytes: number;
}

interface SourceFile {
  rel: string;
  abs: string;
}

async function walk(root: string, limits: ArchiveLimits): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop() ?? '';
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      checkArchivePath(childRel, limits);
      if (e.isDirectory()) stack.push(childRel);
      else if (e.isFile()) {
        out.push({ rel: childRel, abs: path.join(root, childRel) });
        if (out.length > limits.maxFiles) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `more than ${limits.maxFiles} files under ${root}`);
      } else {
        // No symlinks, devices, sockets or FIFOs in a package: a link could point anywhere at install.
        throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `${quotePath(childRel)} is not a regular file or directory (symbolic links are not allowed)`);
      }
    }
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.rel, 'utf8'), Buffer.from(b.rel, 'utf8')));
}

/** Pass 1: hash, size, mode, secret lint. */
async function describeFiles(sources: SourceFile[], limits: ArchiveLimits): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const findings: SecretFinding[] = [];
  for (const s of sources) {
    const st = await lstat(s.abs);
    if (!st.isFile()) throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `${quotePath(s.rel)} is not a regular file`);
    if (st.size > limits.maxFileBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `${quotePath(s.rel)} is larger than ${limits.maxFileBytes} bytes`);
    const hash = createHash('sha256');
    const scanner = new SecretScanner(s.rel);
    let size = 0;
    for await (const chunk of createReadStream(s.abs, { highWaterMark: STREAM_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      scanner.update(chunk);
      size += chunk.length;
    }
    if (scanner.finding !== undefined && findings.length < 20) findings.push(scanner.finding);
    files.push({ path: s.rel, mode: (st.mode & 0o111) !== 0 ? 0o755 : 0o644, size, sha256: hash.digest('hex') });
  }
  if (findings.length > 0) {
    // NVR-5.2.3.1b / CAM-T-sys-7: name the file and rule, never the matched text.
    const list = findings.map((f) => `${quotePath(f.path)} (${f.rule} at byte ${f.offset})`).join(', ');
    throw new VigilError('VIGIL_UPDATE_SECRET_IN_INPUT', `refusing to package credentials or private keys: ${list}`, { details: { findings: findings.map((f) => ({ path: f.path, rule: f.rule, offset: f.offset })) } });
  }
  return files;
}

/** Length of the archive for a manifest: preamble + manifest + every entry header and body. */
export function archiveLength(manifestBytes: Uint8Array, manifest: Manifest): number {
  let n = 10 + manifestBytes.length;
  for (const f of manifest.files) n += 12 + Buffer.byteLength(f.path, 'utf8') + f.size;
  return n;
}

/** Pass 2 source: the archive bytes, re-hashing each file to catch a change since pass 1. */
async function* archiveChunks(root: string, manifestBytes: Buffer, manifest: Manifest): AsyncGenerator<Buffer> {
  yield serializeArchivePreamble(manifestBytes);
  for (const f of manifest.files) {
    yield serializeEntryHeader(f);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path.join(root, f.path), { highWaterMark: STREAM_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > f.size) break;
      hash.update(chunk);
      yield chunk;
    }
    if (size !== f.size || hash.digest('hex') !== f.sha256) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', `${quotePath(f.path)} changed while the package was being built`);
  }
}

export interface SealOptions {
  metadata: PackageMetadata;
  manifestSha256: string;
  /** Exact number of bytes `archive` yields. */
  archiveLength: number;
  archive: AsyncIterable<Buffer>;
  signingKey: KeyObject;
  deviceKeys: readonly KeyObject[];
  outFile: string;
}

/** Encrypts an archive stream, wraps the key for each device, signs, writes `outFile` atomically. */
export async function sealArchive(o: SealOptions): Promise<PackageHeader> {
  if (o.signingKey.asymmetricKeyType !== 'ed25519' || o.signingKey.type !== 'private') throw new VigilError('VIGIL_UPDATE_KEY_INVALID', 'the vendor signing key must be an Ed25519 private key');
  if (o.deviceKeys.length === 0 || o.deviceKeys.length > MAX_RECIPIENTS) throw new VigilError('VIGIL_UPDATE_KEY_INVALID', `a package is encrypted for 1..${MAX_RECIPIENTS} device keys`);
  const contentKey = randomBytes(32);
  const iv = randomBytes(GCM_IV_BYTES);
  const { metadata: m } = o;
  try {
    const header: PackageHeader = {
      format: 1,
      product: m.product,
      version: m.version,
      minimumFromVersion: m.minimumFromVersion,
      securityFloor: m.securityFloor,
      createdAt: m.createdAt.toISOString(),
      vendorKeyId: publicKeyId(createPublicKey(o.signingKey)),
      manifestSha256: o.manifestSha256,
      payload: { cipher: 'AES-256-GCM', iv: iv.toString('base64'), length: o.archiveLength, sha256: '0'.repeat(64) },
      recipients: o.deviceKeys.map((k) => wrapContentKey(contentKey, k)),
    };
    // The header's size does not depend on the hash (fixed-width hex), so the payload offset is known now.
    const payloadOffset = serializeSignedPrefix(serializeHeader(header)).length + 2 + SIGNATURE_BYTES;
    const temp = `${o.outFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(temp, 'wx', 0o644);
    let closed = false;
    let renamed = false;
    try {
      const cipher = createCipheriv('aes-256-gcm', contentKey, iv, { authTagLength: GCM_TAG_BYTES });
      cipher.setAAD(payloadAad(m.product, m.version));
      const hash = createHash('sha256');
      let position = payloadOffset;
      let plainBytes = 0;
      const write = async (bytes: Buffer): Promise<void> => {
        hash.update(bytes);
        let done = 0;
        while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
        position += bytes.length;
      };
      for await (const chunk of o.archive) {
        plainBytes += chunk.length;
        if (plainBytes > o.archiveLength) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the archive is longer than announced');
        await write(cipher.update(chunk));
      }
      if (plainBytes !== o.archiveLength) throw new VigilError('VIGIL_UPDATE_INSTALL_FAILED', 'the archive is shorter than announced');
      await write(cipher.final());
      await write(cipher.getAuthTag());
      header.payload.sha256 = hash.digest('hex');
      const signed = serializeSignedPrefix(serializeHeader(header));
      const prefix = serializePackagePrefix(signed, sign(null, signed, o.signingKey));
      if (prefix.length !== payloadOffset) throw new VigilError('VIGIL_INTERNAL', 'package header size changed while sealing');
      await fh.write(prefix, 0, prefix.length, 0);
      await fh.sync();
      closed = true;
      await fh.close();
      await rename(temp, o.outFile);
      renamed = true;
      return header;
    } finally {
      if (!closed) await fh.close();
      if (!renamed) await rm(temp, { force: true });
    }
  } finally {
    contentKey.fill(0);
  }
}

/** `vigil update build`: directory → package file. */
export async function buildPackage(o: BuildOptions): Promise<BuildResult> {
  const limits = o.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const product = o.product ?? DEFAULT_PRODUCT;
  parseVersion(o.version, 'version');
  const minimumFromVersion = o.minimumFromVersion ?? '0.0.0';
  parseVersion(minimumFromVersion, 'minimum-from');
  if (compareVersions(minimumFromVersion, o.version) >= 0) throw new VigilError('VIGIL_VALIDATION', 'minimum-from must be older than the package version');
  const securityFloor = o.securityFloor ?? null;
  if (securityFloor !== null && compareVersions(parseVersionText(securityFloor), o.version) > 0) throw new VigilError('VIGIL_VALIDATION', 'security-floor cannot be newer than the package version');
  const sources = await walk(o.sourceDir, limits);
  const manifest = validateManifest({ format: 1, product, version: o.version, files: await describeFiles(sources, limits) }, limits);
  const manifestBytes = serializeManifest(manifest);
  if (manifestBytes.length > limits.maxManifestBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `manifest is larger than ${limits.maxManifestBytes} bytes`);
  const header = await sealArchive({
    metadata: { product, version: o.version, minimumFromVersion, securityFloor, createdAt: o.now ?? new Date() },
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
    archiveLength: archiveLength(manifestBytes, manifest),
    archive: archiveChunks(o.sourceDir, manifestBytes, manifest),
    signingKey: o.signingKey,
    deviceKeys: o.deviceKeys,
    outFile: o.outFile,
  });
  return { header, files: manifest.files.length, bytes: manifest.files.reduce((n, f) => n + f.size, 0) };
}

function parseVersionText(v: string): string {
  parseVersion(v, 'security-floor');
  return v;
}
