// Door → controller assignment and credential-set publication with the real repositories on
// SQLite and PostgreSQL (issue #6): only an enrolled controller of the device registry can be
// assigned, every assignment is audited (ACS-5.2.1.12), the set compiled from the database
// covers exactly the controller's doors, and changes are published as deltas, coalesced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeOnEachStore } from '../../../test/helpers/stores.ts';
import { RecordingAlarmSink, RecordingAuditSink } from '../../audit/test-doubles.ts';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { DeviceRepository } from '../../device/device-repository.ts';
import type { RequestContext } from '../../identity/types.ts';
import { cardNumberOf } from '../card-key.ts';
import { PublishedCredentialSets } from '../controller/sync-source.ts';
import { EDGE_PIN_ITERATIONS, parseEdgePinVerifier, verifyEdgePin } from '../edge-pin.ts';
import { createAccessPlatform, type AccessPlatform } from './platform.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const CTX: RequestContext = { sourceIp: '192.0.2.7', userAgent: 'test' };

describeOnEachStore('credential-set publication', (get) => {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-publish-'));
  const clock = new ManualClock(T0);
  const audit = new RecordingAuditSink();
  const sets = new PublishedCredentialSets(clock);
  let keyring: Keyring | undefined;
  let p: AccessPlatform;

  before(async () => {
    keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(root, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: get().store, clock });
    p = createAccessPlatform({ store: get().store, keys: keyring, audit, alarms: new RecordingAlarmSink(), clock, credentialSets: sets });
    const devices = new DeviceRepository(get().store);
    await devices.upsertPending('ctl-a', 'controller', T0);
    await devices.upsertPending('cam-1', 'camera', T0);
  });
  after(async () => {
    p.publisher?.close();
    await keyring?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a door is assigned to a door controller of the registry only, audited; the set covers its doors, with schedules and windows; changes follow as deltas', async () => {
    const site = await p.sites.createSite({ name: 'Plant', timezone: 'Asia/Taipei' }, CTX);
    const always = await p.sites.createSchedule({ name: 'Always', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }] }, CTX);
    const front = await p.sites.createDoor({ siteId: site.id, name: 'Front', lockOutput: 0 }, CTX);
    const lab = await p.sites.createDoor({ siteId: site.id, name: 'Lab', lockOutput: 1, mode: 'card_and_pin' }, CTX);
    const elsewhere = await p.sites.createDoor({ siteId: site.id, name: 'Elsewhere', lockOutput: 2 }, CTX);

    for (const bad of ['cam-1', 'nobody']) {
      await assert.rejects(p.sites.setDoorController(front.id, bad, CTX), (e) => isVigilError(e, 'VIGIL_VALIDATION'));
    }
    assert.deepEqual(await p.sites.setDoorController(front.id, 'ctl-a', CTX), { doorId: front.id, controllerId: 'ctl-a' });
    await p.sites.setDoorController(lab.id, 'ctl-a', CTX);
    const record = audit.events.find((r) => r.action === 'access.door.controller.set' && r.target === `door:${front.id}`);
    assert.ok(record !== undefined, 'the assignment is audited');
    assert.equal(record.details?.['controller'], 'ctl-a');

    const level = await p.holders.createLevel({ name: 'Staff', scheduleId: always.id, doorIds: [front.id, elsewhere.id] }, CTX);
    const alice = await p.holders.createCardholder({ name: 'Alice', validUntil: T0 + 86_400_000 }, CTX);
    await p.holders.setLevels(alice.id, [level.id], CTX);
    await p.holders.createCredential({ cardholderId: alice.id, cardFormat: 'h10301', cardNumber: cardNumberOf('h10301', 90, 324), validFrom: T0 - 1000 }, CTX);
    const bob = await p.holders.createCardholder({ name: 'Bob' }, CTX);
    await p.holders.createCredential({ cardholderId: bob.id, cardFormat: 'h10301', cardNumber: cardNumberOf('h10301', 90, 325) }, CTX);

    await p.publisher?.settled();
    const full = await sets.changesSince('ctl-a', 0);
    assert.ok(full !== null);
    assert.equal(full.baseVersion, null);
    // Bob has no level on the controller's doors: not published. Alice: the front door only.
    assert.deepEqual(full.upserts, [{ key: 'h10301:90:324', holderId: alice.id, doors: [front.id], notBefore: T0 - 1000, notAfter: T0 + 86_400_000, schedules: { [front.id]: [always.id] } }]);
    assert.deepEqual(full.doors?.map((d) => [d.id, d.mode, d.timezone, d.lockdown]).sort(), [[front.id, 'card', 'Asia/Taipei', false], [lab.id, 'card_and_pin', 'Asia/Taipei', false]].sort());
    assert.deepEqual(full.schedules?.map((s) => s.id), [always.id]);

    // Several changes in a row: one publication, a delta on the version held.
    await p.sites.setLockdown(site.id, true, CTX);
    await p.holders.updateCardholder(alice.id, { status: 'suspended' }, CTX);
    await p.publisher?.settled();
    const delta = await sets.changesSince('ctl-a', full.version);
    assert.ok(delta !== null);
    assert.equal(delta.baseVersion, full.version);
    assert.deepEqual(delta.removals, ['h10301:90:324']);
    assert.ok(delta.doors?.every((d) => d.lockdown));

    // Unassigning the last door publishes an empty set: the controller then opens nothing.
    await p.sites.setDoorController(front.id, null, CTX);
    await p.sites.setDoorController(lab.id, null, CTX);
    await p.publisher?.settled();
    const empty = await sets.changesSince('ctl-a', 0);
    assert.deepEqual([empty?.upserts.length, empty?.doors?.length], [0, 0]);
    assert.ok(audit.events.some((r) => r.action === 'access.door.controller.clear' && r.target === `door:${lab.id}`));
  });

  test('issue #6: edge PIN verifiers are derived when a PIN is set, sealed at rest, published (never the MAC), replaced on change, removed on clear; PINs set before them are counted', async () => {
    const site = await p.sites.createSite({ name: 'Vault site', timezone: 'UTC' }, CTX);
    const always = await p.sites.createSchedule({ name: 'Vault hours', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }] }, CTX);
    const vault = await p.sites.createDoor({ siteId: site.id, name: 'Vault', lockOutput: 0, mode: 'card_and_pin' }, CTX);
    await p.sites.setDoorController(vault.id, 'ctl-a', CTX);
    const level = await p.holders.createLevel({ name: 'Vault staff', scheduleId: always.id, doorIds: [vault.id] }, CTX);
    const carol = await p.holders.createCardholder({ name: 'Carol' }, CTX);
    await p.holders.setLevels(carol.id, [level.id], CTX);
    const cred = await p.holders.createCredential({ cardholderId: carol.id, cardFormat: 'h10301', cardNumber: cardNumberOf('h10301', 90, 500), pin: '2468', duressPin: '1357' }, CTX);
    assert.ok(!JSON.stringify(cred).includes('pbkdf2') && !JSON.stringify(audit.events).includes('2468'), 'no verifier in the API view, no PIN in the audit log');

    // At rest: sealed (no scheme, no salt in clear), bound to its row and kind.
    const row = await p.holders.repo.credential(cred.id);
    assert.ok(row?.pin_edge_verifier !== null && row?.pin_edge_verifier !== undefined && row.duress_pin_edge_verifier !== null);
    assert.ok(!Buffer.from(row.pin_edge_verifier, 'base64').toString('latin1').includes('pbkdf2'), 'sealed, not in clear');
    await assert.rejects(keyring?.open('access.pin.edge', Buffer.from(row.pin_edge_verifier, 'base64'), `access_credentials:${cred.id}:duress`) ?? Promise.reject(new Error('no keyring')), 'a PIN verifier does not open as the duress one');

    await p.publisher?.settled();
    const entryOf = async (): Promise<{ pinVerifier?: string; duressVerifier?: string; pinNotAtEdge?: boolean } | undefined> => (await sets.changesSince('ctl-a', 0))?.upserts.find((e) => e.key === 'h10301:90:500');
    const first = await entryOf();
    assert.ok(first !== undefined);
    assert.ok(!JSON.stringify(first).includes('hmac-sha256'), 'never the platform MAC');
    const pin = parseEdgePinVerifier(first.pinVerifier);
    const duress = parseEdgePinVerifier(first.duressVerifier);
    assert.ok(pin !== undefined && duress !== undefined);
    assert.equal(pin.iterations, EDGE_PIN_ITERATIONS);
    assert.ok(EDGE_PIN_ITERATIONS >= 100_000);
    assert.notDeepEqual(pin.salt, duress.salt, 'a salt per verifier');
    assert.deepEqual([await verifyEdgePin(pin, '2468'), await verifyEdgePin(pin, '1357'), await verifyEdgePin(duress, '1357')], [true, false, true]);

    // Changed: a new verifier (new salt) for the new PIN only; cleared: gone from the row and the set.
    await p.holders.updateCredential(cred.id, { pin: '8642' }, CTX);
    await p.publisher?.settled();
    const changed = await entryOf();
    const newPin = parseEdgePinVerifier(changed?.pinVerifier);
    assert.ok(newPin !== undefined);
    assert.deepEqual([await verifyEdgePin(newPin, '8642'), await verifyEdgePin(newPin, '2468')], [true, false]);
    assert.equal(changed?.duressVerifier, first.duressVerifier, 'the duress verifier is untouched');
    await p.holders.updateCredential(cred.id, { duressPin: null }, CTX);
    await p.publisher?.settled();
    assert.equal((await p.holders.repo.credential(cred.id))?.duress_pin_edge_verifier, null);
    assert.equal((await entryOf())?.duressVerifier, undefined);

    // A PIN set before migration 012 (MAC, no verifier): marked, no verifier, and counted.
    await p.holders.repo.updateCredential(cred.id, { pin_edge_verifier: null });
    const results = await p.publisher?.publishAll();
    assert.deepEqual((await entryOf())?.pinNotAtEdge, true);
    assert.equal(results?.find((r) => r.controllerId === 'ctl-a')?.pinsNotAtEdge, 1);
    await p.holders.updateCredential(cred.id, { pin: '8642' }, CTX);
    assert.equal((await p.publisher?.publishAll())?.find((r) => r.controllerId === 'ctl-a')?.pinsNotAtEdge, 0, 'setting the PIN again derives its verifier');
  });
});
