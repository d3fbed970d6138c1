// Platform → controller sync over mTLS, end to end on loopback (design §6, issue 6 acceptance):
// enrol a controller, sync its signed set, decide; kill the platform's listener → the controller
// keeps deciding (ACS-5.4.2.3) and buffers; bring it back → the buffered events arrive in order,
// none lost, chain verified. Refusals: revoked certificate and a certificate of another CA
// (ACS-5.1.1.4), a wrong software measurement (ACS-5.1.1.6: untrusted, alarm, no set).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ManualClock, systemClock } from '../../src/core/clock.ts';
import { waitFor } from '../../src/audit/test-doubles.ts';
import { GENESIS } from '../../src/access/edge-event-log.ts';
import type { CredentialEntry } from '../../src/access/controller/credential-set.ts';
import { EdgeController } from '../../src/access/controller/edge-controller.ts';
import { ControllerSyncClient } from '../../src/access/controller/sync-client.ts';
import { ControllerEventIngest, edgeEventHash } from '../../src/access/controller/sync-events.ts';
import { measureControllerSoftware } from '../../src/access/controller/sync-measurement.ts';
import { ControllerSyncServer } from '../../src/access/controller/sync-server.ts';
import { PublishedCredentialSets } from '../../src/access/controller/sync-source.ts';
import { DeviceEventRepository } from '../../src/device/device-event-repository.ts';
import { ADMIN, enrolNewDevice, openDeviceKit, tempKekDir, type DeviceKit } from '../../src/device/device-test-kit.ts';
import { createTestStore, describeOnEachStore, type TestStore } from '../helpers/stores.ts';
import { seededRandom } from '../../src/core/random.ts';

const HOUR = 3_600_000;
const kekDirs: string[] = [];
after(() => {
  for (const d of kekDirs) rmSync(d, { recursive: true, force: true });
});

interface Platform {
  kit: DeviceKit;
  source: PublishedCredentialSets;
  measurement: string;
  server: ControllerSyncServer | undefined;
  start(port?: number): Promise<ControllerSyncServer>;
}

async function platformOn(store: TestStore): Promise<Platform> {
  const dir = tempKekDir();
  kekDirs.push(dir);
  const kit = await openDeviceKit(store.store, systemClock, dir);
  const source = new PublishedCredentialSets(systemClock);
  const measurement = await measureControllerSoftware();
  const events = new ControllerEventIngest({ repository: new DeviceEventRepository(store.store), audit: kit.audit, alarms: kit.alarms, clock: systemClock });
  const p: Platform = {
    kit,
    source,
    measurement,
    server: undefined,
    start: async (port = 0) => {
      p.server = await ControllerSyncServer.start({
        host: '127.0.0.1',
        port,
        hostnames: ['localhost'],
        ca: kit.ca,
        registry: kit.registry,
        events,
        source,
        signer: kit.signer,
        allowedMeasurements: [measurement],
        clock: systemClock,
        idleTimeoutMs: 10_000,
        handshakeTimeoutMs: 5_000,
      });
      return p.server;
    },
  };
  return p;
}

function card(n: number, doors: string[], now: number): CredentialEntry {
  return { key: `h10301:90:${n}`, holderId: `holder-${n}`, doors, notBefore: now - HOUR, notAfter: now + 48 * HOUR };
}

function controllerFor(id: string, platformKeyPem: string, clock: ManualClock): EdgeController {
  return new EdgeController({ controllerId: id, platformKeyPem, storageKey: randomBytes(32), clock, doors: { front: { maxOfflineMs: 4 * HOUR }, vault: { maxOfflineMs: 0 } } });
}

function clientFor(p: Platform, port: number, enrolled: { deviceId: string; certPem: string; keyPem: string; caCertPem: string }, controller: EdgeController, measurement = p.measurement): ControllerSyncClient {
  return new ControllerSyncClient({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    controllerId: enrolled.deviceId,
    certPem: enrolled.certPem,
    keyPem: enrolled.keyPem,
    caPem: enrolled.caCertPem,
    controller,
    measurement,
    intervalMs: 50,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    requestTimeoutMs: 5_000,
    random: seededRandom(6),
  });
}

describeOnEachStore('controller sync over mTLS', (get) => {
  let platform: Platform | undefined;
  const clients: ControllerSyncClient[] = [];
  const platformOf = async (): Promise<Platform> => (platform ??= await platformOn(get()));
  after(async () => {
    for (const c of clients) await c.stop();
    await platform?.server?.close();
    await platform?.kit.keyring.close();
  });

  test('ACS-5.4.2.3: enrol, sync a full set and deltas, decide; offline the controller keeps deciding and buffers; back online the events arrive in order, none lost, chain verified', async () => {
    const p = await platformOf();
    const enrolled = await enrolNewDevice(p.kit, 'ctl-1');
    const now = Date.now();
    const v1 = p.source.publish('ctl-1', [card(1, ['front', 'vault'], now), card(2, ['front'], now)]);
    const server = await p.start();
    const port = server.port;
    const ctlClock = new ManualClock(now);
    const controller = controllerFor('ctl-1', enrolled.platformKeyPem, ctlClock);
    const client = clientFor(p, port, enrolled, controller);
    clients.push(client);
    client.start();

    await waitFor(() => controller.version === v1, 'the full set');
    assert.equal(controller.credentials, 2);
    assert.equal((await p.kit.registry.get('ctl-1'))?.trust, 'trusted', 'ACS-5.1.1.6: attested');
    assert.equal(controller.decide('h10301:90:1', 'front').granted, true);
    assert.equal(controller.decide('h10301:90:9', 'front').granted, false);

    // A change on the platform reaches the controller as a delta.
    const v2 = p.source.publish('ctl-1', [card(1, ['front', 'vault'], now), card(3, ['front'], now)]);
    await waitFor(() => controller.version === v2, 'the delta');
    assert.equal(controller.decide('h10301:90:3', 'front').granted, true);
    assert.equal(controller.decide('h10301:90:2', 'front').granted, false, 'removed by the delta');
    await waitFor(() => controller.log.stored.length === 0, 'online events acknowledged');

    // Kill the platform's listener: the controller notices and keeps deciding offline.
    await server.close();
    await waitFor(() => !client.status.online, 'the controller sees the platform gone');
    ctlClock.advance(HOUR);
    assert.equal(controller.decide('h10301:90:1', 'front').granted, true, 'front: 4 h offline allowed');
    assert.deepEqual(controller.decide('h10301:90:1', 'vault'), { granted: false, reason: 'offline too long', holderId: null });
    assert.equal(controller.decide('h10301:90:3', 'front').granted, true);
    assert.equal(controller.decide('h10301:90:7', 'front').granted, false);
    await new Promise((r) => setTimeout(r, 300)); // a few reconnect attempts fail meanwhile
    assert.equal(controller.log.stored.length, 4, 'buffered, nothing forgotten');
    assert.notEqual(client.status.lastError, null);

    // Bring the listener back on the same port: the buffered events arrive.
    await p.start(port);
    await waitFor(() => client.status.online && controller.log.stored.length === 0, 'the buffered events delivered and acknowledged', 15_000);
    const rows = await new DeviceEventRepository(get().store).list('ctl-1', 1000);
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), 'in order, no gap');
    assert.equal(rows.length, 8);
    assert.deepEqual(rows.slice(-4).map((r) => `${r.type}:${r.door_id}:${r.reason}`), [
      'access.granted:front:valid credential',
      'access.denied:vault:offline too long',
      'access.granted:front:valid credential',
      'access.denied:front:unknown credential',
    ]);
    let prev = GENESIS;
    for (const r of rows) {
      assert.equal(r.prev_hash, prev, `event ${r.seq} links to the one before`);
      assert.equal(edgeEventHash(prev, { seq: r.seq, at: r.ts, type: r.type, doorId: r.door_id, subject: r.subject, reason: r.reason }), r.hash, `event ${r.seq} verifies`);
      prev = r.hash;
    }
    assert.ok(!p.kit.alarms.raised.some((a) => a.type.startsWith('device.events')), 'no gap or tamper alarm');
  });

  test('ACS-5.1.1.4: a revoked device certificate is refused at the identity check and gets no set', async () => {
    const p = await platformOf();
    const server = p.server ?? (await p.start());
    const enrolled = await enrolNewDevice(p.kit, 'ctl-2');
    p.source.publish('ctl-2', [card(1, ['front'], Date.now())]);
    await p.kit.registry.revoke('ctl-2', 'stolen', ADMIN);
    const controller = controllerFor('ctl-2', enrolled.platformKeyPem, new ManualClock(Date.now()));
    const client = clientFor(p, server.port, enrolled, controller);
    clients.push(client);
    client.start();
    await waitFor(() => client.status.lastError === 'VIGIL_DEVICE_REFUSED', 'the refusal');
    await client.stop();
    assert.equal(controller.version, 0);
    assert.equal(client.status.rounds, 0);
    assert.ok(p.kit.audit.events.some((e) => e.action === 'device.connect' && e.target === 'device:ctl-2' && e.details?.['reason'] === 'certificate revoked'));
  });

  test('ACS-5.1.1.4: a certificate from another CA is refused in the TLS handshake', async () => {
    const p = await platformOf();
    const server = p.server ?? (await p.start());
    await enrolNewDevice(p.kit, 'ctl-4');
    p.source.publish('ctl-4', [card(1, ['front'], Date.now())]);
    const otherStore = await createTestStore('sqlite');
    const otherKek = tempKekDir();
    kekDirs.push(otherKek);
    try {
      const other = await openDeviceKit(otherStore.store, systemClock, otherKek);
      // Same device id, valid key and chain — but of a foreign CA. The controller trusts our CA.
      const foreign = await enrolNewDevice(other, 'ctl-4');
      await other.keyring.close();
      const controller = controllerFor('ctl-4', p.kit.signer.publicKeyPem, new ManualClock(Date.now()));
      const client = clientFor(p, server.port, { ...foreign, caCertPem: p.kit.ca.certPem }, controller);
      client.start();
      await waitFor(() => client.status.lastError !== null, 'the handshake failure');
      await client.stop();
      assert.equal(client.status.lastError, 'VIGIL_DEVICE_UNREACHABLE', 'cut off in TLS, before any message');
      assert.equal(client.status.rounds, 0);
      assert.equal(controller.version, 0);
      assert.notEqual((await p.kit.registry.get('ctl-4'))?.trust, 'trusted', 'never reached attestation');
    } finally {
      await otherStore.dispose();
    }
  });

  test('ACS-5.1.1.6: a wrong software measurement → device untrusted, alarm raised, no credential set', async () => {
    const p = await platformOf();
    const server = p.server ?? (await p.start());
    const enrolled = await enrolNewDevice(p.kit, 'ctl-3');
    p.source.publish('ctl-3', [card(1, ['front'], Date.now())]);
    const controller = controllerFor('ctl-3', enrolled.platformKeyPem, new ManualClock(Date.now()));
    const client = clientFor(p, server.port, enrolled, controller, 'e'.repeat(64));
    clients.push(client);
    client.start();
    await waitFor(() => client.status.lastError === 'VIGIL_DEVICE_UNTRUSTED', 'the attestation refusal');
    await client.stop();
    assert.equal(controller.version, 0, 'no set');
    assert.equal((await p.kit.registry.get('ctl-3'))?.trust, 'untrusted');
    assert.ok(p.kit.alarms.raised.some((a) => a.type === 'device.attestation_failed' && a.source === 'device:ctl-3' && a.severity === 'critical'));
    // The right software afterwards does not undo it: untrusted until an administrator decides.
    const retry = clientFor(p, server.port, enrolled, controller);
    clients.push(retry);
    retry.start();
    await waitFor(() => retry.status.lastError === 'VIGIL_DEVICE_UNTRUSTED', 'still untrusted');
    await retry.stop();
    assert.equal(controller.version, 0);
  });
});
