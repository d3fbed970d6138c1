// The `vigil` command and the security event log, end to end on a real data directory:
// console setup (no default account), audit verification that names a tampered row
// (NVR-5.2.7.1b), a signed export verified offline (NVR-5.2.7.1c), and every command's --help.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runVigil, startVigil } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';
import { COMMANDS } from '../../src/cli/commands.ts';

const PASSWORD = 'Lighthouse-Keeper-91';

describe('vigil CLI: setup, audit verify, audit export', () => {
  let dir: string;
  let configFile: string;
  let dbFile: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    configFile = path.join(dir, 'vigil.json');
    dbFile = path.join(dir, 'data', 'vigil.db');
    writeFileSync(configFile, JSON.stringify({ dataDir: path.join(dir, 'data'), keyring: { kekFile: path.join(dir, 'keyring', 'kek.key') }, http: { host: '127.0.0.1', port: 0 } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every command answers --help with its usage', async () => {
    const main = await runVigil(['--help']);
    assert.equal(main.code, 0);
    for (const command of COMMANDS) {
      assert.ok(main.stdout.includes(command.name), `main help lists ${command.name}`);
      const r = await runVigil([...command.name.split(' '), '--help']);
      assert.equal(r.code, 0, command.name);
      assert.match(r.stdout, new RegExp(`usage: vigil ${command.name}`));
    }
    const unknown = await runVigil(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command/);
  });

  test('NVR-5.4.2.1b: `vigil setup` creates the first administrator once, with the password policy', async () => {
    const weak = await runVigil(['setup', '--username', 'root-admin', '--config', configFile], { input: 'short\n' });
    assert.notEqual(weak.code, 0);
    assert.match(weak.stderr, /VIGIL_PASSWORD_POLICY/);
    const ok = await runVigil(['setup', '--username', 'root-admin', '--config', configFile], { input: `${PASSWORD}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout + ok.stderr, new RegExp(PASSWORD), 'the password is never echoed');
    const again = await runVigil(['setup', '--username', 'other-admin', '--config', configFile], { input: `${PASSWORD}\n` });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /VIGIL_SETUP_ALREADY_DONE/);
  });

  test('after console setup the service prints no setup token and the administrator can log in', async () => {
    const vigil = await startVigil({ dir, config: { dataDir: path.join(dir, 'data'), keyring: { kekFile: path.join(dir, 'keyring', 'kek.key') } } });
    try {
      assert.equal(vigil.setupToken, undefined);
      const api = new ApiClient(vigil.baseUrl, vigil.caPem);
      const login = await api.post<{ status: string }>('/api/v1/auth/login', { username: 'root-admin', password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      const wrong = await api.anonymous().post('/api/v1/auth/login', { username: 'root-admin', password: 'Wrong-Password-000' });
      assert.equal(wrong.status, 401);
    } finally {
      await vigil.stop();
    }
  });

  test('`vigil cameras add|list|remove`: the password comes from standard input and is never shown', async () => {
    const added = await runVigil(['cameras', 'add', '--name', 'Gate', '--url', 'rtsp://192.0.2.20/stream', '--username', 'nvr', '--retention-days', '7', '--config', configFile], { input: 'Gate-Camera-Pass-1\n' });
    assert.equal(added.code, 0, added.stderr);
    const id = /added camera Gate: ([0-9a-f-]{36})/.exec(added.stdout)?.[1] ?? '';
    assert.notEqual(id, '');
    const listed = await runVigil(['cameras', 'list', '--config', configFile]);
    assert.match(listed.stdout, new RegExp(`${id}\tGate\trtsp://192.0.2.20/stream\tcontinuous\t7d\tenabled\tcredentials set`));
    assert.doesNotMatch(listed.stdout + added.stdout, /Gate-Camera-Pass-1/);
    const refused = await runVigil(['cameras', 'add', '--name', 'Bad', '--url', 'rtsp://admin:admin@192.0.2.21/', '--config', configFile]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /VIGIL_VALIDATION/);
    assert.equal((await runVigil(['cameras', 'remove', id, '--config', configFile])).code, 0);
    assert.doesNotMatch((await runVigil(['cameras', 'list', '--config', configFile])).stdout, /Gate/);
  });

  test('NVR-5.2.7.1b: `vigil audit verify` passes, then names the row that was edited or deleted', async () => {
    const sqlite = requireTool('sqlite3', 'sqlite3');
    const clean = await runVigil(['audit', 'verify', '--config', configFile]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /audit log OK: \d+ events/);

    const failure = (await runTool(sqlite, [dbFile, "select seq from audit_events where outcome = 'failure' order by seq limit 1"])).stdout.trim();
    assert.match(failure, /^\d+$/, 'a failed login was audited');
    // An insider turns the failed login into a success, straight in the database.
    await runTool(sqlite, [dbFile, `update audit_events set outcome = 'success' where seq = ${failure}`]);
    const edited = await runVigil(['audit', 'verify', '--config', configFile]);
    assert.equal(edited.code, 1);
    assert.match(edited.stdout, new RegExp(`FAIL seq ${failure}:`));
    await runTool(sqlite, [dbFile, `update audit_events set outcome = 'failure' where seq = ${failure}`]);
    assert.equal((await runVigil(['audit', 'verify', '--config', configFile])).code, 0, 'restored row verifies again');

    const victim = (await runTool(sqlite, [dbFile, 'select seq from audit_events order by seq limit 1 offset 2'])).stdout.trim();
    await runTool(sqlite, [dbFile, `delete from audit_events where seq = ${victim}`]);
    const deleted = await runVigil(['audit', 'verify', '--config', configFile]);
    assert.equal(deleted.code, 1);
    assert.match(deleted.stdout, new RegExp(`FAIL seq ${Number(victim) + 1}:|FAIL seq ${victim}:`), deleted.stdout);
  });

  test('NVR-5.2.7.1c: a signed export verifies offline and a changed byte is named', async () => {
    // A fresh data dir: the previous test left a deliberately broken chain behind.
    const exportDir = mkdtempSync(path.join(tmpdir(), 'vigil-export-'));
    try {
      const cfg = path.join(exportDir, 'vigil.json');
      writeFileSync(cfg, JSON.stringify({ dataDir: path.join(exportDir, 'data'), keyring: { kekFile: path.join(exportDir, 'keyring', 'kek.key') } }));
      assert.equal((await runVigil(['setup', '--username', 'auditor-one', '--config', cfg], { input: `${PASSWORD}\n` })).code, 0);
      const out = path.join(exportDir, 'audit.jsonl');
      const exported = await runVigil(['audit', 'export', '--out', out, '--config', cfg]);
      assert.equal(exported.code, 0, exported.stderr);
      const verified = await runVigil(['audit', 'verify-export', out, '--public-key', `${out}.pub.pem`]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /export OK: [1-9]\d* events/);

      const text = readFileSync(out, 'utf8');
      writeFileSync(out, text.replace('"outcome":"success"', '"outcome":"failure"'));
      const tampered = await runVigil(['audit', 'verify-export', out, '--public-key', `${out}.pub.pem`]);
      assert.equal(tampered.code, 1);
      assert.match(tampered.stdout, /FAIL line \d+: event seq \d+ does not match its hash/);
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
  });
});
