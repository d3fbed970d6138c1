// The device CA (design §2, ACS-5.1.1.4): an ECDSA P-256 CA made at first use whose private key
// exists at rest only sealed by the keyring (purpose 'device-ca', NVR-5.2.4.1a). It issues
// device certificates (P-256, one year, SAN URI urn:vigil:device:<id>: the certificate-to-
// identity mapping, ACS-5.1.1.11) from a public key the device generated itself, so a device's
// private key never leaves it; and the platform's own server certificate for the mTLS listener.
import { createPublicKey, randomBytes, X509Certificate, type KeyObject, type webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import { sanNames } from '../crypto/certificate.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { webCrypto, x509 } from '../crypto/x509.ts';
import type { DeviceRepository } from './device-repository.ts';

export const DEVICE_KINDS = ['controller', 'lock', 'reader'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const DEVICE_URI_PREFIX = 'urn:vigil:device:';
/** Device ids: short, URI-safe, case-sensitive as given. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const CA_SETTING = 'device.ca';
const CA_KEY_PURPOSE = 'device-ca';
const CA_VALIDITY_MS = 10 * 365 * 86_400_000;
const DEVICE_VALIDITY_MS = 365 * 86_400_000;
const CLOCK_SKEW_MS = 5 * 60_000;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface IssuedCertificate {
  certPem: string;
  /** Lower-case hex, as node:crypto's X509Certificate.serialNumber reports it (upper-cased there). */
  serial: string;
  notAfter: number;
}

interface StoredCa {
  certPem: string;
  keySealed: string;
}

export class DeviceCa {
  readonly certPem: string;
  readonly #key: webcrypto.CryptoKey;
  readonly #cert: x509.X509Certificate;
  readonly #clock: Clock;

  private constructor(certPem: string, key: webcrypto.CryptoKey, clock: Clock) {
    this.certPem = certPem;
    this.#key = key;
    this.#cert = new x509.X509Certificate(certPem);
    this.#clock = clock;
  }

  /** Loads the CA, creating it at first use (the first writer wins when processes race). */
  static async open(o: { repository: DeviceRepository; keyring: Keyring; clock: Clock; siteName: string }): Promise<DeviceCa> {
    let row = await o.repository.getSetting(CA_SETTING);
    if (row === undefined) {
      await o.repository.insertSetting(CA_SETTING, JSON.stringify(await createCa(o.keyring, o.clock.now(), o.siteName)), o.clock.now());
      row = await o.repository.getSetting(CA_SETTING);
    }
    if (row === undefined) throw new VigilError('VIGIL_KEYRING_UNAVAILABLE', 'the device CA could not be stored');
    const stored = JSON.parse(row.value) as StoredCa;
    const pkcs8 = await o.keyring.open(CA_KEY_PURPOSE, Buffer.from(stored.keySealed, 'base64'), CA_SETTING);
    try {
      // Not extractable: once imported, the key only signs.
      const key = await webCrypto.subtle.importKey('pkcs8', pkcs8, EC_P256, false, ['sign']);
      return new DeviceCa(stored.certPem, key, o.clock);
    } finally {
      pkcs8.fill(0);
    }
  }

  /** A device certificate for `publicKeyPem` (P-256 only: ACS-5.1.1.4 approved algorithms). */
  async issueDeviceCertificate(deviceId: string, kind: DeviceKind, publicKeyPem: string): Promise<IssuedCertificate> {
    if (!DEVICE_ID_PATTERN.test(deviceId)) throw new VigilError('VIGIL_VALIDATION', 'a device id is 1 to 64 letters, digits, dot, dash or underscore');
    const spki = p256Spki(publicKeyPem);
    // Controllers and readers are TLS clients of the platform; a lock also serves remote unlock.
    const usages = kind === 'lock' ? [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth] : [x509.ExtendedKeyUsage.clientAuth];
    return this.#issue(spki, `${kind} ${deviceId}`, [{ type: 'url', value: `${DEVICE_URI_PREFIX}${deviceId}` }], usages, DEVICE_VALIDITY_MS);
  }

  /** The platform's certificate for the device listener: devices trust only this CA. */
  async issueServerCertificate(hostnames: string[]): Promise<{ certPem: string; keyPem: string }> {
    const keys = await webCrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
    const spki = Buffer.from(await webCrypto.subtle.exportKey('spki', keys.publicKey));
    const names = sanNames(hostnames).map((n) => ({ type: isIP(n) === 0 ? ('dns' as const) : ('ip' as const), value: n }));
    const issued = await this.#issue(spki, 'Vigil device listener', names, [x509.ExtendedKeyUsage.serverAuth], DEVICE_VALIDITY_MS);
    const der = Buffer.from(await webCrypto.subtle.exportKey('pkcs8', keys.privateKey));
    try {
      return { certPem: issued.certPem, keyPem: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n` };
    } finally {
      der.fill(0); // ACS-5.3.1.4
    }
  }

  /** True when `cert` carries a valid signature of this CA. */
  issued(cert: X509Certificate): boolean {
    return cert.verify(new X509Certificate(this.certPem).publicKey);
  }

  async #issue(spki: Buffer, commonName: string, names: Array<{ type: 'url' | 'dns' | 'ip'; value: string }>, usages: x509.ExtendedKeyUsageType[], validityMs: number): Promise<IssuedCertificate> {
    const now = this.#clock.now();
    const serial = positiveSerial();
    const notAfter = now + validityMs;
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial,
        subject: [{ CN: [commonName] }],
        issuer: this.#cert.subject,
        notBefore: new Date(now - CLOCK_SKEW_MS),
        notAfter: new Date(notAfter),
        signingAlgorithm: SIGNING,
        publicKey: spki,
        signingKey: this.#key,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(usages),
          new x509.SubjectAlternativeNameExtension(names),
          await x509.SubjectKeyIdentifierExtension.create(spki, false, webCrypto),
          await x509.AuthorityKeyIdentifierExtension.create(this.#cert, false, webCrypto),
        ],
      },
      webCrypto,
    );
    return { certPem: cert.toString('pem') + '\n', serial: normaliseSerial(serial), notAfter: Math.floor(notAfter / 1000) * 1000 };
  }
}

/** Serials compared as lower-case hex without leading zeros (node reports them upper-case). */
export function normaliseSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}

async function createCa(keyring: Keyring, now: number, siteName: string): Promise<StoredCa> {
  const keys = await webCrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: positiveSerial(),
      name: [{ CN: [`Vigil Device CA ${siteName.replace(/[^\p{L}\p{N} ._-]/gu, '-').slice(0, 40)}`.trim()] }],
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + CA_VALIDITY_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        // pathLen 0: this CA issues end-entity certificates only.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  const pkcs8 = Buffer.from(await webCrypto.subtle.exportKey('pkcs8', keys.privateKey));
  try {
    const sealed = await keyring.seal(CA_KEY_PURPOSE, pkcs8, CA_SETTING);
    return { certPem: cert.toString('pem') + '\n', keySealed: sealed.toString('base64') };
  } finally {
    pkcs8.fill(0); // ACS-5.3.1.4
  }
}

function positiveSerial(): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive, and no leading zero byte (RFC 5280 §4.1.2.2)
  return serial.toString('hex');
}

function p256Spki(publicKeyPem: string): Buffer {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    throw new VigilError('VIGIL_DEVICE_ENROLMENT_INVALID', 'the device public key cannot be read (SPKI PEM expected)');
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new VigilError('VIGIL_DEVICE_ENROLMENT_INVALID', 'the device key must be an ECDSA P-256 public key');
  }
  return key.export({ type: 'spki', format: 'der' });
}
