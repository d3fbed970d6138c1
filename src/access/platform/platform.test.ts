// The access platform's services with their real repositories on SQLite and PostgreSQL:
// CRUD with audit (ACS-5.2.1.12), the stored access event log (ACS-5.6.1.1), every door rule
// through the service, CSV import with bad rows, and PINs never at rest in clear.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describeOnEachStore } from '../../../test/helpers/stores.ts';
import { RecordingAlarmSink, RecordingAuditSink } from '../../audit/test-doubles.ts';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { Keyring } from '../../crypto/keyring.ts';
import type { RequestContext } from '../../identity/types.ts';
import { createAccessPlatform, type AccessPlatform } from './platform.ts';
import type { DoorView, ScheduleView, SiteView } from './site-service.ts';

/** Monday 2026-11-23 09:00 UTC. */
const T0 = Date.parse('2026-11-23T09:00:00Z');
const CTX: RequestContext = { sourceIp: '192.0.2.7', userAgent: 'test' };
const PIN = '482913';
const DURESS = '771155';

describeOnEachStore('access platform', (get, dialect) => {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-access-'));
  const clock = new ManualClock(T0);
  const audit = new RecordingAuditSink();
  const alarms = new RecordingAlarmSink();
  let keyring: Keyring | undefined;
  let p: AccessPlatform;
  let site: SiteView;
  let office: ScheduleView;
  let lobbyDoor: DoorView;
  let outside: string;
  let lobby: string;
  let n = 0;

  before(async () => {
    keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(root, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: get().store, clock });
    p = createAccessPlatform({ store: get().store, keys: keyring, audit, alarms, clock });
    site = await p.sites.createSite({ name: 'HQ', timezone: 'UTC' }, CTX);
    outside = (await p.sites.createArea(site.id, { name: 'Outside' }, CTX)).id;
    lobby = (await p.sites.createArea(site.id, { name: 'Lobby', antiPassback: 'hard' }, CTX)).id;
    office = await p.sites.createSchedule({ name: 'Office', intervals: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }], holidays: [{ date: '2026-12-25', name: 'Christmas', intervals: [] }] }, CTX);
    lobbyDoor = await p.sites.createDoor({ siteId: site.id, name: 'Lobby entry', lockOutput: 1, doorPositionInput: 1, rexInput: 2, areaFrom: outside, areaTo: lobby }, CTX);
  });
  after(async () => {
    p.doors.stop();
    await keyring?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A fresh holder with one card and a level on `doors` under `scheduleId`. */
  async function holder(doors: string[], o: { scheduleId?: string; override?: boolean; validUntil?: number } = {}): Promise<{ id: string; card: string; credentialId: string }> {
    n++;
    const h = await p.holders.createCardholder({ name: `Holder ${n}`, lockdownOverride: o.override ?? false, validUntil: o.validUntil ?? null }, CTX);
    const level = await p.holders.createLevel({ name: `Level ${n}`, scheduleId: o.scheduleId ?? office.id, doorIds: doors }, CTX);
    await p.holders.setLevels(h.id, [level.id], CTX);
    const card = String(10_000 + n);
    const c = await p.holders.createCredential({ cardholderId: h.id, cardFormat: 'h10301', cardNumber: card, pin: PIN, duressPin: DURESS }, CTX);
    return { id: h.id, card, credentialId: c.id };
  }
  const present = (doorId: string, card: string, pin?: string) => p.doors.present({ doorId, cardFormat: 'h10301', cardNumber: card, ...(pin === undefined ? {} : { pin }) });
  async function door(name: string, extra: Partial<Parameters<AccessPlatform['sites']['createDoor']>[0]> = {}): Promise<DoorView> {
    return p.sites.createDoor({ siteId: site.id, name, lockOutput: 3, doorPositionInput: 4, ...extra }, CTX);
  }

  test('a granted and a denied request are both stored as access events (ID, ISO 8601, source, category, type, outcome)', async () => {
    clock.set(T0);
    const h = await holder([lobbyDoor.id]);
    const granted = await present(lobbyDoor.id, h.card);
    const denied = await present(lobbyDoor.id, '99999999');
    assert.deepEqual([granted.granted, denied.granted, denied.reason], [true, false, 'unknown_credential']);
    const events = await p.doors.listEvents({ doorIds: [lobbyDoor.id], limit: 100 });
    const g = events.find((e) => e.id === granted.eventId);
    const d = events.find((e) => e.id === denied.eventId);
    assert.match(g?.id ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ts: g?.ts, source: g?.source, category: g?.category, type: g?.type, outcome: g?.outcome, holder: g?.cardholderId },
      { ts: '2026-11-23T09:00:00.000Z', source: `door:${lobbyDoor.id}`, category: 'access', type: 'access.granted', outcome: 'granted', holder: h.id },
    );
    assert.deepEqual([d?.type, d?.outcome, d?.reason, d?.cardholderId], ['access.denied', 'denied', 'unknown_credential', null]);
  });

  test('anti-passback hard: a second entry without leaving is denied; soft: granted with an alarm', async () => {
    clock.set(T0 + 60_000);
    const h = await holder([lobbyDoor.id]);
    assert.equal((await present(lobbyDoor.id, h.card)).granted, true);
    const again = await present(lobbyDoor.id, h.card);
    assert.deepEqual([again.granted, again.reason], [false, 'anti_passback']);
    const lobbyArea = (await p.sites.listAreas(site.id)).find((a) => a.id === lobby);
    assert.equal(lobbyArea?.antiPassback, 'hard');
    await p.sites.updateArea(lobby, { antiPassback: 'soft' }, CTX);
    const raisedBefore = alarms.raised.length;
    const soft = await present(lobbyDoor.id, h.card);
    assert.deepEqual([soft.granted, soft.reason], [true, 'granted_anti_passback_soft']);
    assert.deepEqual(alarms.raised.slice(raisedBefore).map((a) => [a.type, a.source]), [['access.anti_passback', `door:${lobbyDoor.id}`]]);
    await p.sites.updateArea(lobby, { antiPassback: 'hard' }, CTX);
    // Leaving through the exit door puts the holder outside again: entry allowed once more.
    const exit = await door('Lobby exit', { areaFrom: lobby, areaTo: outside });
    await p.holders.updateLevel((await p.holders.getCardholder(h.id)).levelIds[0] ?? '', { doorIds: [lobbyDoor.id, exit.id] }, CTX);
    assert.equal((await present(exit.id, h.card)).granted, true);
    assert.equal((await present(lobbyDoor.id, h.card)).granted, true);
  });

  test('interlock: door A is refused while door B of the mantrap is open', async () => {
    clock.set(T0 + 120_000);
    const a = await door('Trap A', { interlockGroup: 'trap-1' });
    const b = await door('Trap B', { interlockGroup: 'trap-1' });
    const h = await holder([a.id, b.id]);
    assert.equal((await present(b.id, h.card)).granted, true);
    await p.doors.doorInput(b.id, 'opened');
    const refused = await present(a.id, h.card);
    assert.deepEqual([refused.granted, refused.reason], [false, 'interlock']);
    await p.doors.doorInput(b.id, 'closed');
    assert.equal((await present(a.id, h.card)).granted, true);
  });

  test('forced open and held open raise alarms and access events; closing clears them', async () => {
    clock.set(T0 + 180_000);
    const d = await door('Store room', { heldOpenSeconds: 10 });
    const h = await holder([d.id]);
    const before = alarms.raised.length;
    await p.doors.doorInput(d.id, 'opened');
    assert.deepEqual(alarms.raised.slice(before).map((a) => [a.type, a.severity]), [['access.door_forced_open', 'critical']]);
    await p.doors.doorInput(d.id, 'closed');
    assert.ok(alarms.cleared.some((c) => c.dedupeKey === `access.door_forced_open|door:${d.id}`));
    // Granted, opened, then left open past 10 s.
    assert.equal((await present(d.id, h.card)).granted, true);
    clock.advance(2000);
    await p.doors.doorInput(d.id, 'opened');
    clock.advance(10_000);
    await p.doors.tick();
    assert.equal(alarms.raised.filter((a) => a.type === 'access.door_held_open').length, 0);
    clock.advance(1);
    await p.doors.tick();
    assert.equal(alarms.raised.filter((a) => a.type === 'access.door_held_open' && a.source === `door:${d.id}`).length, 1);
    assert.equal((await p.doors.status(d.id)).heldOpenAlarm, true);
    const types = (await p.doors.listEvents({ doorIds: [d.id], limit: 50 })).map((e) => e.type);
    for (const t of ['door.forced_open', 'door.held_open', 'access.granted']) assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
    await p.doors.doorInput(d.id, 'closed');
    assert.ok(alarms.cleared.some((c) => c.dedupeKey === `access.door_held_open|door:${d.id}`));
  });

  test('schedule and holiday: in hours granted; evening, Saturday and Christmas denied', async () => {
    const d = await door('Office');
    const h = await holder([d.id]);
    clock.set(Date.parse('2026-11-23T17:59:00Z'));
    assert.equal((await present(d.id, h.card)).reason, 'granted');
    clock.set(Date.parse('2026-11-23T18:00:00Z'));
    assert.equal((await present(d.id, h.card)).reason, 'outside_schedule');
    clock.set(Date.parse('2026-11-28T10:00:00Z'));
    assert.equal((await present(d.id, h.card)).reason, 'outside_schedule');
    clock.set(Date.parse('2026-12-25T10:00:00Z'));
    assert.equal((await present(d.id, h.card)).reason, 'outside_schedule');
    clock.set(Date.parse('2026-12-24T10:00:00Z'));
    assert.equal((await present(d.id, h.card)).reason, 'granted');
  });

  test('duress PIN: granted like the real PIN, with a critical alarm; wrong PIN denied', async () => {
    clock.set(T0 + 240_000);
    const d = await door('Vault', { mode: 'card_and_pin' });
    const h = await holder([d.id]);
    assert.equal((await present(d.id, h.card)).reason, 'pin_required');
    assert.equal((await present(d.id, h.card, '000000')).reason, 'pin_invalid');
    assert.equal((await present(d.id, h.card, PIN)).reason, 'granted');
    const before = alarms.raised.length;
    const duress = await present(d.id, h.card, DURESS);
    assert.deepEqual([duress.granted, duress.event.type], [true, 'access.granted']);
    assert.deepEqual(alarms.raised.slice(before).map((a) => [a.type, a.severity]), [['access.duress', 'critical']]);
    const stored = (await p.doors.listEvents({ doorIds: [d.id], limit: 50 })).find((e) => e.id === duress.eventId);
    assert.equal(stored?.reason, 'granted_duress');
    assert.ok(!JSON.stringify(stored).includes(DURESS));
  });

  test('lockdown: denies everyone but the authorised override; audited, evented, alarmed; lifted again', async () => {
    clock.set(T0 + 300_000);
    const d = await door('Main');
    const staff = await holder([d.id]);
    const guard = await holder([], { override: true });
    await p.sites.setLockdown(site.id, true, CTX);
    assert.equal((await present(d.id, staff.card)).reason, 'lockdown');
    const g = await present(d.id, guard.card);
    assert.deepEqual([g.granted, g.reason], [true, 'granted_lockdown_override']);
    assert.ok(alarms.raised.some((a) => a.type === 'access.lockdown' && a.source === `site:${site.id}`));
    assert.ok(audit.events.some((e) => e.action === 'access.lockdown.on' && e.target === `site:${site.id}` && e.source === '192.0.2.7'));
    await p.sites.setLockdown(site.id, false, CTX);
    assert.equal((await present(d.id, staff.card)).reason, 'granted');
    assert.ok(alarms.cleared.some((c) => c.dedupeKey === `access.lockdown|site:${site.id}`));
    const lockEvents = (await p.events.list({ limit: 500 })).filter((e) => e.category === 'lockdown').map((e) => e.type);
    assert.deepEqual(lockEvents.sort(), ['lockdown.off', 'lockdown.on']);
  });

  test('validity windows: an expired cardholder and a suspended credential are refused', async () => {
    clock.set(T0 + 360_000);
    const d = await door('Lab');
    const h = await holder([d.id], { validUntil: T0 + 400_000 });
    assert.equal((await present(d.id, h.card)).reason, 'granted');
    clock.set(T0 + 400_000);
    assert.equal((await present(d.id, h.card)).reason, 'cardholder_expired');
    const h2 = await holder([d.id]);
    await p.holders.updateCredential(h2.credentialId, { status: 'suspended' }, CTX);
    assert.equal((await present(d.id, h2.card)).reason, 'credential_suspended');
    await p.holders.updateCredential(h2.credentialId, { status: 'active', validFrom: T0 + 500_000 }, CTX);
    assert.equal((await present(d.id, h2.card)).reason, 'credential_not_yet_valid');
  });

  test('first-person-in: the unlock schedule starts only after the first grant of the day', async () => {
    clock.set(Date.parse('2026-11-24T08:30:00Z'));
    const d = await door('Reception', { unlockScheduleId: office.id, firstPersonIn: true });
    const h = await holder([d.id]);
    assert.equal((await p.doors.status(d.id)).unlocked, false);
    assert.equal((await present(d.id, h.card)).granted, true);
    clock.advance(3600_000);
    assert.equal((await p.doors.status(d.id)).unlocked, true);
    // While unlocked by schedule, an opening is not forced.
    const before = alarms.raised.length;
    await p.doors.doorInput(d.id, 'opened');
    await p.doors.doorInput(d.id, 'closed');
    assert.equal(alarms.raised.length, before);
    clock.set(Date.parse('2026-11-25T09:00:00Z'));
    assert.equal((await p.doors.status(d.id)).unlocked, false);
  });

  test('PINs are never stored in clear: only keyed MACs, and not in the database file', async () => {
    const h = await holder([lobbyDoor.id]);
    const row = await p.holders.repo.credential(h.credentialId);
    assert.match(row?.pin_hash ?? '', /^hmac-sha256\$[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(row?.pin_hash, row?.duress_pin_hash);
    const view = await p.holders.getCredential(h.credentialId);
    assert.deepEqual([view.hasPin, view.hasDuressPin], [true, true]);
    assert.ok(!JSON.stringify(view).includes('hmac'));
    assert.ok(!JSON.stringify(audit.events).includes(PIN) && !JSON.stringify(audit.events).includes(DURESS));
    if (dialect === 'sqlite') {
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(get().store.db);
      const files = readdirSync(get().dir).map((f) => path.join(get().dir, f));
      assert.ok(files.some((f) => f.endsWith('.db')));
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      assert.equal(bytes.includes(Buffer.from(PIN)), false, 'PIN in clear in the database files');
      assert.equal(bytes.includes(Buffer.from(DURESS)), false, 'duress PIN in clear in the database files');
      // Positive control: the search does find a value that is stored in clear.
      assert.equal(bytes.includes(Buffer.from(`${h.card}`)), true, 'the card number should be found');
    } else {
      const rows = await sql<{ n: string }>`select count(*) as n from access_credentials where pin_hash like ${'%' + PIN + '%'} or duress_pin_hash like ${'%' + DURESS + '%'}`.execute(get().store.db);
      assert.equal(Number(rows.rows[0]?.n), 0);
    }
  });

  test('every configuration change is audited with actor, source and target, and no personal data', async () => {
    const actions = new Set(audit.events.map((e) => e.action));
    for (const a of ['access.site.create', 'access.area.create', 'access.area.update', 'access.schedule.create', 'access.door.create', 'access.cardholder.create', 'access.cardholder.levels', 'access.credential.create', 'access.credential.update', 'access.level.create', 'access.level.update', 'access.lockdown.on', 'access.lockdown.off']) {
      assert.ok(actions.has(a), `audited: ${a}`);
    }
    assert.ok(audit.events.every((e) => e.category === 'access' && e.source === '192.0.2.7' && e.actor === 'system'));
    assert.ok(!JSON.stringify(audit.events).includes('Holder 1'), 'holder names stay out of the audit log');
    const before = audit.events.length;
    const s = await p.sites.createSchedule({ name: 'Temp', intervals: [] }, CTX);
    await p.sites.updateSchedule(s.id, { intervals: [{ days: [0], from: '00:00', to: '24:00' }] }, CTX);
    await p.sites.deleteSchedule(s.id, CTX);
    assert.deepEqual(audit.events.slice(before).map((e) => [e.action, e.target]), [['access.schedule.create', `schedule:${s.id}`], ['access.schedule.update', `schedule:${s.id}`], ['access.schedule.delete', `schedule:${s.id}`]]);
  });

  test('validation and referential rules: bad input refused, in-use things not deleted', async () => {
    const bad = async (f: () => Promise<unknown>, code: string): Promise<void> => {
      await assert.rejects(f, (e: unknown) => isVigilError(e) && e.code === code);
    };
    await bad(() => p.sites.createSite({ name: 'X', timezone: 'Mars/Olympus' }, CTX), 'VIGIL_VALIDATION');
    await bad(() => p.sites.createSchedule({ name: 'Bad', intervals: [{ days: [1], from: '18:00', to: '08:00' }] }, CTX), 'VIGIL_VALIDATION');
    await bad(() => p.sites.createSchedule({ name: 'Bad', intervals: [], holidays: [{ date: '2026-13-01', name: 'x', intervals: [] }] }, CTX), 'VIGIL_VALIDATION');
    await bad(() => p.sites.createDoor({ siteId: site.id, name: 'Loop', lockOutput: 1, areaFrom: lobby, areaTo: lobby }, CTX), 'VIGIL_VALIDATION');
    await bad(() => door('No schedule', { firstPersonIn: true }), 'VIGIL_VALIDATION');
    const h = await p.holders.createCardholder({ name: 'Pin Tester' }, CTX);
    await bad(() => p.holders.createCredential({ cardholderId: h.id, cardFormat: 'h10301', cardNumber: '5', pin: '12' }, CTX), 'VIGIL_VALIDATION');
    await bad(() => p.holders.createCredential({ cardholderId: h.id, cardFormat: 'h10301', cardNumber: '5', pin: '1357', duressPin: '1357' }, CTX), 'VIGIL_VALIDATION');
    await p.holders.createCredential({ cardholderId: h.id, cardFormat: 'h10301', cardNumber: '5' }, CTX);
    await bad(() => p.holders.createCredential({ cardholderId: h.id, cardFormat: 'h10301', cardNumber: '5' }, CTX), 'VIGIL_CONFLICT');
    await bad(() => p.sites.deleteSchedule(office.id, CTX), 'VIGIL_ACCESS_IN_USE');
    await bad(() => p.sites.deleteArea(lobby, CTX), 'VIGIL_ACCESS_IN_USE');
    await bad(() => p.sites.deleteSite(site.id, CTX), 'VIGIL_ACCESS_IN_USE');
    await bad(() => p.holders.setLevels(h.id, ['no-such-level'], CTX), 'VIGIL_VALIDATION');
  });

  test('CSV import: good rows imported, bad rows reported by line without echoing PINs, bounds enforced', async () => {
    const csv = [
      'name,card_format,card_number,pin,valid_from,valid_until,levels',
      'Ada Lovelace,h10301,700001,2468,2026-01-01T00:00:00Z,,Level 1',
      'Bad Pin,h10301,700002,12,,,',
      'Bad Format,wiegand99,700003,,,,',
      '"Quoted, Name",raw,700004,,,2027-01-01T00:00:00Z,',
      'Dup Card,h10301,700001,,,,',
      'No Level,h10301,700005,,,,Nope',
      'Bad Date,h10301,700006,,yesterday,,',
      'Too,few,fields',
      `Long ${'x'.repeat(1100)},h10301,700007,,,,`,
      'No Card,,,,,,',
      'Twice In File,raw,700004,,,,',
    ].join('\r\n');
    const report = await p.imports.run(csv, CTX);
    assert.deepEqual(report.rows.map((r) => [r.line, r.ok]), [[2, true], [3, false], [4, false], [5, true], [6, false], [7, false], [8, false], [9, false], [10, false], [11, true], [12, false]]);
    assert.deepEqual([report.imported, report.failed], [3, 8]);
    assert.match(report.rows[1]?.error ?? '', /^pin: 4 to 8 digits/);
    assert.match(report.rows[4]?.error ?? '', /twice in this file|already issued/);
    assert.match(report.rows[8]?.error ?? '', /line longer than 1024/);
    assert.match(report.rows[10]?.error ?? '', /twice|already issued/);
    assert.ok(!JSON.stringify(report).includes('2468'));
    const ada = await p.holders.getCardholder(report.rows[0]?.cardholderId ?? '');
    assert.deepEqual([ada.name, ada.validFrom, ada.levelIds.length], ['Ada Lovelace', Date.parse('2026-01-01T00:00:00Z'), 1]);
    assert.equal((await p.holders.getCardholder(report.rows[3]?.cardholderId ?? '')).name, 'Quoted, Name');
    const creds = await p.holders.listCredentials(ada.id);
    assert.deepEqual(creds.map((c) => [c.cardNumber, c.hasPin]), [['700001', true]]);
    assert.ok(audit.events.some((e) => e.action === 'access.import' && e.details?.['imported'] === 3 && e.details['failed'] === 8));
    const tooMany = ['name', ...Array.from({ length: 5001 }, (_, i) => `P${i}`)].join('\n');
    await assert.rejects(() => p.imports.run(tooMany, CTX), (e: unknown) => isVigilError(e, 'VIGIL_ACCESS_IMPORT_TOO_LARGE'));
    await assert.rejects(() => p.imports.run('name,password\nA,b', CTX), (e: unknown) => isVigilError(e, 'VIGIL_VALIDATION'));
  });
});
