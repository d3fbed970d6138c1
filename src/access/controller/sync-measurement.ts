// Remote attestation of a controller's software (ACS-5.1.1.6). The measurement is SHA-256 over
// the controller's code — every non-test file of src/access/controller plus
// src/access/edge-event-log.ts — as (relative path, SHA-256 of content) lines in path order, so
// the same files give the same value on any machine. On a platform nonce the controller signs
// (nonce, measurement, its device id) with its device key; the platform checks the signature
// with the key of the TLS client certificate and the measurement against its allowed list.
import { createHash, sign } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MEASURED_DIR = 'src/access/controller';
const MEASURED_FILES = ['src/access/edge-event-log.ts'];

/** Hex SHA-256 measurement of the controller software under `root` (default: this install). */
export async function measureControllerSoftware(root = SOURCE_ROOT): Promise<string> {
  const entries = await readdir(path.join(root, MEASURED_DIR), { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => `${MEASURED_DIR}/${e.name}`)
    .concat(MEASURED_FILES)
    .sort();
  const measurement = createHash('sha256');
  for (const file of files) {
    const digest = createHash('sha256').update(await readFile(path.join(root, file))).digest('hex');
    measurement.update(`${file}\0${digest}\n`);
  }
  return measurement.digest('hex');
}

/** The bytes signed in an attestation: domain-separated, bound to the nonce and the device. */
export function attestationMessage(nonce: string, measurement: string, deviceId: string): Buffer {
  return Buffer.from(`vigil-attestation-v1\n${nonce}\n${measurement}\n${deviceId}`, 'utf8');
}

/** The controller's answer to a nonce: ECDSA P-256/SHA-256 with its device key (PKCS#8 PEM). */
export function signAttestation(keyPem: string, nonce: string, measurement: string, deviceId: string): string {
  return sign('sha256', attestationMessage(nonce, measurement, deviceId), keyPem).toString('base64');
}
