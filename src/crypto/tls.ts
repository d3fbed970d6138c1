// The TLS profile (design §4; NVR-5.3.1.2a, CAM-T-priv-3: AES-256 only; seed 002 App. A):
// TLS 1.2 and 1.3, the three AES-256-GCM suites below, ECDHE on P-256/P-384, signatures with
// SHA-256 or stronger. Every TLS server and client of Vigil takes its options from here, and
// certificate validation is always on.
import { constants, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate, type TlsOptions } from 'node:tls';
import { VigilError } from '../core/errors.ts';

export { installCertificate, loadDeviceTls, type DeviceTls, type InstallCertificateOptions, type LoadDeviceTlsOptions } from './device-tls.ts';

export interface TlsProfile {
  readonly minVersion: 'TLSv1.2';
  readonly maxVersion: 'TLSv1.3';
  readonly ciphers: string;
  readonly ecdhCurve: string;
}

export const TLS_PROFILE: TlsProfile = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  // One list for both versions: Node passes the TLS_* names to the TLS 1.3 suite list.
  ciphers: ['TLS_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'].join(':'),
  ecdhCurve: 'P-256:P-384',
});

/** Handshake signature schemes: ECDSA on P-256/P-384 and RSA (PSS preferred), SHA-256 or stronger. */
export const TLS_SIGNATURE_ALGORITHMS = [
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
  'rsa_pkcs1_sha256',
  'rsa_pkcs1_sha384',
  'rsa_pkcs1_sha512',
].join(':');

/** Lifetime of resumable TLS sessions: short, so a resumed session is not an old one. */
export const TLS_SESSION_TIMEOUT_SECONDS = 300;

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

export function tlsServerOptions(material: TlsMaterial): TlsOptions {
  return {
    cert: material.certPem,
    key: material.keyPem,
    minVersion: TLS_PROFILE.minVersion,
    maxVersion: TLS_PROFILE.maxVersion,
    ciphers: TLS_PROFILE.ciphers,
    ecdhCurve: TLS_PROFILE.ecdhCurve,
    sigalgs: TLS_SIGNATURE_ALGORITHMS,
    honorCipherOrder: true,
    sessionTimeout: TLS_SESSION_TIMEOUT_SECONDS,
    // No TLS 1.2 renegotiation at all (a client-triggered CPU sink; TLS 1.3 has none) and no
    // compression (CRIME).
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION,
  };
}

export interface TlsClientRequest {
  /** Trusted CA certificate(s), PEM. Omitted: the system's CA store. */
  ca?: string;
  /** SHA-256 fingerprint the server's leaf certificate must have ('AB:CD:…' or plain hex). */
  pinnedFingerprint256?: string;
  /** Host name to verify (and send as SNI unless it is an IP address). */
  servername?: string;
  /**
   * How the server is identified after the chain is validated: by its host name (default), or
   * — for a certificate the admin confirmed on first use (TOFU, CAM-T-auth-2/3) — by the exact
   * pin alone. The pin is a SHA-256 of the whole certificate, so it names one certificate and
   * nothing else; the host name adds nothing to it, and a self-signed camera certificate often
   * names an address the NVR does not use (NAT, DHCP, a name the camera does not know).
   */
  identity?: 'hostname' | 'pin';
}

/**
 * Client options with the profile applied. The certificate chain is always verified
 * (rejectUnauthorized is true, whatever the caller does with the result afterwards), then the
 * host name (or, with identity 'pin', nothing but the exact pin), then the pin if one is given:
 * a pin adds to chain validation, it never replaces it.
 */
export function tlsClientOptions(options: TlsClientRequest): ConnectionOptions {
  const pin = options.pinnedFingerprint256 === undefined ? undefined : normaliseFingerprint(options.pinnedFingerprint256);
  if (options.identity === 'pin' && pin === undefined) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'identity by pin needs a pinned fingerprint');
  const byHostname = options.identity !== 'pin';
  const result: ConnectionOptions = {
    minVersion: TLS_PROFILE.minVersion,
    maxVersion: TLS_PROFILE.maxVersion,
    ciphers: TLS_PROFILE.ciphers,
    ecdhCurve: TLS_PROFILE.ecdhCurve,
    sigalgs: TLS_SIGNATURE_ALGORITHMS,
    rejectUnauthorized: true,
    checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
      const mismatch = byHostname ? tls.checkServerIdentity(host, cert) : undefined;
      if (mismatch !== undefined) return mismatch;
      if (pin !== undefined && !fingerprintsEqual(pin, normaliseFingerprint(cert.fingerprint256))) {
        return new VigilError('VIGIL_TLS_CERT_INVALID', `the server certificate of ${host} does not match the pinned fingerprint`);
      }
      return undefined;
    },
  };
  if (options.ca !== undefined) result.ca = options.ca;
  // RFC 6066 §3: SNI carries host names only, never IP literals.
  if (options.servername !== undefined && isIP(options.servername) === 0) result.servername = options.servername;
  return result;
}

/** 'ab:CD:…' or 'abcd…' → 'ABCD…' (64 hex digits), else VIGIL_CRYPTO_BAD_INPUT. */
export function normaliseFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'a SHA-256 fingerprint is 32 bytes in hex');
  return hex;
}

function fingerprintsEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
