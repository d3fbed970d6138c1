// The device's side of enrolment over the network (ACS-5.1.1.11, ACS-5.1.1.4): the device makes
// its own P-256 key pair, signs the one-time token with it (proof of possession) and posts token,
// public key and proof to the platform's HTTPS listener, trusting only the certificate the
// installer copied from the platform (full chain and host name validation, never skipped). The
// answer carries its certificate, the device CA, the platform's set-signing key and the port of
// the device sync listener. The token is never logged and never part of a URL.
import { generateKeyPairSync, sign } from 'node:crypto';
import https from 'node:https';
import { VigilError } from '../core/errors.ts';
import { tlsClientOptions } from '../crypto/tls.ts';
import { enrolmentProofMessage } from './enrolment.ts';

export interface EnrolmentAnswer {
  deviceId: string;
  kind: string;
  certPem: string;
  caCertPem: string;
  platformKeyPem: string;
  /** null when the platform has no device sync listener (devices.mtlsEnabled off). */
  syncPort: number | null;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/** 'host:port' or '[v6]:port' → parts, or VIGIL_VALIDATION. */
export function parseHostPort(text: string, what: string, allowAnyPort = false): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (host === undefined || !Number.isInteger(port) || port < (allowAnyPort ? 0 : 1) || port > 65535) throw new VigilError('VIGIL_VALIDATION', `${what} is HOST:PORT`);
  return { host, port };
}

export async function enrolWithPlatform(o: { platform: string; caPem: string; token: string; timeoutMs?: number }): Promise<EnrolmentAnswer & { keyPem: string }> {
  const { host, port } = parseHostPort(o.platform, 'the platform address');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const body = JSON.stringify({
    token: o.token,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    proof: sign('sha256', enrolmentProofMessage(o.token), privateKey).toString('base64'),
  });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = https.request({
      ...tlsClientOptions({ ca: o.caPem, servername: host }),
      host,
      port,
      method: 'POST',
      path: '/api/v1/devices/enrol',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: o.timeoutMs ?? 15_000,
      agent: false,
    }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) request.destroy(new VigilError('VIGIL_DEVICE_PROTOCOL', 'the enrolment answer is too large'));
        else chunks.push(c);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new VigilError('VIGIL_DEVICE_UNREACHABLE', `the platform at ${o.platform} did not answer in time`)));
    request.on('error', (err) => reject(err instanceof VigilError ? err : new VigilError('VIGIL_DEVICE_UNREACHABLE', `cannot reach the platform at ${o.platform}: ${err.message}`)));
    request.end(body);
  });
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new VigilError('VIGIL_DEVICE_PROTOCOL', `the platform answered ${status} without JSON`);
  }
  const a = answer as Record<string, unknown>;
  if (status !== 200) {
    const e = a['error'];
    const code = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)['code'] : undefined;
    if (code === 'VIGIL_DEVICE_ENROLMENT_INVALID') throw new VigilError('VIGIL_DEVICE_ENROLMENT_INVALID', 'the platform refused the enrolment: the token is invalid, spent or expired (ask for a new one: vigil devices token)');
    throw new VigilError('VIGIL_DEVICE_PROTOCOL', `the platform answered ${status} ${typeof code === 'string' ? code : ''}`.trim());
  }
  for (const f of ['deviceId', 'kind', 'certPem', 'caCertPem', 'platformKeyPem'] as const) {
    if (typeof a[f] !== 'string') throw new VigilError('VIGIL_DEVICE_PROTOCOL', `the enrolment answer has no ${f}`);
  }
  const syncPort = a['syncPort'];
  if (syncPort !== null && (typeof syncPort !== 'number' || !Number.isInteger(syncPort))) throw new VigilError('VIGIL_DEVICE_PROTOCOL', 'the enrolment answer has a bad syncPort');
  return { ...(answer as EnrolmentAnswer), syncPort, keyPem };
}
