import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject, type webcrypto } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls, { type ConnectionOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../core/clock.ts';
import { isVigilError } from '../core/errors.ts';
import { openStore, type Store } from '../store/database.ts';
import { Keyring } from './keyring.ts';
import { installCertificate, loadDeviceTls, TLS_PROFILE, tlsClientOptions, tlsServerOptions, type DeviceTls, type TlsMaterial } from './tls.ts';
import { webCrypto, x509 } from './x509.ts';

const DAY = 86_400_000;
const noFiles = { certFile: '', keyFile: '' };

let root = '';
let dataDir = '';
let store: Store;
let keyring: Keyring;

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vigil-tls-'));
  dataDir = path.join(root, 'data');
  // The database lives in dataDir too, so "nothing under dataDir" covers it.
  store = await openStore({ driver: 'sqlite', file: path.join(dataDir, 'vigil.db') });
  keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(root, 'keyring', 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'vigil-kek', pkcs11PinFile: '' }, store });
});

after(async () => {
  await keyring.close();
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

function isCertInvalid(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(isVigilError(err, 'VIGIL_TLS_CERT_INVALID'), `expected VIGIL_TLS_CERT_INVALID, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

// --- certificates made by the test (an issuing CA and leaves with chosen defects) ----------------

type KeyKind = 'p256' | 'p384' | 'rsa1024' | 'ed25519';

function keyPair(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'p256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (kind === 'p384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (kind === 'ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 1024 });
}

function publicCryptoKey(kind: KeyKind, key: KeyObject): webcrypto.CryptoKey {
  if (kind === 'rsa1024') return key.toCryptoKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
  if (kind === 'ed25519') return key.toCryptoKey({ name: 'Ed25519' }, true, ['verify']);
  return key.toCryptoKey({ name: 'ECDSA', namedCurve: kind === 'p256' ? 'P-256' : 'P-384' }, true, ['verify']);
}

const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const caSigning = caKeys.privateKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
let caCert: x509.X509Certificate | undefined;

async function testCa(): Promise<x509.X509Certificate> {
  caCert ??= await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=Vigil Test CA',
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys: { privateKey: caSigning, publicKey: caKeys.publicKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) },
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    },
    webCrypto,
  );
  return caCert;
}

interface IssueOptions {
  key?: KeyKind;
  hash?: 'SHA-1' | 'SHA-256';
  notBefore?: number;
  notAfter?: number;
}

async function issue(options: IssueOptions = {}): Promise<TlsMaterial> {
  const kind = options.key ?? 'p256';
  const ca = await testCa();
  const pair = keyPair(kind);
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '7f01',
      subject: 'CN=nvr.example.test',
      issuer: ca.subject,
      notBefore: new Date(options.notBefore ?? Date.now() - DAY),
      notAfter: new Date(options.notAfter ?? Date.now() + 90 * DAY),
      signingAlgorithm: { name: 'ECDSA', hash: options.hash ?? 'SHA-256' },
      publicKey: publicCryptoKey(kind, pair.publicKey),
      signingKey: caSigning,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'nvr.example.test' }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    },
    webCrypto,
  );
  return { certPem: leaf.toString('pem') + '\n' + ca.toString('pem') + '\n', keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

// --- a TLS server with the profile, and clients that try it ---------------------------------------

interface Outcome {
  protocol?: string | null;
  cipher?: string;
  error?: Error;
}

async function withServer(material: TlsMaterial, run: (port: number, serverErrors: Error[]) => Promise<void>): Promise<void> {
  const serverErrors: Error[] = [];
  const server = tls.createServer(tlsServerOptions(material), (socket) => socket.end('ok'));
  server.on('tlsClientError', (err) => serverErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port, serverErrors);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function connect(port: number, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      const outcome = { protocol: socket.getProtocol(), cipher: socket.getCipher().standardName };
      socket.destroy();
      resolve(outcome);
    });
    socket.once('error', (error) => resolve({ error }));
  });
}

// --- the tests ------------------------------------------------------------------------------------

describe('device certificate (self-signed, first run)', () => {
  let first: DeviceTls;

  test('created once with the profile: ECDSA P-256, SHA-256, 2 years, SAN hostnames + loopback, CN = device name', async () => {
    first = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr.example.test', '192.0.2.10'], tlsConfig: noFiles });
    assert.equal(first.selfSigned, true);
    const cert = new X509Certificate(first.certPem);
    assert.equal(cert.subject, 'CN=nvr-lobby');
    assert.equal(cert.signatureAlgorithmOid, '1.2.840.10045.4.3.2');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const san = cert.subjectAltName ?? '';
    for (const name of ['DNS:nvr.example.test', 'DNS:localhost', 'IP Address:192.0.2.10', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
      assert.ok(san.includes(name), `SAN has ${name}: ${san}`);
    }
    const days = (first.notAfter.getTime() - Date.now()) / DAY;
    assert.ok(days > 725 && days <= 731, `about two years of validity, got ${days.toFixed(1)} days`);
    assert.equal(first.fingerprint256, cert.fingerprint256);
    assert.equal(statSync(path.join(dataDir, 'tls', 'device.key.sealed')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dataDir, 'tls')).mode & 0o777, 0o700);
  });

  test('reused on later starts (same certificate, same key)', async () => {
    const again = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr.example.test', '192.0.2.10'], tlsConfig: noFiles });
    assert.equal(again.fingerprint256, first.fingerprint256);
    assert.equal(again.keyPem, first.keyPem);
  });

  test('NVR-5.2.4.1a: the private key is nowhere under dataDir in plaintext (PEM, DER or raw scalar)', () => {
    const key = createPrivateKey(first.keyPem);
    const der = key.export({ type: 'pkcs8', format: 'der' });
    const jwk = key.export({ format: 'jwk' });
    const scalar = Buffer.from(jwk.d ?? '', 'base64url');
    assert.equal(scalar.length, 32);
    const pemLines = first.keyPem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    assert.ok(pemLines.length > 0);
    const files = filesUnder(dataDir);
    assert.ok(files.some((f) => f.endsWith('device.key.sealed')) && files.some((f) => f.endsWith('vigil.db')));
    for (const file of files) {
      const bytes = readFileSync(file);
      assert.equal(bytes.indexOf(der), -1, `${file} holds the DER key`);
      assert.equal(bytes.indexOf(scalar), -1, `${file} holds the private scalar`);
      assert.equal(bytes.indexOf('PRIVATE KEY'), -1, `${file} holds a PEM private key`);
      for (const line of pemLines) assert.equal(bytes.indexOf(line), -1, `${file} holds the PEM key body`);
    }
  });

  test('renewed when fewer than 30 days are left, and when the host names change', async () => {
    const clock = new ManualClock(first.notAfter.getTime() - 29 * DAY);
    const renewed = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr.example.test', '192.0.2.10'], tlsConfig: noFiles, clock });
    assert.notEqual(renewed.fingerprint256, first.fingerprint256);
    assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
    const stable = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr.example.test', '192.0.2.10'], tlsConfig: noFiles, clock });
    assert.equal(stable.fingerprint256, renewed.fingerprint256);
    const moved = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr2.example.test'], tlsConfig: noFiles, clock });
    assert.notEqual(moved.fingerprint256, renewed.fingerprint256);
    assert.ok(new X509Certificate(moved.certPem).checkHost('nvr2.example.test') !== undefined);
  });
});

describe('NVR-5.3.1.2a / CAM-T-priv-3: the TLS profile on a real server', () => {
  let device: DeviceTls;
  before(async () => {
    device = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['nvr2.example.test'], tlsConfig: noFiles });
  });

  test('the profile constants are exactly the agreed ones', () => {
    assert.equal(TLS_PROFILE.ciphers, 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384');
    assert.equal(TLS_PROFILE.ecdhCurve, 'P-256:P-384');
    assert.equal(TLS_PROFILE.minVersion, 'TLSv1.2');
    assert.equal(TLS_PROFILE.maxVersion, 'TLSv1.3');
    assert.equal(tlsServerOptions(device).honorCipherOrder, true);
  });

  test('accepts TLS 1.3 (AES-256-GCM) and TLS 1.2 with ECDHE-ECDSA-AES256-GCM-SHA384; a default client gets AES-256', async () => {
    await withServer(device, async (port) => {
      const v13 = await connect(port, tlsClientOptions({ ca: device.certPem, servername: 'localhost' }));
      assert.equal(v13.error, undefined);
      assert.equal(v13.protocol, 'TLSv1.3');
      assert.equal(v13.cipher, 'TLS_AES_256_GCM_SHA384');

      const v12 = await connect(port, { ...tlsClientOptions({ ca: device.certPem, servername: 'localhost' }), maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
      assert.equal(v12.error, undefined);
      assert.equal(v12.protocol, 'TLSv1.2');
      assert.equal(v12.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');

      const plain = await connect(port, { ca: device.certPem, servername: 'localhost' });
      assert.equal(plain.cipher, 'TLS_AES_256_GCM_SHA384');
    });
  });

  test('refuses TLS 1.1, AES-128 / CBC-only clients (1.2 and 1.3) and clients without a P-256/P-384 group', async () => {
    await withServer(device, async (port, serverErrors) => {
      const handshakeFailure = /alert handshake failure/;
      const weak: Array<[string, ConnectionOptions, RegExp]> = [
        ['TLS 1.1', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, /alert protocol version/],
        ['TLS 1.2 AES-128-GCM / CBC', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256:AES256-SHA256' }, handshakeFailure],
        ['TLS 1.3 AES-128 only', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256' }, handshakeFailure],
        ['X25519 only', { ecdhCurve: 'X25519' }, handshakeFailure],
      ];
      for (const [name, options, expected] of weak) {
        const before = serverErrors.length;
        const outcome = await connect(port, { ca: device.certPem, servername: 'localhost', ...options });
        assert.ok(outcome.error !== undefined, `${name}: the handshake must fail, got ${outcome.protocol ?? ''} ${outcome.cipher ?? ''}`);
        assert.ok(serverErrors.length > before, `${name}: the server is the one refusing`);
        // The server's alert reached the client: 70 protocol_version or 40 handshake_failure.
        assert.match(String(outcome.error?.message), expected, name);
      }
    });
  });

  test('tlsClientOptions always verifies: no CA → refused, wrong host → refused, wrong pin → refused, right pin → accepted', async () => {
    await withServer(device, async (port) => {
      const options = tlsClientOptions({ servername: 'localhost' });
      assert.equal(options.rejectUnauthorized, true);
      const noCa = await connect(port, options);
      assert.match(String(noCa.error?.message), /self[- ]signed/i);

      const wrongHost = await connect(port, tlsClientOptions({ ca: device.certPem, servername: 'evil.example.test' }));
      assert.match(String(wrongHost.error?.message), /altnames|does not match/i);

      const wrongPin = await connect(port, tlsClientOptions({ ca: device.certPem, servername: 'localhost', pinnedFingerprint256: 'AB'.repeat(32) }));
      assert.match(String(wrongPin.error?.message), /pinned fingerprint/);

      const rightPin = await connect(port, tlsClientOptions({ ca: device.certPem, servername: 'localhost', pinnedFingerprint256: device.fingerprint256.replace(/:/g, '').toLowerCase() }));
      assert.equal(rightPin.error, undefined);
      assert.equal(rightPin.protocol, 'TLSv1.3');
    });
  });
});

describe('installCertificate (admin replaces the device certificate)', () => {
  test('refuses an expired certificate and one not valid yet', async () => {
    const expired = await issue({ notBefore: Date.now() - 400 * DAY, notAfter: Date.now() - DAY });
    await assert.rejects(installCertificate({ dataDir, keyring, ...expired }), isCertInvalid(/expired/));
    const future = await issue({ notBefore: Date.now() + 10 * DAY, notAfter: Date.now() + 100 * DAY });
    await assert.rejects(installCertificate({ dataDir, keyring, ...future }), isCertInvalid(/not valid before/));
  });

  test('refuses a key that does not match the certificate', async () => {
    const a = await issue();
    const b = await issue();
    await assert.rejects(installCertificate({ dataDir, keyring, certPem: a.certPem, keyPem: b.keyPem }), isCertInvalid(/does not match/));
  });

  test('refuses RSA-1024, Ed25519 keys and a SHA-1 signature', async () => {
    await assert.rejects(installCertificate({ dataDir, keyring, ...(await issue({ key: 'rsa1024' })) }), isCertInvalid(/RSA keys must be at least 2048 bits, this one is 1024/));
    await assert.rejects(installCertificate({ dataDir, keyring, ...(await issue({ key: 'ed25519' })) }), isCertInvalid(/ed25519 is not allowed/));
    await assert.rejects(installCertificate({ dataDir, keyring, ...(await issue({ hash: 'SHA-1' })) }), isCertInvalid(/SHA-256 or stronger/));
  });

  test('refuses garbage and an encrypted key', async () => {
    const good = await issue();
    await assert.rejects(installCertificate({ dataDir, keyring, certPem: 'hello', keyPem: good.keyPem }), isCertInvalid(/no PEM certificate/));
    const encrypted = createPrivateKey(good.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass-phrase' }).toString();
    await assert.rejects(installCertificate({ dataDir, keyring, certPem: good.certPem, keyPem: encrypted }), isCertInvalid(/cannot be read/));
  });

  test('accepts a valid P-256 certificate with its chain; loadDeviceTls then returns it and a server serves it', async () => {
    const good = await issue({ key: 'p256' });
    const installed = await installCertificate({ dataDir, keyring, ...good, clock: new ManualClock(Date.now()) });
    assert.equal(installed.selfSigned, false);
    assert.equal(installed.fingerprint256, new X509Certificate(good.certPem).fingerprint256);
    const sealed = readFileSync(path.join(dataDir, 'tls', 'device.key.sealed'));
    assert.equal(sealed.indexOf(createPrivateKey(good.keyPem).export({ type: 'pkcs8', format: 'der' })), -1);

    const loaded = await loadDeviceTls({ dataDir, keyring, deviceName: 'nvr-lobby', hostnames: ['other.example.test'], tlsConfig: noFiles });
    assert.equal(loaded.fingerprint256, installed.fingerprint256, 'an installed certificate is not replaced by a self-signed one');
    const ca = (await testCa()).toString('pem');
    await withServer(loaded, async (port) => {
      const outcome = await connect(port, tlsClientOptions({ ca, servername: 'nvr.example.test' }));
      assert.equal(outcome.error, undefined);
      assert.equal(outcome.cipher, 'TLS_AES_256_GCM_SHA384');
    });
  });

  test('P-384 is accepted too', async () => {
    const p384 = await issue({ key: 'p384' });
    const installed = await installCertificate({ dataDir, keyring, ...p384 });
    assert.equal(installed.notAfter.getTime() > Date.now(), true);
  });
});

describe('tls.certFile / tls.keyFile from the configuration', () => {
  test('loaded and validated; a key file readable by others is refused', async () => {
    const good = await issue();
    const certFile = path.join(root, 'admin.crt');
    const keyFile = path.join(root, 'admin.key');
    writeFileSync(certFile, good.certPem);
    writeFileSync(keyFile, good.keyPem, { mode: 0o600 });
    const loaded = await loadDeviceTls({ dataDir, keyring, deviceName: 'x', hostnames: [], tlsConfig: { certFile, keyFile } });
    assert.equal(loaded.fingerprint256, new X509Certificate(good.certPem).fingerprint256);

    writeFileSync(path.join(root, 'loose.key'), good.keyPem, { mode: 0o644 });
    await assert.rejects(
      loadDeviceTls({ dataDir, keyring, deviceName: 'x', hostnames: [], tlsConfig: { certFile, keyFile: path.join(root, 'loose.key') } }),
      isCertInvalid(/group or others/),
    );
    const expired = await issue({ notBefore: Date.now() - 400 * DAY, notAfter: Date.now() - DAY });
    writeFileSync(certFile, expired.certPem);
    writeFileSync(keyFile, expired.keyPem, { mode: 0o600 });
    await assert.rejects(loadDeviceTls({ dataDir, keyring, deviceName: 'x', hostnames: [], tlsConfig: { certFile, keyFile } }), isCertInvalid(/expired/));
  });
});
