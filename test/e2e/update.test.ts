// Software updates end to end (NVR-5.2.3.1a-d, CAM-T-sys-3..7, ACS-5.5.1.1-3/7): vendor and
// device keys, a package built from a directory, verified, applied into an A/B slot, checked at
// launch, rolled back; and the attacks: a flipped byte anywhere, another vendor's key, another
// device, a downgrade, a replay, path traversal, secrets in the input, a changed installed file,
// an update killed half-way. The commands run in a real child process exactly as `vigil update …`
// will once registered (same parseArgs options, exit codes and error line as src/cli/main.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyPackage, rollbackInstall } from '../../src/update/install.ts';
import { buildPackage, sealArchive } from '../../src/update/build.ts';
import { verifyInstalledSlot } from '../../src/update/launch-integrity.ts';
import { serializeArchivePreamble, serializeEntryHeader, serializeManifest, type Manifest } from '../../src/update/archive.ts';
import { generateUpdateKeys, KEY_FILES } from '../../src/update/keys.ts';
import { isVigilError } from '../../src/core/errors.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MARKER = 'VIGIL-UPDATE-PLAINTEXT-MARKER-7f3a';

// The same dispatch as src/cli/main.ts, over UPDATE_COMMANDS only.
const DRIVER = `
import { parseArgs } from 'node:util';
import { UPDATE_COMMANDS } from ${JSON.stringify(path.join(ROOT, 'src/update/commands.ts'))};
import { isVigilError } from ${JSON.stringify(path.join(ROOT, 'src/core/errors.ts'))};
const argv = process.argv.slice(1);
const command = UPDATE_COMMANDS.find((c) => c.name === argv[0] + ' ' + argv[1]);
if (command === undefined) { console.error('unknown command'); process.exit(2); }
const options = {};
for (const [name, o] of Object.entries(command.options)) options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) };
const parsed = parseArgs({ args: argv.slice(2), options, allowPositionals: true, strict: true });
command.run({ values: parsed.values, positionals: parsed.positionals }).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(isVigilError(err) ? 'vigil: ' + err.code + ': ' + err.message : err); process.exitCode = 1; },
);
`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function vigilUpdate(args: string[], onSpawn?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--input-type=module', '-e', DRIVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid !== undefined) onSpawn?.(child.pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every file under `dir` with its SHA-256: the "nothing was written" witness. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(r);
      } else out[r] = createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex');
    }
  };
  walk('');
  return out;
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe('vigil update: signed, encrypted packages and A/B install', () => {
  let dir: string;
  let keys: string;
  let otherKeys: string;
  let vendorPriv: string;
  let vendorPub: string;
  let devicePriv: string;
  let devicePub: string;
  let vendorKey: KeyObject;
  let signingKey: KeyObject;
  let deviceKey: KeyObject;
  let deviceKeyPublic: KeyObject;
  const pkgs: Record<string, string> = {};

  function source(name: string, version: string, extra: Record<string, string> = {}): string {
    const src = path.join(dir, `src-${name}`);
    mkdirSync(path.join(src, 'bin'), { recursive: true });
    mkdirSync(path.join(src, 'lib', 'deep'), { recursive: true });
    writeFileSync(path.join(src, 'bin', 'vigil'), `#!/bin/sh\necho vigil ${version}\n`);
    chmodSync(path.join(src, 'bin', 'vigil'), 0o755);
    writeFileSync(path.join(src, 'lib', 'deep', 'marker.txt'), `${MARKER}\nversion ${version}\n`);
    writeFileSync(path.join(src, 'VERSION'), `${version}\n`);
    for (const [file, text] of Object.entries(extra)) {
      mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
      writeFileSync(path.join(src, file), text);
    }
    return src;
  }

  async function build(version: string, extraArgs: string[] = [], name = version): Promise<string> {
    const out = path.join(dir, `vigil-${name}.vup`);
    const r = await vigilUpdate(['update', 'build', '--from', source(name, version), '--version', version, '--signing-key', vendorPriv, '--device-key', devicePub, '--out', out, ...extraArgs]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-update-'));
    keys = path.join(dir, 'keys');
    otherKeys = path.join(dir, 'other-keys');
    const r = await vigilUpdate(['update', 'keygen', '--out', keys]);
    assert.equal(r.code, 0, r.stderr);
    generateUpdateKeys(otherKeys, 'both');
    vendorPriv = path.join(keys, KEY_FILES.vendorPrivate);
    vendorPub = path.join(keys, KEY_FILES.vendorPublic);
    devicePriv = path.join(keys, KEY_FILES.devicePrivate);
    devicePub = path.join(keys, KEY_FILES.devicePublic);
    vendorKey = createPublicKey(readFileSync(vendorPub));
    signingKey = createPrivateKey(readFileSync(vendorPriv));
    deviceKey = createPrivateKey(readFileSync(devicePriv));
    deviceKeyPublic = createPublicKey(readFileSync(devicePub));
    pkgs['1.0.0'] = await build('1.0.0');
    pkgs['1.1.0'] = await build('1.1.0', ['--minimum-from', '1.0.0']);
    pkgs['0.9.0'] = await build('0.9.0');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('keygen: vendor Ed25519 and device X25519 pairs; private keys 0600', () => {
    assert.equal(createPrivateKey(readFileSync(vendorPriv)).asymmetricKeyType, 'ed25519');
    assert.equal(createPrivateKey(readFileSync(devicePriv)).asymmetricKeyType, 'x25519');
    assert.equal(statSync(vendorPriv).mode & 0o777, 0o600);
    assert.equal(statSync(devicePriv).mode & 0o777, 0o600);
  });

  test('NVR-5.2.3.1a/d round trip: build → verify → apply → switch → launch integrity', async () => {
    const root = path.join(dir, 'root-roundtrip');
    const v = await vigilUpdate(['update', 'verify', pkgs['1.0.0'] ?? '', '--vendor-key', vendorPub]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^ok: vigil 1\.0\.0/);
    const a = await vigilUpdate(['update', 'apply', pkgs['1.0.0'] ?? '', '--vendor-key', vendorPub, '--device-key', devicePriv, '--install-root', root, '--current-version', '0.1.0']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /installed 1\.0\.0 \(3 files\) into slot-a/);
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-a\n');
    assert.equal(readFileSync(path.join(root, 'slot-a/files/lib/deep/marker.txt'), 'utf8'), `${MARKER}\nversion 1.0.0\n`);
    assert.equal(statSync(path.join(root, 'slot-a/files/bin/vigil')).mode & 0o777, 0o755);
    const b = await vigilUpdate(['update', 'apply', pkgs['1.1.0'] ?? '', '--vendor-key', vendorPub, '--device-key', devicePriv, '--install-root', root]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /installed 1\.1\.0 .* into slot-b; it is now active \(slot-a kept for rollback\)/);
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-b\n');
    const i = await vigilUpdate(['update', 'verify-install', '--install-root', root, '--vendor-key', vendorPub]);
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /ok: slot-b 1\.1\.0, 3 files match/);
    const s = await vigilUpdate(['update', 'status', '--install-root', root, '--vendor-key', vendorPub]);
    assert.match(s.stdout, /active: slot-b\nslot-a: 1\.0\.0\nslot-b: 1\.1\.0\nhighest installed: 1\.1\.0/);
  });

  test('NVR-5.2.3.1b / CAM-T-sys-4: the package cannot be read without a device key', async () => {
    const bytes = readFileSync(pkgs['1.0.0'] ?? '');
    assert.equal(bytes.includes(MARKER), false, 'plaintext marker absent');
    assert.equal(bytes.includes('marker.txt'), false, 'file names absent');
    assert.equal(bytes.includes('echo vigil'), false);
    const root = path.join(dir, 'root-other-device');
    await assert.rejects(
      applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: createPrivateKey(readFileSync(path.join(otherKeys, KEY_FILES.devicePrivate))), installRoot: root, currentVersion: '0.1.0' }),
      { code: 'VIGIL_UPDATE_NOT_FOR_DEVICE' },
    );
    assert.deepEqual(snapshot(root), {}, 'nothing written');
  });

  test('NVR-5.2.3.1b / CAM-T-sys-7: build refuses private keys and credentials in the input, without echoing them', async () => {
    const cases: Record<string, string> = {
      'etc/tls/server.key': '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+secretbytes\n-----END PRIVATE KEY-----\n',
      'etc/app.env': 'DB_HOST=db\nPASSWORD=Tr0ub4dor-sekret\n',
      'etc/cameras.json': '{"url":"rtsp://admin:Cam-sekret-99@192.0.2.10/live"}',
    };
    for (const [file, text] of Object.entries(cases)) {
      const out = path.join(dir, `secret-${path.basename(file)}.vup`);
      const src = source(`secret-${path.basename(file)}`, '2.0.0', { [file]: text });
      const r = await vigilUpdate(['update', 'build', '--from', src, '--version', '2.0.0', '--signing-key', vendorPriv, '--device-key', devicePub, '--out', out]);
      assert.equal(r.code, 1, file);
      assert.match(r.stderr, /VIGIL_UPDATE_SECRET_IN_INPUT/);
      assert.ok(r.stderr.includes(JSON.stringify(file)), `names ${file}: ${r.stderr}`);
      assert.equal(/sekret|secretbytes/.test(r.stderr + r.stdout), false, 'the secret is not echoed');
      assert.equal(existsSync(out), false, 'no package written');
    }
  });

  test('build refuses symbolic links and unsafe names in the input directory', async () => {
    const src = source('symlink', '2.0.0');
    symlinkSync('/etc/passwd', path.join(src, 'lib', 'passwd'));
    await assert.rejects(buildPackage({ sourceDir: src, version: '2.0.0', signingKey, deviceKeys: [deviceKeyPublic], outFile: path.join(dir, 'symlink.vup') }), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
    const src2 = source('badname', '2.0.0', { 'lib/with space.js': 'x' });
    await assert.rejects(buildPackage({ sourceDir: src2, version: '2.0.0', signingKey, deviceKeys: [deviceKeyPublic], outFile: path.join(dir, 'badname.vup') }), { code: 'VIGIL_UPDATE_UNSAFE_PATH' });
  });

  test('NVR-5.2.3.1d / CAM-T-sys-6: a flipped byte anywhere is refused before anything is written, naming what failed', async () => {
    const original = readFileSync(pkgs['1.0.0'] ?? '');
    const headerLength = original.readUInt32BE(10);
    const sigAt = 14 + headerLength + 2;
    const payloadAt = sigAt + 64;
    const regions: [string, number, RegExp][] = [
      ['magic', 0, /bad magic/],
      ['format', 9, /unknown format/],
      ['header length', 12, /header length|signature length|truncated|signature/],
      ['header', 14 + Math.floor(headerLength / 2), /signature/],
      ['header last byte', 14 + headerLength - 1, /signature/],
      ['signature length', sigAt - 1, /signature length/],
      ['signature', sigAt + 10, /signature/],
      ['payload first byte', payloadAt, /payload/],
      ['payload middle', Math.floor((payloadAt + original.length) / 2), /payload/],
      ['GCM tag', original.length - 3, /payload/],
    ];
    // Plus a fixed-seed sample of further offsets.
    let seed = 0x5eed;
    for (let i = 0; i < 30; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const at = seed % original.length;
      regions.push([`offset ${at}`, at, /./]);
    }
    const root = path.join(dir, 'root-tamper');
    const before = snapshot(root);
    const file = path.join(dir, 'tampered.vup');
    for (const [what, at, message] of regions) {
      const bad = Buffer.from(original);
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      writeFileSync(file, bad);
      const err = await applyPackage({ packageFile: file, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isVigilError(err) && err.code.startsWith('VIGIL_UPDATE_'), `${what}: refused (${String(err)})`);
      assert.match(err.message, message, what);
      assert.deepEqual(snapshot(root), before, `${what}: nothing written`);
    }
    // Through the CLI: exit 1 and the failing check on stderr.
    const bad = Buffer.from(original);
    bad[payloadAt + 5] = (bad[payloadAt + 5] ?? 0) ^ 0x80;
    writeFileSync(file, bad);
    const r = await vigilUpdate(['update', 'verify', file, '--vendor-key', vendorPub]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VIGIL_UPDATE_TAMPERED: .*encrypted payload does not match the signed header hash/);
    // Truncated and extended files.
    for (const variant of [original.subarray(0, original.length - 1), Buffer.concat([original, Buffer.from([0])]), original.subarray(0, 40)]) {
      writeFileSync(file, variant);
      await assert.rejects(applyPackage({ packageFile: file, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' }), (e: unknown) => isVigilError(e) && /truncated|extended/.test(e.message));
    }
    assert.deepEqual(snapshot(root), before);
  });

  test('ACS-5.5.1.2: a package signed by another vendor key is refused', async () => {
    const r = await vigilUpdate(['update', 'verify', pkgs['1.0.0'] ?? '', '--vendor-key', path.join(otherKeys, KEY_FILES.vendorPublic)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VIGIL_UPDATE_SIGNATURE_INVALID/);
    const root = path.join(dir, 'root-wrong-vendor');
    const a = await vigilUpdate(['update', 'apply', pkgs['1.0.0'] ?? '', '--vendor-key', path.join(otherKeys, KEY_FILES.vendorPublic), '--device-key', devicePriv, '--install-root', root, '--current-version', '0.1.0']);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /VIGIL_UPDATE_SIGNATURE_INVALID/);
    assert.deepEqual(snapshot(root), {});
  });

  test('ACS-5.5.1.3 anti-rollback: downgrade and replay refused, even with a lower --current-version or a deleted state file', async () => {
    const root = path.join(dir, 'root-rollback-guard');
    const apply = (pkg: string, current?: string): Promise<unknown> =>
      applyPackage({ packageFile: pkg, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, ...(current === undefined ? {} : { currentVersion: current }) });
    await apply(pkgs['1.0.0'] ?? '', '0.1.0');
    await apply(pkgs['1.1.0'] ?? '');
    await assert.rejects(apply(pkgs['1.1.0'] ?? ''), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_NOT_NEWER') && /replay/.test(e.message));
    await assert.rejects(apply(pkgs['1.0.0'] ?? '', '0.1.0'), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_NOT_NEWER') && /downgrade/.test(e.message));
    await assert.rejects(apply(pkgs['0.9.0'] ?? '', '0.1.0'), { code: 'VIGIL_UPDATE_NOT_NEWER' });
    rmSync(path.join(root, 'state.json'));
    await assert.rejects(apply(pkgs['1.0.0'] ?? '', '0.1.0'), { code: 'VIGIL_UPDATE_NOT_NEWER' }, 'the signed slot headers still remember 1.1.0');
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-b\n');
    const cli = await vigilUpdate(['update', 'apply', pkgs['1.1.0'] ?? '', '--vendor-key', vendorPub, '--device-key', devicePriv, '--install-root', root, '--current-version', '0.1.0']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /VIGIL_UPDATE_NOT_NEWER: package version 1\.1\.0 is already installed/);
  });

  test('minimum-from: a package that needs a newer base is refused', async () => {
    const root = path.join(dir, 'root-minfrom');
    await assert.rejects(applyPackage({ packageFile: pkgs['1.1.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.5.0' }), { code: 'VIGIL_UPDATE_FROM_VERSION' });
    assert.deepEqual(snapshot(root), {});
  });

  async function forged(name: string, manifest: Manifest, entries: { header: { path: string; mode: number; size: number }; data: Buffer }[], manifestOverride?: Buffer): Promise<string> {
    const mb = manifestOverride ?? serializeManifest(manifest);
    const archive = Buffer.concat([serializeArchivePreamble(mb), ...entries.flatMap((e) => [serializeEntryHeader(e.header), e.data])]);
    const out = path.join(dir, `${name}.vup`);
    await sealArchive({
      metadata: { product: 'vigil', version: manifest.version, minimumFromVersion: '0.0.0', securityFloor: null, createdAt: new Date() },
      manifestSha256: createHash('sha256').update(mb).digest('hex'),
      archiveLength: archive.length,
      archive: once(archive),
      signingKey,
      deviceKeys: [deviceKeyPublic],
      outFile: out,
    });
    return out;
  }

  test('path traversal in a validly signed package (vendor build bug or stolen key) is refused, nothing outside the slot', async () => {
    const data = Buffer.from('pwned\n');
    const sha = createHash('sha256').update(data).digest('hex');
    const escape = path.join(dir, 'escaped');
    // The manifest itself names "../escaped": refused when the manifest is parsed.
    const m1 = Buffer.from(JSON.stringify({ format: 1, product: 'vigil', version: '5.0.0', files: [{ path: '../../escaped', mode: 0o644, size: data.length, sha256: sha }] }));
    const p1 = await forged('traversal-manifest', { format: 1, product: 'vigil', version: '5.0.0', files: [] }, [{ header: { path: '../../escaped', mode: 0o644, size: data.length }, data }], m1);
    // A clean manifest, but the entry header says "../../escaped": refused at the entry.
    const m2: Manifest = { format: 1, product: 'vigil', version: '5.0.1', files: [{ path: 'ok', mode: 0o644, size: data.length, sha256: sha }] };
    const p2 = await forged('traversal-entry', m2, [{ header: { path: '../../escaped', mode: 0o644, size: data.length }, data }]);
    const m3 = Buffer.from(JSON.stringify({ format: 1, product: 'vigil', version: '5.0.2', files: [{ path: '/tmp/abs', mode: 0o644, size: data.length, sha256: sha }] }));
    const p3 = await forged('absolute', { format: 1, product: 'vigil', version: '5.0.2', files: [] }, [{ header: { path: '/tmp/abs', mode: 0o644, size: data.length }, data }], m3);
    const root = path.join(dir, 'root-traversal');
    await applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' });
    const before = snapshot(root);
    for (const p of [p1, p2, p3]) {
      const r = await vigilUpdate(['update', 'apply', p, '--vendor-key', vendorPub, '--device-key', devicePriv, '--install-root', root]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /VIGIL_UPDATE_UNSAFE_PATH: unsafe path "(\.\.\/\.\.\/escaped|\/tmp\/abs)"/);
      assert.deepEqual(snapshot(root), before, 'active slot untouched, half slot removed');
    }
    assert.equal(existsSync(escape), false);
    assert.equal(existsSync(path.join(root, 'escaped')), false);
  });

  test('ACS-5.5.1.7: a package failing mid-extract leaves the running slot active and intact', async () => {
    const good = Buffer.from('good file\n');
    const m: Manifest = {
      format: 1,
      product: 'vigil',
      version: '6.0.0',
      files: [
        { path: 'a', mode: 0o644, size: good.length, sha256: createHash('sha256').update(good).digest('hex') },
        { path: 'b', mode: 0o644, size: good.length, sha256: createHash('sha256').update(good).digest('hex') },
      ],
    };
    const p = await forged('mid-fail', m, [
      { header: { path: 'a', mode: 0o644, size: good.length }, data: good },
      { header: { path: 'b', mode: 0o644, size: good.length }, data: Buffer.from('evil file\n') },
    ]);
    const root = path.join(dir, 'root-midfail');
    await applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' });
    const before = snapshot(root);
    await assert.rejects(applyPackage({ packageFile: p, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root }), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_TAMPERED') && e.message.includes('"b"'));
    assert.deepEqual(snapshot(root), before);
    assert.equal((await verifyInstalledSlot(root, vendorKey)).ok, true);
  });

  test('ACS-5.5.1.7 fault: kill -9 during apply leaves the previous slot active; the next apply succeeds', async () => {
    const root = path.join(dir, 'root-kill');
    await applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' });
    const big = source('big', '7.0.0');
    // Random, but with no '=' or '"': 64 MiB of noise must not trip the secret lint by chance.
    for (let i = 0; i < 8; i++) writeFileSync(path.join(big, 'lib', `blob-${i}.bin`), randomBytes(8 * 1024 * 1024).map((b) => (b === 0x3d || b === 0x22 ? 0x20 : b)));
    const bigPkg = path.join(dir, 'big.vup');
    await buildPackage({ sourceDir: big, version: '7.0.0', signingKey, deviceKeys: [deviceKeyPublic], outFile: bigPkg });
    let killedMidway = false;
    const run = await vigilUpdate(['update', 'apply', bigPkg, '--vendor-key', vendorPub, '--device-key', devicePriv, '--install-root', root], (pid) => {
      const poll = setInterval(() => {
        // Kill once extraction has begun writing the inactive slot.
        if (existsSync(path.join(root, 'slot-b', 'files', 'lib'))) {
          clearInterval(poll);
          killedMidway = !existsSync(path.join(root, 'slot-b', 'package-prefix.bin'));
          process.kill(pid, 'SIGKILL');
        }
      }, 2);
      setTimeout(() => clearInterval(poll), 30_000).unref();
    });
    assert.equal(run.signal, 'SIGKILL', `the apply was killed (${run.stdout}${run.stderr})`);
    assert.ok(killedMidway, 'killed before the slot was complete');
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-a\n');
    assert.equal((await verifyInstalledSlot(root, vendorKey)).ok, true, 'the running slot is intact');
    await assert.rejects(rollbackInstall(root, vendorKey), { code: 'VIGIL_UPDATE_ROLLBACK_REFUSED' }, 'the half-written slot is never activated');
    // The stale lock of the killed process is taken over; the update then completes.
    const again = await applyPackage({ packageFile: bigPkg, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root });
    assert.equal(again.slot, 'slot-b');
    assert.equal((await verifyInstalledSlot(root, vendorKey)).ok, true);
  });

  test('launch integrity: a modified, missing or added file is reported by path; an edited manifest or header is refused', async () => {
    const root = path.join(dir, 'root-integrity');
    await applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, currentVersion: '0.1.0' });
    const files = path.join(root, 'slot-a', 'files');
    writeFileSync(path.join(files, 'lib/deep/marker.txt'), 'changed\n');
    rmSync(path.join(files, 'VERSION'));
    writeFileSync(path.join(files, 'bin/backdoor'), 'x');
    const report = await verifyInstalledSlot(root, vendorKey);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => `${p.problem} ${p.path}`).sort(),
      ['missing VERSION', 'modified lib/deep/marker.txt', 'unexpected bin/backdoor'],
    );
    const r = await vigilUpdate(['update', 'verify-install', '--install-root', root, '--vendor-key', vendorPub]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /modified\tlib\/deep\/marker\.txt/);
    // Re-writing the manifest to match the change does not help: its hash is in the signed header.
    const manifestFile = path.join(root, 'slot-a', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    for (const f of manifest.files) if (f.path === 'lib/deep/marker.txt') f.sha256 = createHash('sha256').update('changed\n').digest('hex');
    writeFileSync(manifestFile, JSON.stringify(manifest));
    await assert.rejects(verifyInstalledSlot(root, vendorKey), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_SLOT_INTEGRITY') && /manifest/.test(e.message));
    // Nor does editing the stored header (e.g. to point it at the forged manifest): its signature fails.
    const prefixFile = path.join(root, 'slot-a', 'package-prefix.bin');
    const prefix = readFileSync(prefixFile);
    prefix[20] = (prefix[20] ?? 0) ^ 0x01;
    writeFileSync(prefixFile, prefix);
    await assert.rejects(verifyInstalledSlot(root, vendorKey), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_SLOT_INTEGRITY') && /signature/.test(e.message));
  });

  test('rollback: switches back to the verified previous slot; refused below a security fix floor', async () => {
    const root = path.join(dir, 'root-rollback');
    const apply = (pkg: string, current?: string): Promise<unknown> =>
      applyPackage({ packageFile: pkg, vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root, ...(current === undefined ? {} : { currentVersion: current }) });
    await assert.rejects(rollbackInstall(root, vendorKey), { code: 'VIGIL_UPDATE_ROLLBACK_REFUSED' });
    await apply(pkgs['1.0.0'] ?? '', '0.1.0');
    await apply(pkgs['1.1.0'] ?? '');
    const r = await vigilUpdate(['update', 'rollback', '--install-root', root, '--vendor-key', vendorPub]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rolled back from 1\.1\.0 \(slot-b\) to 1\.0\.0 \(slot-a\)/);
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-a\n');
    assert.equal((await verifyInstalledSlot(root, vendorKey)).version, '1.0.0');
    // Rolled back, but 1.1.0 stays the highest installed: it cannot be replayed, only rolled forward.
    await assert.rejects(apply(pkgs['1.1.0'] ?? ''), { code: 'VIGIL_UPDATE_NOT_NEWER' });
    // A security fix 1.2.0 with floor 1.2.0 goes into slot-b (1.1.0 is replaced); rolling back to 1.0.0 is refused.
    const fix = await build('1.2.0', ['--security-floor', '1.2.0']);
    await apply(fix);
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-b\n');
    const refused = await vigilUpdate(['update', 'rollback', '--install-root', root, '--vendor-key', vendorPub]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /VIGIL_UPDATE_ROLLBACK_REFUSED: rollback to 1\.0\.0 refused: a security fix requires 1\.2\.0 or later/);
    assert.equal(readFileSync(path.join(root, 'current'), 'utf8'), 'slot-b\n');
    // A rollback target whose files were changed is not activated either.
    const root2 = path.join(dir, 'root-rollback-2');
    await applyPackage({ packageFile: pkgs['1.0.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root2, currentVersion: '0.1.0' });
    await applyPackage({ packageFile: pkgs['1.1.0'] ?? '', vendorPublicKey: vendorKey, devicePrivateKey: deviceKey, installRoot: root2 });
    writeFileSync(path.join(root2, 'slot-a', 'files', 'VERSION'), '9.9.9\n');
    await assert.rejects(rollbackInstall(root2, vendorKey), (e: unknown) => isVigilError(e, 'VIGIL_UPDATE_ROLLBACK_REFUSED') && e.message.includes('"VERSION" modified'));
  });

  test('bounds: too many files for the limits is refused at build', async () => {
    const src = source('bounds', '3.0.0');
    await assert.rejects(
      buildPackage({ sourceDir: src, version: '3.0.0', signingKey, deviceKeys: [deviceKeyPublic], outFile: path.join(dir, 'bounds.vup'), limits: { maxFiles: 2, maxPathBytes: 1024, maxDepth: 32, maxFileBytes: 1024, maxTotalBytes: 4096, maxManifestBytes: 65536 } }),
      { code: 'VIGIL_UPDATE_TOO_LARGE' },
    );
  });
});
