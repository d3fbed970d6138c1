// The update archive: the plaintext that is encrypted into a package. Own format on purpose —
// small, bounded, and with nothing tar has that we do not want (links, devices, owners, sparse
// files, pax headers). Pure parse/serialize; the file I/O lives in extract.ts and build.ts.
//
//   archive := magic "VGAR" (4) | format u16 BE = 1 | manifestLength u32 BE (M) | manifest (M)
//              | entry × manifest.files.length          (nothing may follow the last entry)
//   entry   := pathLength u16 BE (L) | path (L, UTF-8) | mode u16 BE | size u64 BE (N) | bytes (N)
//
//   +------+-----+-------+----------------+-----+------+-----+------+------+----------+---
//   | VGAR | 0 1 | M (4) | manifest JSON  | L(2)| path |mode2| N (8)      | N bytes  | next entry…
//   +------+-----+-------+----------------+-----+------+-----+------+------+----------+---
//
// The manifest (JSON: product, version, files[{path, mode, size, sha256}]) comes first so the
// extractor knows every path, size and hash before it writes a byte; its SHA-256 is in the signed
// package header, and it is kept with the installed slot for launch integrity. Each entry must
// repeat the manifest's path, mode and size in order: a mismatch is a malformed archive.
//
// Paths: relative POSIX, segments of [A-Za-z0-9._+@-] (no "." or "..", no leading "/", no "\",
// no empty segment), so a path can never leave the slot directory. Modes: 0644 or 0755 only.
import { createHash } from 'node:crypto';
import { VigilError } from '../core/errors.ts';
import { isVersion } from './semver.ts';

export const ARCHIVE_MAGIC = Buffer.from('VGAR', 'ascii');
export const ARCHIVE_FORMAT = 1;
const ARCHIVE_PREAMBLE_BYTES = 4 + 2 + 4;
const ENTRY_FIXED_BYTES = 2 + 2 + 8;

export interface ArchiveLimits {
  maxFiles: number;
  maxPathBytes: number;
  maxDepth: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  maxManifestBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxFiles: 10_000,
  maxPathBytes: 1024,
  maxDepth: 32,
  maxFileBytes: 4 * 1024 ** 3,
  maxTotalBytes: 8 * 1024 ** 3,
  maxManifestBytes: 4 * 1024 * 1024,
};

export const FILE_MODES = [0o644, 0o755] as const;

export interface ManifestFile {
  path: string;
  mode: number;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: 1;
  product: string;
  version: string;
  files: ManifestFile[];
}

const SEGMENT_RE = /^[A-Za-z0-9._+@-]{1,255}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

function malformed(message: string, details?: Record<string, unknown>): VigilError {
  return new VigilError('VIGIL_UPDATE_MALFORMED', message, details === undefined ? undefined : { details });
}

/** A path safe to show in a message: quoted, control characters escaped, cut at 200 characters. */
export function quotePath(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
}

/** Refuses any path that could leave the slot directory or is not in normal form. */
export function checkArchivePath(p: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): void {
  const refuse = (why: string): never => {
    throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `unsafe path ${quotePath(p)} in the archive: ${why}`, { details: { path: p.slice(0, 200) } });
  };
  if (Buffer.byteLength(p, 'utf8') > limits.maxPathBytes) refuse(`longer than ${limits.maxPathBytes} bytes`);
  if (p.length === 0) refuse('empty');
  if (p.startsWith('/')) refuse('absolute');
  if (p.includes('\\')) refuse('backslash');
  const segments = p.split('/');
  if (segments.length > limits.maxDepth) refuse(`deeper than ${limits.maxDepth}`);
  for (const s of segments) {
    if (s === '..') refuse('parent directory reference');
    if (s === '.' || s === '') refuse('not normalised');
    if (!SEGMENT_RE.test(s)) refuse('characters outside [A-Za-z0-9._+@-]');
  }
}

function checkMode(mode: number, p: string): void {
  if (!(FILE_MODES as readonly number[]).includes(mode)) throw malformed(`file ${quotePath(p)} has mode ${mode.toString(8)}; only 644 and 755 are allowed`);
}

/** Validates a manifest's shape, bounds, paths, order and uniqueness. */
export function validateManifest(value: unknown, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Manifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('manifest is not an object');
  const m = value as Record<string, unknown>;
  const keys = Object.keys(m).sort().join(',');
  if (keys !== 'files,format,product,version') throw malformed('manifest has unexpected fields');
  if (m['format'] !== 1) throw malformed('manifest format is not 1');
  if (typeof m['product'] !== 'string' || !/^[a-z0-9-]{1,32}$/.test(m['product'])) throw malformed('manifest product is invalid');
  if (typeof m['version'] !== 'string' || !isVersion(m['version'])) throw malformed('manifest version is invalid');
  const files = m['files'];
  if (!Array.isArray(files)) throw malformed('manifest files is not a list');
  if (files.length > limits.maxFiles) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `more than ${limits.maxFiles} files`);
  const out: ManifestFile[] = [];
  const dirs = new Set<string>();
  let total = 0;
  let previous = '';
  for (const f of files as unknown[]) {
    if (typeof f !== 'object' || f === null) throw malformed('manifest file entry is not an object');
    const e = f as Record<string, unknown>;
    if (Object.keys(e).sort().join(',') !== 'mode,path,sha256,size') throw malformed('manifest file entry has unexpected fields');
    const { path: p, mode, size, sha256 } = e;
    if (typeof p !== 'string') throw malformed('manifest path is not a string');
    checkArchivePath(p, limits);
    if (typeof mode !== 'number' || !Number.isInteger(mode)) throw malformed(`file ${quotePath(p)}: mode is not an integer`);
    checkMode(mode, p);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(`file ${quotePath(p)}: size is invalid`);
    if (size > limits.maxFileBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `file ${quotePath(p)} is larger than ${limits.maxFileBytes} bytes`);
    total += size;
    if (total > limits.maxTotalBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `the files add up to more than ${limits.maxTotalBytes} bytes`);
    if (typeof sha256 !== 'string' || !HEX64_RE.test(sha256)) throw malformed(`file ${quotePath(p)}: sha256 is invalid`);
    // Sorted by byte order and unique: one canonical manifest per file set, duplicates impossible.
    if (Buffer.compare(Buffer.from(previous, 'utf8'), Buffer.from(p, 'utf8')) >= 0 && out.length > 0) throw malformed(`file ${quotePath(p)} is out of order or repeated`);
    previous = p;
    const segments = p.split('/');
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
    out.push({ path: p, mode, size, sha256 });
  }
  // A file may not also be a directory of another file ("a" and "a/b").
  for (const f of out) if (dirs.has(f.path)) throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `${quotePath(f.path)} is both a file and a directory`);
  return { format: 1, product: m['product'], version: m['version'], files: out };
}

export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify({ format: manifest.format, product: manifest.product, version: manifest.version, files: manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 })) }), 'utf8');
}

export function parseManifest(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Manifest {
  if (bytes.length > limits.maxManifestBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `manifest is larger than ${limits.maxManifestBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw malformed('manifest is not JSON');
  }
  return validateManifest(value, limits);
}

export function serializeArchivePreamble(manifestBytes: Uint8Array): Buffer {
  const head = Buffer.alloc(ARCHIVE_PREAMBLE_BYTES);
  ARCHIVE_MAGIC.copy(head, 0);
  head.writeUInt16BE(ARCHIVE_FORMAT, 4);
  head.writeUInt32BE(manifestBytes.length, 6);
  return Buffer.concat([head, manifestBytes]);
}

export interface EntryHeader {
  path: string;
  mode: number;
  size: number;
}

/** Entry header bytes. No validation: the builder validates the manifest; tests forge bad ones. */
export function serializeEntryHeader(entry: EntryHeader): Buffer {
  const pathBytes = Buffer.from(entry.path, 'utf8');
  const out = Buffer.alloc(2 + pathBytes.length + 2 + 8);
  out.writeUInt16BE(pathBytes.length, 0);
  pathBytes.copy(out, 2);
  out.writeUInt16BE(entry.mode, 2 + pathBytes.length);
  out.writeBigUInt64BE(BigInt(entry.size), 4 + pathBytes.length);
  return out;
}

/** Parses one entry header at the start of `bytes`; undefined when more bytes are needed. */
export function parseEntryHeader(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): { entry: EntryHeader; length: number } | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 2) return undefined;
  const pathLength = b.readUInt16BE(0);
  if (pathLength === 0 || pathLength > limits.maxPathBytes) throw new VigilError('VIGIL_UPDATE_UNSAFE_PATH', `an entry path is ${pathLength} bytes (1..${limits.maxPathBytes})`);
  const length = ENTRY_FIXED_BYTES + pathLength;
  if (b.length < length) return undefined;
  const pathBytes = b.subarray(2, 2 + pathLength);
  const p = new TextDecoder('utf-8', { fatal: true }).decode(pathBytes, { stream: false });
  checkArchivePath(p, limits);
  const mode = b.readUInt16BE(2 + pathLength);
  checkMode(mode, p);
  const size = b.readBigUInt64BE(4 + pathLength);
  if (size > BigInt(limits.maxFileBytes)) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `file ${quotePath(p)} is larger than ${limits.maxFileBytes} bytes`);
  return { entry: { path: p, mode, size: Number(size) }, length };
}

export type ArchiveEvent =
  | { kind: 'manifest'; manifest: Manifest; bytes: Buffer }
  | { kind: 'file-start'; file: ManifestFile }
  | { kind: 'file-data'; data: Buffer }
  | { kind: 'file-end'; file: ManifestFile; sha256: string };

type State =
  | { at: 'preamble' }
  | { at: 'manifest'; length: number }
  | { at: 'entry-header'; index: number }
  | { at: 'entry-data'; index: number; remaining: number }
  | { at: 'done' };

/**
 * Streaming archive parser: push plaintext chunks, get events. Buffers at most one manifest or
 * one entry header (both bounded); file bytes are passed through as slices of the input. Every
 * file's SHA-256 is computed here and compared with the manifest, so a sink cannot forget to.
 */
export class ArchiveParser {
  readonly #limits: ArchiveLimits;
  readonly #expectedManifestSha256: string;
  #state: State = { at: 'preamble' };
  #pending: Buffer = Buffer.alloc(0);
  #manifest: Manifest | undefined;
  #hash = createHash('sha256');

  constructor(expectedManifestSha256: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) {
    this.#expectedManifestSha256 = expectedManifestSha256;
    this.#limits = limits;
  }

  push(chunk: Buffer): ArchiveEvent[] {
    const events: ArchiveEvent[] = [];
    let input = chunk;
    while (input.length > 0) {
      const s = this.#state;
      if (s.at === 'done') throw malformed('bytes after the last archive entry');
      if (s.at === 'entry-data') {
        const take = Math.min(s.remaining, input.length);
        const data = input.subarray(0, take);
        input = input.subarray(take);
        this.#hash.update(data);
        if (take > 0) events.push({ kind: 'file-data', data });
        s.remaining -= take;
        if (s.remaining === 0) events.push(this.#endFile(s.index));
        continue;
      }
      // Header-like states: accumulate into #pending, bounded by the state's own maximum.
      const need = this.#headerNeed(s);
      const want = Math.max(0, need - this.#pending.length);
      const take = Math.min(want, input.length);
      this.#pending = Buffer.concat([this.#pending, input.subarray(0, take)]);
      input = input.subarray(take);
      this.#advance(events);
    }
    this.#advance(events);
    return events;
  }

  /** Call after the last chunk: throws if the archive is incomplete. */
  finish(): Manifest {
    if (this.#state.at !== 'done' || this.#manifest === undefined) throw malformed('the archive ends early');
    return this.#manifest;
  }

  #headerNeed(s: State): number {
    if (s.at === 'preamble') return ARCHIVE_PREAMBLE_BYTES;
    if (s.at === 'manifest') return s.length;
    if (s.at === 'entry-header') {
      // Two bytes of length first, then the whole header.
      if (this.#pending.length < 2) return 2;
      return ENTRY_FIXED_BYTES + this.#pending.readUInt16BE(0);
    }
    return 0;
  }

  #advance(events: ArchiveEvent[]): void {
    for (;;) {
      const s = this.#state;
      if (s.at === 'preamble') {
        if (this.#pending.length < ARCHIVE_PREAMBLE_BYTES) return;
        if (!this.#pending.subarray(0, 4).equals(ARCHIVE_MAGIC)) throw malformed('not an update archive (bad magic)');
        if (this.#pending.readUInt16BE(4) !== ARCHIVE_FORMAT) throw malformed('unknown archive format');
        const length = this.#pending.readUInt32BE(6);
        if (length > this.#limits.maxManifestBytes) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `manifest is larger than ${this.#limits.maxManifestBytes} bytes`);
        this.#pending = Buffer.alloc(0);
        this.#state = { at: 'manifest', length };
        continue;
      }
      if (s.at === 'manifest') {
        if (this.#pending.length < s.length) return;
        const bytes = this.#pending;
        if (createHash('sha256').update(bytes).digest('hex') !== this.#expectedManifestSha256) {
          throw new VigilError('VIGIL_UPDATE_TAMPERED', 'the archive manifest does not match the signed header');
        }
        this.#manifest = parseManifest(bytes, this.#limits);
        this.#pending = Buffer.alloc(0);
        events.push({ kind: 'manifest', manifest: this.#manifest, bytes });
        this.#state = this.#manifest.files.length === 0 ? { at: 'done' } : { at: 'entry-header', index: 0 };
        continue;
      }
      if (s.at === 'entry-header') {
        const parsed = parseEntryHeader(this.#pending, this.#limits);
        if (parsed === undefined) return;
        const expected = this.#manifest?.files[s.index];
        if (expected === undefined) throw malformed('more entries than the manifest lists');
        const { entry } = parsed;
        if (entry.path !== expected.path || entry.mode !== expected.mode || entry.size !== expected.size) {
          throw malformed(`entry ${s.index} (${quotePath(entry.path)}) does not match the manifest`);
        }
        this.#pending = Buffer.alloc(0);
        this.#hash = createHash('sha256');
        events.push({ kind: 'file-start', file: expected });
        this.#state = { at: 'entry-data', index: s.index, remaining: entry.size };
        if (entry.size === 0) events.push(this.#endFile(s.index));
        continue;
      }
      return;
    }
  }

  #endFile(index: number): ArchiveEvent {
    const file = this.#manifest?.files[index];
    if (file === undefined) throw malformed('entry index out of range');
    const sha256 = this.#hash.digest('hex');
    if (sha256 !== file.sha256) throw new VigilError('VIGIL_UPDATE_TAMPERED', `file ${quotePath(file.path)} does not match its manifest hash`, { details: { path: file.path } });
    const count = this.#manifest?.files.length ?? 0;
    this.#state = index + 1 < count ? { at: 'entry-header', index: index + 1 } : { at: 'done' };
    return { kind: 'file-end', file, sha256 };
  }
}
