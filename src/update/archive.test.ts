import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ArchiveParser, checkArchivePath, DEFAULT_ARCHIVE_LIMITS, parseEntryHeader, parseManifest, serializeArchivePreamble, serializeEntryHeader, serializeManifest, validateManifest, type ArchiveEvent, type Manifest } from './archive.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function archiveOf(files: { path: string; mode?: number; data: string }[]): { bytes: Buffer; manifest: Manifest; manifestSha256: string } {
  const manifest: Manifest = { format: 1, product: 'vigil', version: '1.0.0', files: files.map((f) => ({ path: f.path, mode: f.mode ?? 0o644, size: Buffer.byteLength(f.data), sha256: sha(f.data) })) };
  const mb = serializeManifest(manifest);
  const parts = [serializeArchivePreamble(mb)];
  for (const f of manifest.files) parts.push(serializeEntryHeader(f), Buffer.from(files.find((x) => x.path === f.path)?.data ?? ''));
  return { bytes: Buffer.concat(parts), manifest, manifestSha256: sha(mb) };
}

function parseAll(bytes: Buffer, manifestSha256: string, chunk: number): { events: ArchiveEvent[]; contents: Map<string, string> } {
  const p = new ArchiveParser(manifestSha256);
  const events: ArchiveEvent[] = [];
  const contents = new Map<string, string>();
  let current = '';
  for (let i = 0; i < bytes.length; i += chunk) {
    for (const e of p.push(bytes.subarray(i, i + chunk))) {
      events.push(e);
      if (e.kind === 'file-start') {
        current = e.file.path;
        contents.set(current, '');
      } else if (e.kind === 'file-data') contents.set(current, (contents.get(current) ?? '') + e.data.toString());
    }
  }
  p.finish();
  return { events, contents };
}

describe('update archive format (byte-exact)', () => {
  test('entry header: pathLength u16 | path | mode u16 | size u64, big-endian', () => {
    const bytes = serializeEntryHeader({ path: 'bin/vigil', mode: 0o755, size: 5 });
    assert.equal(bytes.toString('hex'), '0009' + Buffer.from('bin/vigil').toString('hex') + '01ed' + '0000000000000005');
    assert.deepEqual(parseEntryHeader(bytes), { entry: { path: 'bin/vigil', mode: 0o755, size: 5 }, length: 21 });
    assert.equal(parseEntryHeader(bytes.subarray(0, 20)), undefined, 'needs more bytes');
  });
  test('preamble: "VGAR" | format 1 | manifest length u32 | manifest', () => {
    assert.equal(serializeArchivePreamble(Buffer.from('{}')).toString('hex'), '56474152' + '0001' + '00000002' + '7b7d');
  });
});

describe('update archive paths (path traversal refused)', () => {
  for (const bad of ['../etc/passwd', 'a/../../b', '/etc/shadow', 'a//b', './a', 'a/./b', 'a\\b', '', 'a/', 'a b', 'ä', 'x\u0000y', `${'a/'.repeat(40)}b`]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => checkArchivePath(bad), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
    });
  }
  test('accepts normal relative paths', () => {
    for (const ok of ['bin/vigil', 'lib/node_modules/@scope/pkg-1.2/index.js', 'a', '.env.example', 'a..b']) checkArchivePath(ok);
  });
  test('an entry header with a traversal path is refused before its size is read', () => {
    const bytes = serializeEntryHeader({ path: '../x', mode: 0o644, size: 1 });
    assert.throws(() => parseEntryHeader(bytes), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
  });
  test('modes other than 0644/0755 are refused (no setuid, no world-writable)', () => {
    for (const mode of [0o4755, 0o777, 0o666, 0o600]) {
      assert.throws(() => parseEntryHeader(serializeEntryHeader({ path: 'a', mode, size: 0 })), { code: 'VIGIL_UPDATE_MALFORMED' }, mode.toString(8));
    }
  });
});

describe('update manifest validation', () => {
  const file = (path: string): { path: string; mode: number; size: number; sha256: string } => ({ path, mode: 0o644, size: 0, sha256: sha('') });
  test('duplicates, wrong order, and a file that is also a directory are refused', () => {
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [file('a'), file('a')] }), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [file('b'), file('a')] }), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [file('a'), file('a/b')] }), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [file('../a')] }), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [], extra: 1 }), { code: 'VIGIL_UPDATE_MALFORMED' });
  });
  test('bounds: file count, file size, total size, manifest bytes', () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxFiles: 2, maxFileBytes: 10, maxTotalBytes: 15, maxManifestBytes: 64 };
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [file('a'), file('b'), file('c')] }, limits), { code: 'VIGIL_UPDATE_TOO_LARGE' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [{ ...file('a'), size: 11 }] }, limits), { code: 'VIGIL_UPDATE_TOO_LARGE' });
    assert.throws(() => validateManifest({ format: 1, product: 'vigil', version: '1.0.0', files: [{ ...file('a'), size: 8 }, { ...file('b'), size: 8 }] }, limits), { code: 'VIGIL_UPDATE_TOO_LARGE' });
    assert.throws(() => parseManifest(Buffer.alloc(65, 0x20), limits), { code: 'VIGIL_UPDATE_TOO_LARGE' });
  });
});

describe('update archive streaming parser', () => {
  const files = [
    { path: 'bin/vigil', mode: 0o755, data: '#!/bin/sh\necho vigil\n' },
    { path: 'empty', data: '' },
    { path: 'lib/a.js', data: 'export const a = 1;\n'.repeat(50) },
  ];
  test('round trip at every chunk size from 1 to 64 bytes gives the same files', () => {
    const { bytes, manifestSha256 } = archiveOf(files);
    for (let chunk = 1; chunk <= 64; chunk++) {
      const { contents, events } = parseAll(bytes, manifestSha256, chunk);
      for (const f of files) assert.equal(contents.get(f.path), f.data, `chunk ${chunk}: ${f.path}`);
      assert.equal(events.filter((e) => e.kind === 'file-end').length, 3);
    }
  });
  test('a manifest that is not the signed one is refused', () => {
    const { bytes } = archiveOf(files);
    assert.throws(() => parseAll(bytes, '0'.repeat(64), 4096), { code: 'VIGIL_UPDATE_TAMPERED' });
  });
  test('file bytes that differ from the manifest hash are refused, naming the file', () => {
    const { bytes, manifestSha256 } = archiveOf(files);
    const at = bytes.indexOf('echo vigil');
    const bad = Buffer.from(bytes);
    bad[at] = 0x45;
    assert.throws(() => parseAll(bad, manifestSha256, 7), (err: Error & { code?: string }) => err.code === 'VIGIL_UPDATE_TAMPERED' && err.message.includes('"bin/vigil"'));
  });
  test('an entry that disagrees with the manifest, trailing bytes and truncation are refused', () => {
    const { bytes, manifestSha256, manifest } = archiveOf(files);
    const swapped = Buffer.from(bytes);
    swapped[bytes.lastIndexOf('bin/vigil') + 8] = 0x78; // the entry's path, not the manifest's
    assert.throws(() => parseAll(swapped, manifestSha256, 4096), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseAll(Buffer.concat([bytes, Buffer.from([0])]), manifestSha256, 4096), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.throws(() => parseAll(bytes.subarray(0, bytes.length - 1), manifestSha256, 4096), { code: 'VIGIL_UPDATE_MALFORMED' });
    assert.equal(manifest.files.length, 3);
  });
  test('a manifest length beyond the bound is refused before it is buffered', () => {
    const head = Buffer.from('5647415200010fffffff', 'hex');
    assert.throws(() => new ArchiveParser('0'.repeat(64)).push(head), { code: 'VIGIL_UPDATE_TOO_LARGE' });
  });
});
