// The directory backup target (NVR-5.1.5.1a second disk, NVR-5.1.5.1b removable media) and the
// bounds on what a backup set may ask of us (hostile manifest, oversized objects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isVigilError } from '../core/errors.ts';
import { DirectoryTarget } from './directory-target.ts';
import { parseManifest, readBounded } from './manifest.ts';
import { checkObjectName } from './target.ts';
import { backupSubkeys, unwrapBackupKey } from './backup-keys.ts';
import type { Keyring } from '../crypto/keyring.ts';

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-dirtarget-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

test('object names cannot climb out of the target or address hidden files', () => {
  for (const bad of ['', '../x', 'a/../b', 'a/./b', '.tmp-1', 'a/.hidden', 'a//b', '/etc/passwd', 'a\\b', 'a/b/', `${'x'.repeat(600)}`, 'sp ace']) {
    assert.throws(() => checkObjectName(bad), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_NAME_INVALID'), JSON.stringify(bad));
  }
  checkObjectName('segments/cam-1/0f-ab.vseg');
  checkObjectName('sets/', 'prefix');
  assert.throws(() => checkObjectName('sets', 'prefix'));
});

test('NVR-5.1.5.1b: an unmounted removable medium (missing directory) is refused, never created', async (t) => {
  const root = tempRoot(t);
  const mount = path.join(root, 'media', 'usb0');
  await assert.rejects(DirectoryTarget.open({ root: mount }), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_TARGET_UNAVAILABLE'));
  assert.throws(() => statSync(mount));
  const internal = await DirectoryTarget.open({ root: path.join(root, 'disk2', 'backups'), mustExist: false });
  assert.match(internal.description, /disk2/);
  assert.equal(statSync(path.join(root, 'disk2', 'backups')).mode & 0o077, 0);
});

test('put/get/stat/delete stream objects; a hash mismatch publishes nothing', async (t) => {
  const root = tempRoot(t);
  const target = await DirectoryTarget.open({ root });
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const sha = createHash('sha256').update(data).digest('hex');
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
  }
  assert.deepEqual(await target.put('segments/cam-1/x.vseg', chunks(), { expectedSha256: sha }), { size: data.length, sha256: sha });
  assert.deepEqual(await collect(target.get('segments/cam-1/x.vseg')), data);
  assert.deepEqual(await target.stat('segments/cam-1/x.vseg'), { size: data.length });
  assert.equal(statSync(path.join(root, 'segments', 'cam-1', 'x.vseg')).mode & 0o077, 0, 'objects are private');

  await assert.rejects(target.put('segments/cam-1/y.vseg', chunks(), { expectedSha256: '0'.repeat(64) }), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
  assert.equal(await target.stat('segments/cam-1/y.vseg'), undefined);
  assert.deepEqual(readdirSync(path.join(root, 'segments', 'cam-1')), ['x.vseg'], 'no temporary file left behind');

  await assert.rejects(collect(target.get('segments/cam-1/none.vseg')), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_NOT_FOUND'));
  await target.delete('segments/cam-1/x.vseg');
  await target.delete('segments/cam-1/x.vseg');
  assert.equal(await target.stat('segments/cam-1/x.vseg'), undefined);
});

test('list() returns names in byte order, pages with after/limit, and skips temporary files', async (t) => {
  const root = tempRoot(t);
  const target = await DirectoryTarget.open({ root });
  const names = ['sets/b/manifest.json', 'sets/a/manifest.sig', 'sets/a/manifest.json', 'sets/a-1/manifest.json', 'sets/b/manifest.sig', 'sets/c'];
  for (const n of names) await target.put(n, [Buffer.from(n)]);
  writeFileSync(path.join(root, 'sets', '.tmp-abandoned'), 'x');
  const sorted = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(await target.list('sets/', { limit: 100 }), sorted);
  const paged: string[] = [];
  for (let after: string | undefined; ; ) {
    const page = await target.list('sets/', { ...(after === undefined ? {} : { after }), limit: 2 });
    if (page.length === 0) break;
    assert.ok(page.length <= 2);
    paged.push(...page);
    after = page[page.length - 1];
  }
  assert.deepEqual(paged, sorted);
  assert.deepEqual(await target.list('nothing/', { limit: 10 }), []);
});

test('oversized objects and hostile manifests are refused before they cost memory or CPU', async () => {
  async function* big(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 100; i++) yield Buffer.alloc(1024);
  }
  await assert.rejects(readBounded(big(), 10_000, 'manifest'), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_TOO_LARGE'));
  assert.throws(() => parseManifest(Buffer.from('{"format":"vigil.backup.v1","extra":1}')), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
  assert.throws(() => parseManifest(Buffer.from('not json')), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
  // A manifest asking for a billion PBKDF2 iterations (CPU exhaustion) or fewer than 600,000
  // (a weakened recovery wrap) is refused before any derivation runs.
  const noKeyring = {} as unknown as Keyring;
  for (const iterations of [1_000_000_000, 1000]) {
    const started = Date.now();
    await assert.rejects(
      unwrapBackupKey({ device: null, deviceKek: null, recovery: { kdf: 'pbkdf2-hmac-sha256', iterations, salt: randomBytes(16).toString('base64'), sealed: 'AA==' } }, 'x', { keyring: noKeyring, passphrase: 'long enough passphrase' }),
      (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'),
    );
    assert.ok(Date.now() - started < 1000);
  }
  // Sub-keys are distinct per purpose and per backup id.
  const key = randomBytes(32);
  const a = backupSubkeys(key, 'one');
  const b = backupSubkeys(key, 'two');
  assert.notDeepEqual(a.segmentWrap, a.manifestMac);
  assert.notDeepEqual(a.segmentWrap, b.segmentWrap);
});
