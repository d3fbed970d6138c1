// Factory reset (NVR-5.1.3.2b, CAM-T-phys-7) with the real process: refused while the service
// runs and without confirmation; then the key-encryption key, the database, the recording
// volumes and the data directory are gone, the next start is a first run with a new setup token,
// a new device certificate and no account, and a copy of the old database taken before the
// reset is useless (its keys were wrapped by the destroyed KEK).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runVigil, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';

const ADMIN = { username: 'reset-admin', password: 'Factory-Fresh-Start-4040' };

describe('vigil factory-reset (real process)', () => {
  let vigil: VigilProcess;
  let config: Record<string, unknown>;
  let kekFile = '';
  let firstCertificate = '';

  before(async () => {
    vigil = await startVigil({ config: { security: { mfaRequiredRoles: [] } } });
    const dir = vigil.dir;
    kekFile = path.join(dir, 'keyring', 'kek.key');
    // Two mirror volumes outside the data directory, and a third whose marker will not match.
    config = {
      security: { mfaRequiredRoles: [] },
      video: { volumes: [{ id: 'mirror-a', path: path.join(dir, 'vol-a') }, { id: 'mirror-b', path: path.join(dir, 'vol-b') }, { id: 'spare-c', path: path.join(dir, 'vol-c'), role: 'spare' }] },
    };
    await vigil.stop();
    vigil = await startVigil({ dir, config });
    firstCertificate = vigil.caPem;
    const admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    assert.equal((await admin.post('/api/v1/auth/login', ADMIN)).status, 200);
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('refused while the service runs, and without confirmation off a terminal; nothing is erased', async () => {
    const running = await runVigil(['factory-reset', '--yes', '--config', vigil.configFile]);
    assert.notEqual(running.code, 0);
    assert.match(running.stderr, /VIGIL_SERVICE_RUNNING|another Vigil service/);
    assert.ok(existsSync(kekFile), 'the key is still there');
    assert.equal(await vigil.stop(), 0);
    const unconfirmed = await runVigil(['factory-reset', '--config', vigil.configFile]);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /pass --yes/);
    assert.ok(existsSync(kekFile));
  });

  test('erases key, database, volumes and data directory; the next start is a first run; an old database copy is useless', async () => {
    const dir = vigil.dir;
    const oldDb = path.join(dir, 'stolen-copy.db');
    copyFileSync(path.join(vigil.dataDir, 'vigil.db'), oldDb);
    writeFileSync(path.join(dir, 'vol-a', 'leftover.bin'), 'recording bytes');
    mkdirSync(path.join(dir, 'vol-a', 'lost+found'));
    writeFileSync(path.join(dir, 'vol-c', '.vigil-volume'), 'someone-elses-disk\n');

    const reset = await runVigil(['factory-reset', '--yes', '--config', vigil.configFile]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /destroyed the key-encryption key/);
    assert.match(reset.stdout, /left volume spare-c .* untouched/);
    assert.equal(existsSync(kekFile), false, 'the KEK file is gone');
    assert.deepEqual(readdirSync(vigil.dataDir), [], 'the data directory is empty');
    assert.deepEqual(readdirSync(path.join(dir, 'vol-a')), ['lost+found'], 'a mirror volume is empty (a file system root keeps lost+found)');
    assert.deepEqual(readdirSync(path.join(dir, 'vol-b')), []);
    assert.deepEqual(readdirSync(path.join(dir, 'vol-c')), ['.vigil-volume'], 'a volume that is not ours is not touched');
    writeFileSync(path.join(dir, 'vol-c', '.vigil-volume'), 'spare-c\n');

    vigil = await startVigil({ dir, config });
    assert.match(vigil.setupToken ?? '', /\S{20,}/, 'a new one-time setup token');
    assert.notEqual(vigil.caPem, firstCertificate, 'a new device certificate');
    const anyone = new ApiClient(vigil.baseUrl, vigil.caPem);
    const login = await anyone.post<{ error: { code: string } }>('/api/v1/auth/login', ADMIN);
    assert.notEqual(login.status, 200, 'the old administrator is gone: no known password comes back');
    assert.equal(login.body.error.code, 'VIGIL_SETUP_REQUIRED');
    assert.equal(await vigil.stop(), 0);

    // The old database copy under the new key: its DEKs were wrapped by the destroyed KEK.
    for (const suffix of ['-wal', '-shm']) rmSync(path.join(vigil.dataDir, `vigil.db${suffix}`), { force: true });
    copyFileSync(oldDb, path.join(vigil.dataDir, 'vigil.db'));
    await assert.rejects(startVigil({ dir, config, timeoutMs: 30_000 }), /wrapped by key-encryption key/);
  });
});
