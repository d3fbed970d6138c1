// The edge roles as real processes on loopback (issue #6): `vigil start` (platform, device sync
// over mTLS), `vigil controller` and `vigil reader --simulate`, each with its own data directory
// and device-bound key. Enrolment by one-time token (read from standard input), reader install
// (default key once, then a unique one, ACS-5.1.1.5), locks locked at start (ACS-5.4.1.2), a card
// decided at the controller and the event in the platform's access events (ACS-5.6.1.1); the
// platform stopped → the controller keeps deciding and buffers on disk; back → forwarded in order;
// the controller restarted → its buffered log survives, the chain continues, locks start locked
// (ACS-5.4.2.3).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../helpers/https-client.ts';
import { runVigil, startVigil, startVigilRole, type VigilProcess, type VigilRole } from '../helpers/vigil-process.ts';

const PLATFORM_HOST = '127.0.0.81';
const READER_HOST = '127.0.0.82';
const ADMIN = { username: 'edge-admin', password: 'Edge-Roles-Test-Passw0rd!' };

interface AccessEventView { type: string; outcome: string; reason: string; source: string; doorId: string | null; details: Record<string, unknown> }

describe('edge roles as processes: platform, controller, simulated reader', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-edge-'));
  const roles: VigilRole[] = [];
  let platform: VigilProcess | undefined;
  let api: ApiClient;
  let reader: VigilRole;
  let controller: VigilRole;
  const ctlConfig = path.join(dir, 'controller.json');

  const platformEvents = async (): Promise<AccessEventView[]> => {
    const r = await api.get<{ events: AccessEventView[] }>('/api/v1/access/events?limit=1000');
    assert.equal(r.status, 200, r.text);
    return r.body.events.filter((e) => e.source === 'controller:ctl-1').sort((a, b) => Number(a.details['controllerSeq']) - Number(b.details['controllerSeq']));
  };
  const waitEvents = async (count: number, timeoutMs = 20_000): Promise<AccessEventView[]> => {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
      const events = await platformEvents();
      if (events.length >= count) return events;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the platform did not get ${count} controller events`);
  };
  const startPlatform = async (): Promise<void> => {
    platform = await startVigil({
      host: PLATFORM_HOST,
      ...(platform === undefined ? {} : { dir: platform.dir }),
      config: { devices: { mtlsEnabled: true, mtlsPort: platform === undefined ? 0 : syncPort }, security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 } },
    });
    api = new ApiClient(platform.baseUrl, platform.caPem);
  };
  let syncPort = 0;

  before(async () => {
    await startPlatform();
    const p = platform;
    assert.ok(p !== undefined);
    assert.equal((await api.post('/api/v1/setup', { token: p.setupToken, ...ADMIN })).status, 201);
    const login = await api.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN);
    assert.equal(login.status, 200, login.text);
    api.csrfToken = login.body.csrfToken;
  });
  after(async () => {
    for (const r of roles) await r.stop();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('enrol with a one-time token, install the reader, locks locked, a card decided at the edge reaches the platform', async () => {
    const p = platform;
    assert.ok(p !== undefined);
    const token = await runVigil(['devices', 'token', 'ctl-1', '--kind', 'controller', '--config', p.configFile], { cwd: p.dir });
    assert.equal(token.code, 0, token.stderr);
    const tokenValue = /^(vgl-enrol-\S+)$/m.exec(token.stdout)?.[1];
    assert.ok(tokenValue !== undefined, token.stdout);

    reader = startVigilRole(['reader', '--simulate', '--listen', `${READER_HOST}:0`, '--install-mode', '--config', writeConfig('reader', {})]);
    roles.push(reader);
    const readerPort = Number(/listening on tcp:\S+:(\d+)$/.exec((await reader.waitForLine(/listening on tcp:/)).line)?.[1]);

    writeFileSync(path.join(dir, 'platform.pem'), p.caPem);
    writeConfigAt(ctlConfig, 'controller', {
      controller: {
        platform: `${PLATFORM_HOST}:${p.port}`,
        platformCaFile: path.join(dir, 'platform.pem'),
        syncIntervalSeconds: 1,
        reconnectMaxSeconds: 1,
        doors: [{ id: 'front', reader: `tcp:${READER_HOST}:${readerPort}`, lockOutput: 0, unlockSeconds: 3, maxOfflineMinutes: 60 }],
      },
    });
    // A wrong token is refused with the coded error, and nothing is stored.
    const bad = await runVigil(['controller', 'enrol', '--config', ctlConfig], { input: 'vgl-enrol-' + 'A'.repeat(43) + '\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /VIGIL_DEVICE_ENROLMENT_INVALID/);
    const enrol = await runVigil(['controller', 'enrol', '--config', ctlConfig], { input: `${tokenValue}\n` });
    assert.equal(enrol.code, 0, enrol.stderr + enrol.stdout);
    syncPort = Number(/device sync at \S+:(\d+)/.exec(enrol.stdout)?.[1]);
    assert.ok(syncPort > 0, enrol.stdout);
    assert.ok(!enrol.stdout.includes(tokenValue) && !enrol.stderr.includes(tokenValue), 'the token is never echoed');
    const again = await runVigil(['controller', 'enrol', '--config', ctlConfig], { input: `${tokenValue}\n` });
    assert.match(again.stderr, /VIGIL_EDGE_ALREADY_ENROLLED/);

    controller = startVigilRole(['controller', '--config', ctlConfig, '--install-readers']);
    roles.push(controller);
    await controller.waitForLine(/reader installed with its own Secure Channel key/);
    await reader.waitForLine(/new Secure Channel key installed/);
    await controller.waitForLine(/door front: reader online over the secure channel; lock output 0 set locked/);
    await reader.waitForLine(/^output 0: locked$/);
    await controller.waitForLine(/sync: online with the platform \(attested\)/);

    // A card at the reader: the controller decides (no credential of the platform covers it yet).
    const from = reader.output.length;
    const sent = performance.now();
    reader.send('card 90:324');
    const refused = await reader.waitForLine(/^led red$/, { from });
    const decided = await controller.waitForLine(/door front: denied/);
    assert.match(decided.line, /denied \((no credential set|unknown credential)\)/);
    console.log(`# card typed → red LED at the reader, through the controller: ${(refused.at - sent).toFixed(1)} ms`);
    const events = await waitEvents(1);
    assert.deepEqual(events.map((e) => [e.type, e.outcome, e.doorId]), [['access.denied', 'denied', 'front']]);
  });

  test('platform stopped: the controller keeps deciding and buffers; back: forwarded in order; controller restarted: the log survives and locks start locked', async () => {
    const p = platform;
    assert.ok(p !== undefined);
    await p.stop();
    await controller.waitForLine(/sync: platform unreachable/);
    const from = controller.output.length;
    for (const card of ['90:1', '90:2', '90:3']) {
      reader.send(`card ${card}`);
      await controller.waitForLine(/door front: denied/, { from: controller.output.length });
    }
    assert.equal(controller.output.slice(from).filter((l) => /door front: denied/.test(l)).length, 3, 'three offline decisions');

    // Restart the controller while the platform is down: the buffered decisions are on disk.
    assert.equal(await controller.stop(), 0);
    const journal = readFileSync(path.join(dir, 'controller-data', 'controller', 'events.journal'), 'utf8');
    assert.equal(journal.trim().split('\n').length, 1 + 3, 'head + three buffered events');
    assert.ok(!journal.includes('front') && !journal.includes('denied'), 'sealed on disk: no door, outcome or holder in clear');
    const readerFrom = reader.output.length;
    controller = startVigilRole(['controller', '--config', ctlConfig]);
    roles.push(controller);
    const reopened = await controller.waitForLine(/event log reopened at seq/);
    assert.match(reopened.line, /at seq 4 \(3 not yet forwarded\)/);
    await reader.waitForLine(/^output 0: locked$/, { from: readerFrom });
    reader.send('card 90:4');
    await controller.waitForLine(/door front: denied .* event seq 5/);

    await startPlatform();
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    await controller.waitForLine(/sync: events forwarded up to seq 5/, { timeoutMs: 30_000 });
    const events = await waitEvents(5);
    assert.deepEqual(events.map((e) => e.details['controllerSeq']), [1, 2, 3, 4, 5], 'in order, none lost, none twice');
    assert.ok(events.every((e) => e.type === 'access.denied' && e.doorId === 'front'));
    const alarms = await api.get<{ alarms: Array<{ type: string }> }>('/api/v1/alarms');
    assert.ok(!alarms.text.includes('device.events_tampered') && !alarms.text.includes('device.events_lost'), 'the chain continued across the restart: no gap, no tamper alarm');
  });

  function writeConfig(name: string, extra: Record<string, unknown>): string {
    const file = path.join(dir, `${name}.json`);
    writeConfigAt(file, name, extra);
    return file;
  }

  function writeConfigAt(file: string, name: string, extra: Record<string, unknown>): void {
    writeFileSync(file, JSON.stringify({ dataDir: path.join(dir, `${name}-data`), keyring: { kekFile: path.join(dir, `${name}-keyring`, 'kek.key') }, ...extra }, null, 2));
  }
});
