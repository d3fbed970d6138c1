// Test wiring of the device component (not used by the product): the registry, CA and enrolment
// on a test store with a file KEK, recording audit and alarm sinks, and a device that makes its
// own P-256 key and enrols the way a real one does.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingAlarmSink, RecordingAuditSink } from '../audit/test-doubles.ts';
import type { Clock } from '../core/clock.ts';
import { Keyring } from '../crypto/keyring.ts';
import type { DeviceSigner } from '../crypto/signer.ts';
import type { Store } from '../store/database.ts';
import { DeviceCa } from './device-ca.ts';
import { DeviceRegistry } from './device-registry.ts';
import { DeviceRepository } from './device-repository.ts';
import { DeviceEnrolment, enrolmentProofMessage, type EnrolmentResult } from './enrolment.ts';

export interface DeviceKit {
  keyring: Keyring;
  repository: DeviceRepository;
  ca: DeviceCa;
  registry: DeviceRegistry;
  enrolment: DeviceEnrolment;
  audit: RecordingAuditSink;
  alarms: RecordingAlarmSink;
  signer: DeviceSigner;
}

export const ADMIN = { actor: 'user:admin', source: '127.0.0.1' };

/** `kekDir` is fixed per store: the keyring refuses DEKs that another KEK wrapped. */
export async function openDeviceKit(store: Store, clock: Clock, kekDir: string): Promise<DeviceKit> {
  const keyring = await Keyring.open({
    config: { kek: 'file', kekFile: path.join(kekDir, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'vigil-kek', pkcs11PinFile: '' },
    store,
    clock,
  });
  const repository = new DeviceRepository(store);
  const audit = new RecordingAuditSink();
  const alarms = new RecordingAlarmSink();
  const ca = await DeviceCa.open({ repository, keyring, clock, siteName: 'test site' });
  const signer = await keyring.deviceSigner();
  return {
    keyring,
    repository,
    ca,
    registry: new DeviceRegistry({ repository, ca, audit, alarms, clock }),
    enrolment: new DeviceEnrolment({ repository, ca, audit, clock, platformKeyPem: signer.publicKeyPem }),
    audit,
    alarms,
    signer,
  };
}

export function tempKekDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'vigil-device-kek-'));
}

export interface TestDevice {
  keyPem: string;
  publicKeyPem: string;
}

/** A device's own key pair, generated on the device (here: in the test). */
export function newDeviceKey(): TestDevice {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function enrolmentRequest(token: string, device: TestDevice): { token: string; publicKeyPem: string; proof: string; source: string } {
  return { token, publicKeyPem: device.publicKeyPem, proof: sign('sha256', enrolmentProofMessage(token), device.keyPem).toString('base64'), source: '127.0.0.1' };
}

/** Token, key, enrolment: a controller as it leaves the installer's hands. */
export async function enrolNewDevice(kit: DeviceKit, deviceId: string, kind: 'controller' | 'lock' | 'reader' = 'controller'): Promise<TestDevice & EnrolmentResult> {
  const { token } = await kit.enrolment.createToken({ deviceId, kind, by: ADMIN });
  const device = newDeviceKey();
  return { ...device, ...(await kit.enrolment.enrol(enrolmentRequest(token, device))) };
}
