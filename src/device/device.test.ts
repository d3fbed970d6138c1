// Device CA, enrolment and the registry's connection check on both databases (ACS-5.1.1.4,
// ACS-5.1.1.11, ACS-5.2.1.3): the CA key exists only sealed, certificates carry the device
// identity, tokens are one-time, hashed and expiring, and revoked or foreign certificates are
// refused at the identity check.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { ManualClock } from '../core/clock.ts';
import { isVigilError, type ErrorCode } from '../core/errors.ts';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { DeviceCa } from './device-ca.ts';
import { deviceIdOf } from './device-registry.ts';
import { DeviceRepository } from './device-repository.ts';
import { ADMIN, enrolmentRequest, enrolNewDevice, newDeviceKey, openDeviceKit, tempKekDir, type DeviceKit } from './device-test-kit.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const HOUR = 3_600_000;
const code = (c: ErrorCode) => (err: unknown) => isVigilError(err, c);
const kekDirs: string[] = [];
after(() => {
  for (const d of kekDirs) rmSync(d, { recursive: true, force: true });
});

describeOnEachStore('device CA, enrolment and registry', (get) => {
  const clock = new ManualClock(T0);
  let kit: DeviceKit | undefined;
  const kitOf = async (): Promise<DeviceKit> => {
    if (kit === undefined) {
      const dir = tempKekDir();
      kekDirs.push(dir);
      kit = await openDeviceKit(get().store, clock, dir);
    }
    return kit;
  };
  after(async () => {
    await kit?.keyring.close();
  });

  test('ACS-5.1.1.4: the device CA is made once, its key stored only sealed; a reopen gives the same CA', async () => {
    const k = await kitOf();
    const row = await get().store.db.selectFrom('settings').select('value').where('key', '=', 'device.ca').executeTakeFirstOrThrow();
    assert.doesNotMatch(row.value, /PRIVATE KEY/);
    const ca = new X509Certificate(k.ca.certPem);
    assert.equal(ca.ca, true);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const again = await DeviceCa.open({ repository: new DeviceRepository(get().store), keyring: k.keyring, clock, siteName: 'other' });
    assert.equal(again.certPem, k.ca.certPem);
  });

  test('ACS-5.1.1.11: a device certificate names the device (SAN URI), is P-256, one year, clientAuth, issued by the CA', async () => {
    const k = await kitOf();
    const d = await enrolNewDevice(k, 'ctl-a');
    const cert = new X509Certificate(d.certPem);
    assert.equal(deviceIdOf(cert), 'ctl-a');
    assert.match(cert.subjectAltName ?? '', /^URI:urn:vigil:device:ctl-a$/);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(cert.ca, false);
    assert.equal(Date.parse(cert.validTo) - T0, 365 * 24 * HOUR);
    assert.ok(cert.verify(new X509Certificate(d.caCertPem).publicKey));
    assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(d.keyPem)));
    assert.equal(d.platformKeyPem, k.signer.publicKeyPem);
    const row = await k.registry.get('ctl-a');
    assert.equal(row?.status, 'enrolled');
    assert.equal(row?.cert_serial, d.serial);
    assert.ok(k.audit.events.some((e) => e.action === 'device.enrol' && e.outcome === 'success' && e.target === 'device:ctl-a'));
  });

  test('ACS-5.1.1.11: tokens are stored hashed; a reused token is refused and audited', async () => {
    const k = await kitOf();
    const { token } = await k.enrolment.createToken({ deviceId: 'ctl-b', kind: 'controller', by: ADMIN });
    const stored = await get().store.db.selectFrom('device_enrolment_tokens').select('token_hash').where('device_id', '=', 'ctl-b').execute();
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]?.token_hash, token);
    assert.equal((await sql<{ n: number }>`select count(*) as n from device_enrolment_tokens where token_hash = ${token}`.execute(get().store.db)).rows[0]?.n, 0);
    await k.enrolment.enrol(enrolmentRequest(token, newDeviceKey()));
    await assert.rejects(k.enrolment.enrol(enrolmentRequest(token, newDeviceKey())), code('VIGIL_DEVICE_ENROLMENT_INVALID'));
    assert.ok(k.audit.events.some((e) => e.action === 'device.enrol' && e.outcome === 'denied' && e.details?.['reason'] === 'token already used'));
  });

  test('an expired token, a forged proof of possession, a non-P-256 key and an unknown token are refused', async () => {
    const k = await kitOf();
    const { token } = await k.enrolment.createToken({ deviceId: 'ctl-c', kind: 'controller', by: ADMIN });
    const device = newDeviceKey();
    const forged = { ...enrolmentRequest(token, device), publicKeyPem: newDeviceKey().publicKeyPem };
    await assert.rejects(k.enrolment.enrol(forged), code('VIGIL_DEVICE_ENROLMENT_INVALID'), 'proof by another key');
    const ed = generateKeyPairSync('ed25519');
    const { sign } = await import('node:crypto');
    const edRequest = { token, publicKeyPem: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(), proof: sign(null, Buffer.from(`vigil-device-enrolment-v1\n${token}`), ed.privateKey).toString('base64'), source: 'x' };
    await assert.rejects(k.enrolment.enrol(edRequest), code('VIGIL_DEVICE_ENROLMENT_INVALID'), 'Ed25519 key');
    await assert.rejects(k.enrolment.enrol(enrolmentRequest('vgl-enrol-' + 'A'.repeat(43), device)), code('VIGIL_DEVICE_ENROLMENT_INVALID'), 'unknown');
    clock.advance(24 * HOUR + 1);
    try {
      await assert.rejects(k.enrolment.enrol(enrolmentRequest(token, device)), code('VIGIL_DEVICE_ENROLMENT_INVALID'), 'expired after the default 24 h');
      assert.ok(k.audit.events.some((e) => e.action === 'device.enrol' && e.details?.['reason'] === 'token expired'));
    } finally {
      clock.set(T0);
    }
    assert.equal((await k.registry.get('ctl-c'))?.status, 'pending');
  });

  test('ACS-5.1.1.11, ACS-5.2.1.3: one identity per device and one device per key', async () => {
    const k = await kitOf();
    const d = await enrolNewDevice(k, 'ctl-d');
    await assert.rejects(k.enrolment.createToken({ deviceId: 'ctl-d', kind: 'controller', by: ADMIN }), code('VIGIL_DEVICE_EXISTS'));
    const { token } = await k.enrolment.createToken({ deviceId: 'ctl-e', kind: 'controller', by: ADMIN });
    await assert.rejects(k.enrolment.enrol(enrolmentRequest(token, d)), code('VIGIL_DEVICE_ENROLMENT_INVALID'), 'a cloned key');
    await assert.rejects(k.enrolment.createToken({ deviceId: 'bad id/with slash', kind: 'controller', by: ADMIN }), code('VIGIL_VALIDATION'));
  });

  test('ACS-5.1.1.4: the connection check admits the current certificate and refuses revoked, foreign, wrong-kind and superseded ones', async () => {
    const k = await kitOf();
    const d = await enrolNewDevice(k, 'ctl-f');
    const cert = new X509Certificate(d.certPem);
    assert.equal((await k.registry.authorise(cert, 'controller', '127.0.0.1')).id, 'ctl-f');
    await assert.rejects(k.registry.authorise(cert, 'lock', '127.0.0.1'), code('VIGIL_DEVICE_REFUSED'), 'wrong kind');

    // A lock also serves TLS (remote unlock): clientAuth and serverAuth.
    const lock = await enrolNewDevice(k, 'lock-1', 'lock');
    assert.deepEqual(new X509Certificate(lock.certPem).keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);

    await k.registry.revoke('ctl-f', 'lost', ADMIN);
    await assert.rejects(k.registry.authorise(cert, 'controller', '127.0.0.1'), code('VIGIL_DEVICE_REFUSED'), 'revoked');
    assert.ok(k.audit.events.some((e) => e.action === 'device.connect' && e.outcome === 'denied' && e.details?.['reason'] === 'certificate revoked'));
    // Re-enrolment after revocation: a new certificate; the old one stays refused.
    const again = await enrolNewDevice(k, 'ctl-f');
    assert.equal((await k.registry.authorise(new X509Certificate(again.certPem), 'controller', '127.0.0.1')).id, 'ctl-f');
    await assert.rejects(k.registry.authorise(cert, 'controller', '127.0.0.1'), code('VIGIL_DEVICE_REFUSED'), 'old certificate');
  });

  test('ACS-5.1.1.6: a failed attestation makes the device untrusted (sticky), raises an alarm; an admin trusts it again', async () => {
    const k = await kitOf();
    await enrolNewDevice(k, 'ctl-g');
    const device = await k.registry.get('ctl-g');
    assert.ok(device);
    assert.equal(await k.registry.recordAttestation(device, { ok: false, measurement: 'f'.repeat(64), reason: 'unknown measurement' }, '127.0.0.1'), false);
    assert.ok(k.alarms.raised.some((a) => a.type === 'device.attestation_failed' && a.source === 'device:ctl-g'));
    const untrusted = await k.registry.get('ctl-g');
    assert.equal(untrusted?.trust, 'untrusted');
    assert.ok(untrusted);
    assert.equal(await k.registry.recordAttestation(untrusted, { ok: true, measurement: 'a'.repeat(64) }, '127.0.0.1'), false, 'a good answer later does not clear it');
    await k.registry.trust('ctl-g', ADMIN);
    assert.ok(k.alarms.cleared.some((c) => c.dedupeKey === 'device.attestation_failed|device:ctl-g'));
    const trusted = await k.registry.get('ctl-g');
    assert.ok(trusted);
    assert.equal(await k.registry.recordAttestation(trusted, { ok: true, measurement: 'a'.repeat(64) }, '127.0.0.1'), true);
  });
});

test('ACS-5.1.1.4: a certificate of another device CA is refused by the identity check', async () => {
  const { createTestStore } = await import('../../test/helpers/stores.ts');
  const ourStore = await createTestStore('sqlite');
  const theirStore = await createTestStore('sqlite');
  const ourKek = tempKekDir();
  const theirKek = tempKekDir();
  try {
    const clock = new ManualClock(T0);
    const ours = await openDeviceKit(ourStore.store, clock, ourKek);
    const theirs = await openDeviceKit(theirStore.store, clock, theirKek);
    await enrolNewDevice(ours, 'ctl-x');
    const foreign = await enrolNewDevice(theirs, 'ctl-x');
    await assert.rejects(ours.registry.authorise(new X509Certificate(foreign.certPem), 'controller', '127.0.0.1'), code('VIGIL_DEVICE_REFUSED'));
    assert.ok(ours.audit.events.some((e) => e.details?.['reason'] === 'not issued by the device CA'));
    await ours.keyring.close();
    await theirs.keyring.close();
  } finally {
    await ourStore.dispose();
    await theirStore.dispose();
    for (const d of [ourKek, theirKek]) rmSync(d, { recursive: true, force: true });
  }
});
