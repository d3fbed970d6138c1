// The edge roles as real processes on loopback (issue #6): `vigil start` (platform, device sync
// over mTLS), `vigil controller` and `vigil reader --simulate`, each with its own data directory
// and device-bound key. Enrolment by one-time token (read from standard input), reader install
// (default key once, then a unique one, ACS-5.1.1.5), locks locked at start (ACS-5.4.1.2), a card
// decided at the controller and the event in the platform's access events (ACS-5.6.1.1); the
// platform stopped → the controller keeps deciding and buffers on disk; back → forwarded in order;
// the controller restarted → its buffered log survives, the chain continues, locks start locked
// (ACS-5.4.2.3). Issue #6: the door is the platform's, assigned to the controller; the platform
// publishes the controller's set from its model, so a card of the platform unlocks the door at the
// edge (measured card-to-unlock through the processes), expired / out-of-schedule / unknown cards
// are refused, and the door keeps deciding offline and across a controller restart.
// Card and PIN at the edge (issue #6): the door turned card-and-PIN; card then PIN at the
// simulated reader unlocks (measured card+PIN-to-unlock), a wrong PIN is refused, the duress PIN
// unlocks and reaches the platform as a duress event and alarm, a card alone is refused after the
// door's PIN time, and three wrong PINs lock the credential out of PIN entry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cardNumberOf } from '../../src/access/card-key.ts';
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
  /** The platform's door the controller drives (its ID names it in the controller's config). */
  let doorId = '';
  const doorLine = (what: string): RegExp => new RegExp(`door ${doorId}: ${what}`);

  const platformEvents = async (): Promise<AccessEventView[]> => {
    const r = await api.get<{ events: AccessEventView[] }>('/api/v1/access/events?limit=1000');
    assert.equal(r.status, 200, r.text);
    return r.body.events.filter((e) => e.source === 'controller:ctl-1').sort((a, b) => Number(a.details['controllerSeq']) - Number(b.details['controllerSeq']));
  };
  /** The platform's controller events once `done` holds for them (bounded: 20 s, 200 reads). */
  const eventsWhen = async (done: (events: AccessEventView[]) => boolean, what: string, timeoutMs = 20_000): Promise<AccessEventView[]> => {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
      const events = await platformEvents();
      if (done(events)) return events;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the platform did not get ${what}`);
  };
  const waitEvents = (count: number): Promise<AccessEventView[]> => eventsWhen((events) => events.length >= count, `${count} controller events`);
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

    // The platform's model: a site, a door assigned to the enrolling controller ctl-1.
    const site = await api.post<{ id: string }>('/api/v1/access/sites', { name: 'Edge site', timezone: 'UTC' });
    assert.equal(site.status, 201, site.text);
    const door = await api.post<{ id: string }>('/api/v1/access/doors', { siteId: site.body.id, name: 'Front', lockOutput: 0, unlockSeconds: 3 });
    assert.equal(door.status, 201, door.text);
    doorId = door.body.id;
    const notController = await api.request('PUT', `/api/v1/access/doors/${doorId}/controller`, { controllerId: 'no-such-device' });
    assert.equal(notController.status, 400, notController.text);
    const assigned = await api.request<{ controllerId: string }>('PUT', `/api/v1/access/doors/${doorId}/controller`, { controllerId: 'ctl-1' });
    assert.equal(assigned.status, 200, assigned.text);
    assert.equal(assigned.body.controllerId, 'ctl-1');

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
        doors: [{ id: doorId, reader: `tcp:${READER_HOST}:${readerPort}`, lockOutput: 0, unlockSeconds: 3, maxOfflineMinutes: 60, pinTimeoutSeconds: 3 }],
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
    await controller.waitForLine(doorLine('reader online over the secure channel; lock output 0 set locked'));
    await reader.waitForLine(/^output 0: locked$/);
    await controller.waitForLine(/sync: online with the platform \(attested\)/);

    // A card at the reader: the controller decides (no credential of the platform covers it yet).
    const from = reader.output.length;
    const sent = performance.now();
    reader.send('card 90:324');
    const refused = await reader.waitForLine(/^led red$/, { from });
    const decided = await controller.waitForLine(doorLine('denied'));
    assert.match(decided.line, /denied \((no credential set|unknown credential)\)/);
    console.log(`# card typed → red LED at the reader, through the controller: ${(refused.at - sent).toFixed(1)} ms`);
    const events = await waitEvents(1);
    assert.deepEqual(events.map((e) => [e.type, e.outcome, e.doorId]), [['access.denied', 'denied', doorId]]);
  });

  test('the platform publishes the set from its model: an authorised card unlocks the door at the edge; unknown, expired and out-of-schedule cards are refused', async () => {
    const now = Date.now();
    const day = (offset: number): string => new Date(now + offset * 86_400_000).toISOString().slice(0, 10);
    const always = await api.post<{ id: string }>('/api/v1/access/schedules', { name: 'Always', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }] });
    // Open every day but closed on holidays: yesterday, today and tomorrow (UTC) are holidays.
    const closed = await api.post<{ id: string }>('/api/v1/access/schedules', { name: 'Closed these days', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }], holidays: [-1, 0, 1].map((d) => ({ date: day(d), name: 'Closure', intervals: [] })) });
    assert.equal(closed.status, 201, closed.text);
    const staff = await api.post<{ id: string }>('/api/v1/access/levels', { name: 'Staff', scheduleId: always.body.id, doorIds: [doorId] });
    const closure = await api.post<{ id: string }>('/api/v1/access/levels', { name: 'Closure', scheduleId: closed.body.id, doorIds: [doorId] });
    const card = async (name: string, cn: number, levelId: string, validUntil: number | null): Promise<void> => {
      const h = await api.post<{ id: string }>('/api/v1/access/cardholders', { name });
      assert.equal(h.status, 201, h.text);
      assert.equal((await api.request('PUT', `/api/v1/access/cardholders/${h.body.id}/levels`, { levelIds: [levelId] })).status, 200);
      // card-key.ts: the platform's card number is the H10301 payload, facility 90 then card number.
      // validUntil omitted rather than null: the API's null-or-integer schema coerces null to 0.
      const c = await api.post('/api/v1/access/credentials', { cardholderId: h.body.id, cardFormat: 'h10301', cardNumber: cardNumberOf('h10301', 90, cn), ...(validUntil === null ? {} : { validUntil }) });
      assert.equal(c.status, 201, c.text);
    };
    const from = controller.output.length;
    await card('Alice', 324, staff.body.id, null);
    await card('Bob', 325, staff.body.id, now - 60_000);
    await card('Carol', 326, closure.body.id, null);
    // Bob's card is published with its window and refused at the edge as expired.
    await controller.waitForLine(/sync: credential set version \d+ \(3 credentials\)/, { from, timeoutMs: 20_000 });

    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const at = reader.output.length;
      // From before the card: a sync line may follow the decision's line before the wait starts.
      const ctlAt = controller.output.length;
      const sent = performance.now();
      reader.send('card 90:324');
      const unlocked = await reader.waitForLine(/^output 0: unlocked for 3\.0 s$/, { from: at });
      latencies.push(unlocked.at - sent);
      await reader.waitForLine(/^led green$/, { from: at });
      await controller.waitForLine(doorLine('granted'), { from: ctlAt });
    }
    latencies.sort((a, b) => a - b);
    console.log(`# card typed → "unlocked for 3.0 s" at the reader, through the controller (10 reads): min ${latencies[0]?.toFixed(1)} ms, median ${latencies[5]?.toFixed(1)} ms, max ${latencies[9]?.toFixed(1)} ms`);

    for (const [cn, reason] of [[325, 'expired'], [326, 'outside schedule'], [999, 'unknown credential']] as const) {
      const at = reader.output.length;
      const ctlAt = controller.output.length;
      reader.send(`card 90:${cn}`);
      await reader.waitForLine(/^led red$/, { from: at });
      const line = await controller.waitForLine(doorLine('denied'), { from: ctlAt });
      assert.match(line.line, new RegExp(`denied \\(${reason}\\)`));
      assert.ok(!reader.output.slice(at).some((l) => l.startsWith('output 0: unlocked')), `card 90:${cn} did not unlock`);
    }
    const events = await waitEvents(14);
    assert.deepEqual(events.map((e) => e.outcome), ['denied', ...Array<string>(10).fill('granted'), 'denied', 'denied', 'denied']);
    assert.ok(events.filter((e) => e.outcome === 'granted').every((e) => e.doorId === doorId));
  });

  test('platform stopped: the controller keeps deciding and buffers; back: forwarded in order; controller restarted: the log survives and locks start locked', async () => {
    const p = platform;
    assert.ok(p !== undefined);
    await p.stop();
    await controller.waitForLine(/sync: platform unreachable/);
    const from = controller.output.length;
    for (const card of ['90:1', '90:2', '90:3']) {
      reader.send(`card ${card}`);
      await controller.waitForLine(doorLine('denied'), { from: controller.output.length });
    }
    assert.equal(controller.output.slice(from).filter((l) => doorLine('denied').test(l)).length, 3, 'three offline decisions');
    // The authorised card keeps opening the door while the platform is away.
    let at = reader.output.length;
    reader.send('card 90:324');
    await reader.waitForLine(/^output 0: unlocked for 3\.0 s$/, { from: at });

    // Restart the controller while the platform is down: the buffered decisions are on disk.
    assert.equal(await controller.stop(), 0);
    const journal = readFileSync(path.join(dir, 'controller-data', 'controller', 'events.journal'), 'utf8');
    assert.equal(journal.trim().split('\n').length, 1 + 4, 'head + four buffered events');
    assert.ok(!journal.includes(doorId) && !journal.includes('denied') && !journal.includes('granted'), 'sealed on disk: no door, outcome or holder in clear');
    const readerFrom = reader.output.length;
    controller = startVigilRole(['controller', '--config', ctlConfig]);
    roles.push(controller);
    const reopened = await controller.waitForLine(/event log reopened at seq/);
    assert.match(reopened.line, /at seq 18 \(4 not yet forwarded\); credential set version \d+ \(3 credentials\)/);
    await reader.waitForLine(/^output 0: locked$/, { from: readerFrom });
    reader.send('card 90:4');
    await controller.waitForLine(doorLine('denied .* event seq 19'));
    // Restarted without the platform: the restored set still opens the door for Alice.
    at = reader.output.length;
    reader.send('card 90:324');
    await reader.waitForLine(/^output 0: unlocked for 3\.0 s$/, { from: at });
    await controller.waitForLine(doorLine('granted .* event seq 20'));

    await startPlatform();
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    await controller.waitForLine(/sync: events forwarded up to seq 20/, { timeoutMs: 30_000 });
    const events = await waitEvents(20);
    assert.deepEqual(events.map((e) => e.details['controllerSeq']), Array.from({ length: 20 }, (_, i) => i + 1), 'in order, none lost, none twice');
    assert.ok(events.every((e) => e.doorId === doorId));
    assert.deepEqual(events.slice(14).map((e) => e.outcome), ['denied', 'denied', 'denied', 'granted', 'denied', 'granted']);
    const alarms = await api.get<{ alarms: Array<{ type: string }> }>('/api/v1/alarms');
    assert.ok(!alarms.text.includes('device.events_tampered') && !alarms.text.includes('device.events_lost'), 'the chain continued across the restart: no gap, no tamper alarm');
  });

  test('card-and-PIN door decided at the edge: card then PIN unlocks, a wrong PIN is refused, the duress PIN unlocks and alarms the platform, a card alone times out, three wrong PINs lock out', async () => {
    const mode = await api.request<{ mode: string }>('PATCH', `/api/v1/access/doors/${doorId}`, { mode: 'card_and_pin' });
    assert.equal(mode.status, 200, mode.text);
    const always = await api.post<{ id: string }>('/api/v1/access/schedules', { name: 'PIN hours', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }] });
    const level = await api.post<{ id: string }>('/api/v1/access/levels', { name: 'PIN staff', scheduleId: always.body.id, doorIds: [doorId] });
    assert.equal(level.status, 201, level.text);
    const h = await api.post<{ id: string }>('/api/v1/access/cardholders', { name: 'Dave' });
    assert.equal((await api.request('PUT', `/api/v1/access/cardholders/${h.body.id}/levels`, { levelIds: [level.body.id] })).status, 200);
    const from = controller.output.length;
    const c = await api.post<Record<string, unknown>>('/api/v1/access/credentials', { cardholderId: h.body.id, cardFormat: 'h10301', cardNumber: cardNumberOf('h10301', 90, 400), pin: '4826', duressPin: '7391' });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body['hasPin'], true);
    assert.ok(!c.text.includes('pbkdf2') && !c.text.includes('4826') && !c.text.includes('7391'), 'neither the PIN nor a verifier is returned');
    await controller.waitForLine(/sync: credential set version \d+ \(4 credentials\)/, { from, timeoutMs: 20_000 });

    /** Card, amber LED, then the PIN; resolves on the reader's unlock or red LED. */
    const cardAndPin = async (pin: string | null): Promise<{ unlocked: boolean; cardToOutcome: number; pinToOutcome: number; controllerLine: string }> => {
      const at = reader.output.length;
      const ctlAt = controller.output.length;
      const cardAt = performance.now();
      reader.send('card 90:400');
      await reader.waitForLine(/^led amber$/, { from: at });
      const pinAt = performance.now();
      if (pin !== null) reader.send(`pin ${pin}`);
      const outcome = await reader.waitForLine(/^output 0: unlocked for 3\.0 s$|^led red$/, { from: at, timeoutMs: 10_000 });
      const line = await controller.waitForLine(doorLine('(granted|denied)'), { from: ctlAt });
      return { unlocked: outcome.line.startsWith('output 0: unlocked'), cardToOutcome: outcome.at - cardAt, pinToOutcome: outcome.at - pinAt, controllerLine: line.line };
    };

    const cardToUnlock: number[] = [];
    const pinToUnlock: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ok = await cardAndPin('4826');
      assert.ok(ok.unlocked, ok.controllerLine);
      assert.match(ok.controllerLine, /granted \(.+\) with PIN/);
      cardToUnlock.push(ok.cardToOutcome);
      pinToUnlock.push(ok.pinToOutcome);
    }
    cardToUnlock.sort((a, b) => a - b);
    pinToUnlock.sort((a, b) => a - b);
    console.log(`# card + PIN at the reader → "unlocked", through the controller (5 entries, PBKDF2 100,000 iterations ×2 per PIN): card→unlock median ${cardToUnlock[2]?.toFixed(1)} ms (min ${cardToUnlock[0]?.toFixed(1)}, max ${cardToUnlock[4]?.toFixed(1)}); PIN typed→unlock median ${pinToUnlock[2]?.toFixed(1)} ms (min ${pinToUnlock[0]?.toFixed(1)}, max ${pinToUnlock[4]?.toFixed(1)})`);

    const wrong = await cardAndPin('1111');
    assert.ok(!wrong.unlocked);
    assert.match(wrong.controllerLine, /denied \(wrong pin\) with PIN/);

    const duress = await cardAndPin('7391');
    assert.ok(duress.unlocked, 'the duress PIN opens the door like the real one');
    assert.match(duress.controllerLine, /granted \(.+, duress\) with PIN/);
    await controller.waitForLine(/alarm critical access\.duress/, { from: controller.output.length - 5 });

    const alone = await cardAndPin(null);
    assert.ok(!alone.unlocked);
    assert.match(alone.controllerLine, /denied \(pin required\)/);
    assert.ok(alone.cardToOutcome >= 2900, `a card alone is refused after the door's PIN time (3 s), not before: ${alone.cardToOutcome.toFixed(0)} ms`);

    // Three wrong PINs in a row (the one above was reset by the grants): locked out, then even the right PIN is refused.
    for (const pin of ['0000', '1212', '3434']) assert.match((await cardAndPin(pin)).controllerLine, /denied \(wrong pin\)/);
    await controller.waitForLine(/alarm warning access\.pin_lockout/, { from: controller.output.length - 5 });
    const locked = await cardAndPin('4826');
    assert.ok(!locked.unlocked);
    assert.match(locked.controllerLine, /denied \(pin locked out\)/);

    // Forwarded: the platform's access events show the duress grant; its alarms the duress alarm.
    const events = await eventsWhen((all) => all.some((e) => e.reason === 'pin locked out'), 'the PIN lockout event');
    const reasons = events.slice(20).map((e) => `${e.outcome}:${e.reason}`);
    assert.deepEqual(reasons, [
      ...Array<string>(5).fill('granted:valid credential'), 'denied:wrong pin', 'granted:duress', 'denied:pin required',
      'denied:wrong pin', 'denied:wrong pin', 'denied:wrong pin', 'info:3 wrong PINs: PIN entry locked for 300 s', 'denied:pin locked out',
    ]);
    const alarms = await api.get<{ alarms: Array<{ type: string; severity: string }> }>('/api/v1/alarms');
    assert.ok(alarms.body.alarms.some((a) => a.type === 'access.duress' && a.severity === 'critical'), alarms.text);
    const log = readFileSync(path.join(dir, 'controller-data', 'controller', 'events.journal'), 'utf8');
    assert.ok(!log.includes('4826') && !log.includes('7391') && !controller.output.some((l) => /4826|7391/.test(l)), 'no PIN in the controller log or journal');
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
