// Test-only webhook receivers: a local HTTPS server on 127.0.0.1:0 with a self-signed
// certificate made by the openssl CLI. Not used by the product.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface ReceivedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestReceiver {
  url: string;
  /** The receiver's self-signed certificate, usable as a webhook caFile. */
  certFile: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A self-signed P-256 certificate for IP 127.0.0.1. */
export function makeSelfSignedCert(dir: string, name: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
  } catch (err) {
    throw new Error(`openssl failed (apt-get install openssl): ${(err as Error).message}`);
  }
  return { certFile, keyFile };
}

/** `status(n)` gives the HTTP status of the n-th request (0-based); 200 by default. */
export async function startHttpsReceiver(dir: string, name: string, status: (n: number) => number = () => 200): Promise<TestReceiver> {
  const { certFile, keyFile } = makeSelfSignedCert(dir, name);
  const received: ReceivedRequest[] = [];
  const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const n = received.length;
      received.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status(n);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${String(port)}/hooks/vigil`,
    certFile,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
