// The device's TLS identity (design §4): an admin-supplied certificate from the configuration,
// else the one installed by an admin through installCertificate, else a self-signed ECDSA P-256
// certificate made at first run and renewed when fewer than 30 days remain. The private key is
// kept only sealed by the keyring (<dataDir>/tls/device.key.sealed, purpose 'tls'):
// NVR-5.2.4.1a, secrets are never plaintext at rest.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { isVigilError, VigilError } from '../core/errors.ts';
import { checkCertificate, createSelfSignedCertificate, sanNames, type CheckedCertificate } from './certificate.ts';
import type { Keyring } from './keyring.ts';
import { readPrivateFile, writeFileAtomic } from './private-file.ts';
import type { TlsMaterial } from './tls.ts';

export interface DeviceTls extends TlsMaterial {
  fingerprint256: string;
  selfSigned: boolean;
  notAfter: Date;
}

export interface LoadDeviceTlsOptions {
  dataDir: string;
  keyring: Keyring;
  deviceName: string;
  hostnames: string[];
  tlsConfig: Config['tls'];
  clock?: Clock;
}

export interface InstallCertificateOptions {
  dataDir: string;
  keyring: Keyring;
  certPem: string;
  keyPem: string;
  clock?: Clock;
}

const KEY_PURPOSE = 'tls';
const KEY_AAD = 'tls/device.key';
const VALIDITY_DAYS = 730;
const RENEW_BEFORE_MS = 30 * 86_400_000;
const MAX_PEM_FILE_BYTES = 256 * 1024;

export async function loadDeviceTls(options: LoadDeviceTlsOptions): Promise<DeviceTls> {
  const now = (options.clock ?? systemClock).now();
  const { certFile, keyFile } = options.tlsConfig;
  if (certFile !== '' || keyFile !== '') return loadConfiguredFiles(certFile, keyFile, now);

  const stored = await readStored(options.dataDir, options.keyring);
  if (stored !== undefined) {
    let current: CheckedCertificate | undefined;
    try {
      current = checkCertificate(stored.certPem, stored.keyPem, now);
    } catch (err) {
      // Expired, or a half-written pair: replaced by a fresh self-signed certificate below.
      if (!isVigilError(err, 'VIGIL_TLS_CERT_INVALID')) throw err;
    }
    if (current !== undefined && !selfSignedNeedsRenewal(current, options.hostnames, now)) return deviceTls(current);
  }

  const generated = await createSelfSignedCertificate({
    deviceName: options.deviceName,
    hostnames: options.hostnames,
    now,
    validityDays: VALIDITY_DAYS,
  });
  const checked = checkCertificate(generated.certPem, generated.keyPem, now);
  await store(options.dataDir, options.keyring, checked);
  return deviceTls(checked);
}

/** An admin replaces the device certificate; loadDeviceTls returns it from then on. */
export async function installCertificate(options: InstallCertificateOptions): Promise<DeviceTls> {
  const checked = checkCertificate(options.certPem, options.keyPem, (options.clock ?? systemClock).now());
  await store(options.dataDir, options.keyring, checked);
  return deviceTls(checked);
}

/**
 * An installed (CA-issued) certificate is the admin's to renew: it is kept until it expires.
 * Our self-signed one is renewed ahead of expiry, and when the host names it must cover change.
 */
function selfSignedNeedsRenewal(current: CheckedCertificate, hostnames: string[], now: number): boolean {
  if (!current.selfSigned) return false;
  if (current.notAfter.getTime() - now < RENEW_BEFORE_MS) return true;
  const covered = new Set(current.subjectAltNames);
  return sanNames(hostnames).some((name) => !covered.has(name));
}

function loadConfiguredFiles(certFile: string, keyFile: string, now: number): DeviceTls {
  let certPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    throw new VigilError('VIGIL_TLS_CERT_INVALID', `cannot read tls.certFile ${certFile}`, { cause: err });
  }
  if (certPem.length > MAX_PEM_FILE_BYTES) throw new VigilError('VIGIL_TLS_CERT_INVALID', `tls.certFile ${certFile} is too large`);
  // The admin's key file is plaintext by their choice; at least nobody else may read it.
  const keyBytes = readPrivateFile(keyFile, 'VIGIL_TLS_CERT_INVALID', 'VIGIL_TLS_CERT_INVALID');
  try {
    return deviceTls(checkCertificate(certPem, keyBytes.toString('utf8'), now));
  } finally {
    keyBytes.fill(0);
  }
}

function paths(dataDir: string): { cert: string; key: string } {
  const dir = path.join(dataDir, 'tls');
  return { cert: path.join(dir, 'device.crt'), key: path.join(dir, 'device.key.sealed') };
}

async function readStored(dataDir: string, keyring: Keyring): Promise<{ certPem: string; keyPem: string } | undefined> {
  const file = paths(dataDir);
  if (!existsSync(file.cert) || !existsSync(file.key)) return undefined;
  const certPem = readFileSync(file.cert, 'utf8');
  const sealed = readPrivateFile(file.key, 'VIGIL_KEYRING_KEK_PERMISSIONS');
  // An unseal failure (other KEK, tampering) is not papered over with a new certificate.
  const key = await keyring.open(KEY_PURPOSE, sealed, KEY_AAD);
  try {
    return { certPem, keyPem: key.toString('utf8') };
  } finally {
    key.fill(0);
  }
}

async function store(dataDir: string, keyring: Keyring, checked: CheckedCertificate): Promise<void> {
  const file = paths(dataDir);
  const keyBytes = Buffer.from(checked.keyPem, 'utf8');
  try {
    const sealed = await keyring.seal(KEY_PURPOSE, keyBytes, KEY_AAD);
    // Key first, certificate second: a crash in between leaves a mismatched pair, which the
    // next start detects (key does not match) and replaces.
    writeFileAtomic(file.key, sealed, 0o600);
    writeFileAtomic(file.cert, Buffer.from(checked.certPem, 'utf8'), 0o600);
  } finally {
    keyBytes.fill(0);
  }
}

function deviceTls(checked: CheckedCertificate): DeviceTls {
  return {
    certPem: checked.certPem,
    keyPem: checked.keyPem,
    fingerprint256: checked.fingerprint256,
    selfSigned: checked.selfSigned,
    notAfter: checked.notAfter,
  };
}
