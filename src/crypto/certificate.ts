// TLS certificates of the device: validation of admin-supplied ones and generation of the
// self-signed one (design §4: generated at first run, replaceable). Policy (ACS-5.3.1.1,
// NVR-5.3.1.2a): key ECDSA P-256/P-384 or RSA ≥ 2048, signature SHA-256 or stronger, inside its
// validity period, key matching the certificate, chain in order.
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { VigilError } from '../core/errors.ts';
import { webCrypto, x509 } from './x509.ts';

export interface CheckedCertificate {
  /** The chain as PEM, leaf first. */
  certPem: string;
  /** The private key as unencrypted PKCS#8 PEM. */
  keyPem: string;
  /** SHA-256 fingerprint of the leaf, 'AB:CD:…' (the format of tls and X509Certificate). */
  fingerprint256: string;
  selfSigned: boolean;
  notAfter: Date;
  /** DNS names and IP addresses of the leaf's subjectAltName. */
  subjectAltNames: string[];
}

const MAX_CHAIN_CERTS = 10;
const MAX_PEM_BYTES = 256 * 1024;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;
// Signature algorithms with SHA-256 or stronger (RFC 5758 §3.2, RFC 4055 §5).
const SIGNATURE_OIDS = new Map([
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
]);
const RSA_PSS_OID = '1.2.840.113549.1.1.10';
const STRONG_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

/** Validates a certificate chain and its private key; VIGIL_TLS_CERT_INVALID with the reason. */
export function checkCertificate(certPem: string, keyPem: string, now: number): CheckedCertificate {
  if (certPem.length > MAX_PEM_BYTES || keyPem.length > MAX_PEM_BYTES) throw invalid('the PEM input is too large');
  const blocks = certPem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw invalid('no PEM certificate found');
  if (blocks.length > MAX_CHAIN_CERTS) throw invalid(`a chain of more than ${MAX_CHAIN_CERTS} certificates`);
  const chain = blocks.map((block, i) => parseCertificate(block, i));
  const leaf = chain[0];
  if (leaf === undefined) throw invalid('no PEM certificate found');

  const key = parsePrivateKey(keyPem);
  checkKeyAlgorithm(key);
  if (!leaf.checkPrivateKey(key)) throw invalid('the private key does not match the certificate');
  if (now < leaf.validFromDate.getTime()) throw invalid(`the certificate is not valid before ${leaf.validFromDate.toISOString()}`);
  if (now > leaf.validToDate.getTime()) throw invalid(`the certificate expired on ${leaf.validToDate.toISOString()}`);
  const usages = leaf.keyUsage; // extended key usage OIDs, undefined when the extension is absent
  if (usages !== undefined && !usages.includes(SERVER_AUTH_OID)) throw invalid('the certificate is not for TLS server authentication (extendedKeyUsage)');

  chain.forEach((cert, i) => {
    const issuer = chain[i + 1];
    if (issuer !== undefined && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      throw invalid(`certificate ${i + 1} of the chain is not issued by the next one (order the chain leaf first)`);
    }
    // The signature on a self-signed root is not relied upon; every other one must be strong.
    if (i === 0 || !isSelfSigned(cert)) checkSignatureAlgorithm(cert, i);
  });

  return {
    certPem: blocks.map((b) => b.trim()).join('\n') + '\n',
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint256: leaf.fingerprint256,
    selfSigned: isSelfSigned(leaf),
    notAfter: leaf.validToDate,
    subjectAltNames: subjectAltNames(leaf),
  };
}

export interface SelfSignedRequest {
  deviceName: string;
  hostnames: string[];
  now: number;
  validityDays: number;
}

/** A self-signed ECDSA P-256 / SHA-256 certificate for the device's TLS services. */
export async function createSelfSignedCertificate(request: SelfSignedRequest): Promise<{ certPem: string; keyPem: string }> {
  const names = sanNames(request.hostnames);
  const keys = await webCrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [commonName(request.deviceName)] }],
      notBefore: new Date(request.now - 5 * 60_000), // tolerate small clock skew of clients
      notAfter: new Date(request.now + request.validityDays * 86_400_000),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: isIP(n) === 0 ? 'dns' : 'ip', value: n }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  const der = new Uint8Array(await webCrypto.subtle.exportKey('pkcs8', keys.privateKey));
  try {
    const keyPem = createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.byteLength), format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    return { certPem: cert.toString('pem') + '\n', keyPem };
  } finally {
    der.fill(0); // ACS-5.3.1.4
  }
}

/** SAN entries of the device certificate: the configured names plus loopback, deduplicated. */
export function sanNames(hostnames: string[]): string[] {
  const names = new Set<string>();
  for (const raw of [...hostnames, 'localhost', '127.0.0.1', '::1']) {
    const name = raw.trim().toLowerCase();
    if (isIP(name) === 0 && !/^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) {
      throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `'${raw.slice(0, 64)}' is not a host name or IP address`);
    }
    names.add(isIP(name) === 6 ? new URL(`http://[${name}]`).hostname.slice(1, -1) : name);
  }
  if (names.size > 100) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'at most 100 host names in a device certificate');
  return [...names];
}

function parseCertificate(pem: string, index: number): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw invalid(`certificate ${index + 1} cannot be parsed`, err);
  }
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw invalid('the private key cannot be read (an unencrypted PEM key is expected)', err);
  }
}

function checkKeyAlgorithm(key: KeyObject): void {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === undefined || !EC_CURVES.has(details.namedCurve)) {
      throw invalid(`ECDSA keys must be on P-256 or P-384, not ${details?.namedCurve ?? 'an unknown curve'}`);
    }
    return;
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw invalid(`RSA keys must be at least ${MIN_RSA_BITS} bits, this one is ${bits}`);
    return;
  }
  throw invalid(`key type ${key.asymmetricKeyType ?? 'unknown'} is not allowed (ECDSA P-256/P-384 or RSA ≥ 2048)`);
}

function checkSignatureAlgorithm(cert: X509Certificate, index: number): void {
  const oid = cert.signatureAlgorithmOid;
  if (SIGNATURE_OIDS.has(oid)) return;
  if (oid === RSA_PSS_OID) {
    const algorithm = new x509.X509Certificate(cert.raw).signatureAlgorithm;
    if (STRONG_HASHES.has(algorithm.hash.name)) return;
  }
  const name = cert.signatureAlgorithm ?? oid;
  throw invalid(`certificate ${index + 1} is signed with ${name}; SHA-256 or stronger (ECDSA or RSA) is required`);
}

/** Issuer is subject and the certificate verifies with its own key. (checkIssued() would also
 * demand keyCertSign, which a self-signed end-entity certificate rightly lacks.) */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

function subjectAltNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san === undefined) return [];
  const names: string[] = [];
  for (const entry of san.split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase());
    else if (entry.startsWith('IP Address:')) names.push(canonicalIp(entry.slice('IP Address:'.length)));
  }
  return names;
}

function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

/** CN is informational; keep it to characters every DN encoder handles the same way. */
function commonName(deviceName: string): string {
  const cleaned = deviceName.replace(/[^\p{L}\p{N} ._-]/gu, '-').trim().slice(0, 64);
  return cleaned === '' ? 'vigil' : cleaned;
}

function invalid(reason: string, cause?: unknown): VigilError {
  return new VigilError('VIGIL_TLS_CERT_INVALID', `certificate rejected: ${reason}`, cause === undefined ? { details: { reason } } : { details: { reason }, cause });
}
