// Trust on first use (CAM-T-auth-2/3) against a real TLS server on loopback whose self-signed
// certificate names another host: the probe reads it without the server receiving one byte;
// the pinned connection accepts exactly that certificate (the pin replaces the host name), and
// refuses another one — or the same one expired — before any byte is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { isVigilError } from '../core/errors.ts';
import { tlsServerOptions, type TlsMaterial } from './tls.ts';
import { connectPinned, readServerCertificate } from './tls-trust.ts';
import { webCrypto, x509 } from './x509.ts';

const DAY = 86_400_000;

async function selfSigned(name: string, notAfter = Date.now() + 90 * DAY): Promise<TlsMaterial> {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(notAfter),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys: { privateKey: keys.privateKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']), publicKey: keys.publicKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  }, webCrypto);
  return { certPem: cert.toString('pem'), keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

describe('TLS trust on first use', () => {
  let device: TlsMaterial;
  let other: TlsMaterial;
  let expired: TlsMaterial;
  let server: tls.Server;
  let port = 0;
  let received = 0;
  const serve = (m: TlsMaterial): void => server.setSecureContext(tlsServerOptions(m));

  before(async () => {
    device = await selfSigned('camera.elsewhere.test');
    other = await selfSigned('camera.elsewhere.test');
    expired = await selfSigned('camera.elsewhere.test', Date.now() - DAY);
    server = tls.createServer(tlsServerOptions(device), (socket) => {
      socket.on('data', (d: Buffer) => { received += d.length; socket.end('pong'); });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
  });

  const fingerprint = (m: TlsMaterial): string => new X509Certificate(m.certPem).fingerprint256;

  test('the probe returns the certificate, its own anchor, and the server receives nothing', async () => {
    serve(device);
    received = 0;
    const seen = await readServerCertificate({ host: '127.0.0.1', port, timeoutMs: 5000 });
    assert.equal(seen.fingerprint256, fingerprint(device));
    assert.equal(seen.selfSigned, true);
    assert.equal(seen.publiclyTrusted, false);
    assert.match(seen.subject, /CN=camera\.elsewhere\.test/);
    assert.equal(seen.anchorPem?.trim(), new X509Certificate(device.certPem).toString().trim());
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 0);
  });

  test('pinned: the confirmed certificate is accepted although it names another host; data flows', async () => {
    serve(device);
    const socket = await connectPinned({ host: '127.0.0.1', port, timeoutMs: 5000, anchorPem: device.certPem, fingerprint256: fingerprint(device) });
    const answer = await new Promise<string>((resolve) => { socket.once('data', (d: Buffer) => resolve(d.toString())); socket.write('ping'); });
    socket.destroy();
    assert.equal(answer, 'pong');
  });

  test('pinned: another certificate (a swapped device) is refused with both fingerprints, nothing written', async () => {
    serve(other);
    received = 0;
    await assert.rejects(
      connectPinned({ host: '127.0.0.1', port, timeoutMs: 5000, anchorPem: device.certPem, fingerprint256: fingerprint(device) }),
      (err: unknown) => isVigilError(err, 'VIGIL_TLS_CERT_INVALID') && err.details?.['expected'] === fingerprint(device) && err.details['seen'] === fingerprint(other) && /not the confirmed one/.test(err.message),
    );
    // Even with the other certificate as anchor, the pin alone refuses it.
    await assert.rejects(
      connectPinned({ host: '127.0.0.1', port, timeoutMs: 5000, anchorPem: other.certPem, fingerprint256: fingerprint(device) }),
      (err: unknown) => isVigilError(err, 'VIGIL_TLS_CERT_INVALID') && err.details?.['seen'] === fingerprint(other),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 0);
  });

  test('pinned: the pin does not excuse an expired certificate (CAM-T-auth-3 validity)', async () => {
    serve(expired);
    await assert.rejects(
      connectPinned({ host: '127.0.0.1', port, timeoutMs: 5000, anchorPem: expired.certPem, fingerprint256: fingerprint(expired) }),
      (err: unknown) => isVigilError(err, 'VIGIL_TLS_CERT_INVALID') && /failed validation \(CERT_HAS_EXPIRED\)/.test(err.message),
    );
  });

  test('nobody listening: VIGIL_TLS_UNREACHABLE', async () => {
    await assert.rejects(readServerCertificate({ host: '127.0.0.1', port: 1, timeoutMs: 2000 }), (err: unknown) => isVigilError(err, 'VIGIL_TLS_UNREACHABLE'));
  });
});
