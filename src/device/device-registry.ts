// The device registry: who a connecting device is and whether it may talk to us. Every mTLS
// connection is checked here after the TLS chain validation (ACS-5.1.1.4): the certificate is
// issued by our device CA, its serial is not revoked, its SAN URI names a registered, enrolled
// device of the expected kind, and it is that device's current certificate (certificate-to-
// identity mapping, ACS-5.1.1.11). Attestation results (ACS-5.1.1.6) mark devices trusted or
// untrusted; untrusted is sticky until an administrator trusts the device again.
import type { X509Certificate } from 'node:crypto';
import type { AlarmSink } from '../alarms/types.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import { DEVICE_ID_PATTERN, DEVICE_URI_PREFIX, normaliseSerial, type DeviceCa, type DeviceKind } from './device-ca.ts';
import type { DeviceRepository, DeviceRow } from './device-repository.ts';

export const ATTESTATION_ALARM = 'device.attestation_failed';

export interface DeviceRegistryOptions {
  repository: DeviceRepository;
  ca: DeviceCa;
  audit: AuditSink;
  alarms: AlarmSink;
  clock: Clock;
}

export interface Actor {
  actor: string;
  source: string;
}

/** The device id of a device certificate: its one SAN URI urn:vigil:device:<id>, else null. */
export function deviceIdOf(cert: X509Certificate): string | null {
  const san = cert.subjectAltName;
  if (san === undefined) return null;
  const uris = san.split(', ').filter((e) => e.startsWith('URI:'));
  if (uris.length !== 1) return null;
  const uri = (uris[0] ?? '').slice(4);
  if (!uri.startsWith(DEVICE_URI_PREFIX)) return null;
  const id = uri.slice(DEVICE_URI_PREFIX.length);
  return DEVICE_ID_PATTERN.test(id) ? id : null;
}

export class DeviceRegistry {
  readonly #o: DeviceRegistryOptions;

  constructor(o: DeviceRegistryOptions) {
    this.#o = o;
  }

  get(id: string): Promise<DeviceRow | undefined> {
    return this.#o.repository.get(id);
  }

  list(limit = 1000): Promise<DeviceRow[]> {
    return this.#o.repository.list(Math.min(Math.max(1, limit), 10_000));
  }

  /**
   * ACS-5.1.1.4: the identity and revocation check of one connection. Returns the device, or
   * throws VIGIL_DEVICE_REFUSED (audited, with the reason kept out of the error message).
   */
  async authorise(cert: X509Certificate, kind: DeviceKind, source: string): Promise<DeviceRow> {
    const now = this.#o.clock.now();
    const id = deviceIdOf(cert);
    const refuse = (reason: string): VigilError => {
      this.#o.audit.record({ category: 'device', action: 'device.connect', actor: id === null ? 'anonymous' : `device:${id}`, source, target: id === null ? '' : `device:${id}`, outcome: 'denied', details: { reason, serial: cert.serialNumber.slice(0, 64) } });
      return new VigilError('VIGIL_DEVICE_REFUSED', 'the device is not allowed to connect');
    };
    // The TLS layer already validated the chain; this is belt and braces should the listener's
    // trust store ever hold more than our CA.
    if (!this.#o.ca.issued(cert)) throw refuse('not issued by the device CA');
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw refuse('certificate outside its validity');
    const serial = normaliseSerial(cert.serialNumber);
    if (await this.#o.repository.isRevoked(serial)) throw refuse('certificate revoked');
    if (id === null) throw refuse('no device identity in the certificate');
    const device = await this.#o.repository.get(id);
    if (device === undefined) throw refuse('unknown device');
    if (device.status !== 'enrolled') throw refuse(`device is ${device.status}`);
    if (device.kind !== kind) throw refuse(`device is a ${device.kind}, not a ${kind}`);
    if (device.cert_serial !== serial) throw refuse('not the current certificate of the device');
    await this.#o.repository.touch(id, now);
    return device;
  }

  /** ACS-5.1.1.6: records an attestation; a failure marks the device untrusted and alarms. */
  async recordAttestation(device: DeviceRow, result: { ok: true; measurement: string } | { ok: false; measurement: string | null; reason: string }, source: string): Promise<boolean> {
    const now = this.#o.clock.now();
    const target = `device:${device.id}`;
    if (!result.ok) {
      await this.#o.repository.setTrust(device.id, 'untrusted', result.measurement, now);
      this.#o.audit.record({ category: 'device', action: 'device.attest', actor: target, source, target, outcome: 'failure', details: { reason: result.reason, measurement: result.measurement } });
      this.#o.alarms.raise({
        type: ATTESTATION_ALARM,
        severity: 'critical',
        source: target,
        message: `${device.kind} ${device.id} failed remote attestation (${result.reason}); it is untrusted and gets no credentials`,
        details: { measurement: result.measurement, reason: result.reason },
      });
      return false;
    }
    if (device.trust === 'untrusted') {
      // Sticky: a device that once ran unknown software is not trusted again by itself.
      this.#o.audit.record({ category: 'device', action: 'device.attest', actor: target, source, target, outcome: 'denied', details: { reason: 'device is untrusted', measurement: result.measurement } });
      return false;
    }
    await this.#o.repository.setTrust(device.id, 'trusted', result.measurement, now);
    if (device.trust !== 'trusted' || device.measurement !== result.measurement) {
      this.#o.audit.record({ category: 'device', action: 'device.attest', actor: target, source, target, outcome: 'success', details: { measurement: result.measurement } });
    }
    return true;
  }

  /** An administrator trusts a device again after investigating its attestation failure. */
  async trust(id: string, by: Actor): Promise<void> {
    const device = await this.#require(id);
    await this.#o.repository.setTrust(id, 'trusted', device.measurement, this.#o.clock.now());
    this.#o.audit.record({ category: 'device', action: 'device.trust', actor: by.actor, source: by.source, target: `device:${id}`, outcome: 'success' });
    this.#o.alarms.clear(`${ATTESTATION_ALARM}|device:${id}`, `trusted again by ${by.actor}`);
  }

  /** ACS-5.1.1.4: revokes the device's certificate; its next connection is refused. */
  async revoke(id: string, reason: string, by: Actor): Promise<void> {
    const device = await this.#require(id);
    const now = this.#o.clock.now();
    await this.#o.repository.revoke(id, device.cert_serial, reason.slice(0, 200), now);
    await this.#o.repository.voidTokens(id, now);
    this.#o.audit.record({ category: 'device', action: 'device.revoke', actor: by.actor, source: by.source, target: `device:${id}`, outcome: 'success', details: { serial: device.cert_serial, reason: reason.slice(0, 200) } });
  }

  async #require(id: string): Promise<DeviceRow> {
    const device = await this.#o.repository.get(id);
    if (device === undefined) throw new VigilError('VIGIL_DEVICE_NOT_FOUND', 'no such device');
    return device;
  }
}
