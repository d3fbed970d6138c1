// Trust on first use for a device's TLS certificate (CAM-T-auth-2, CAM-T-auth-3), in two steps
// that never weaken validation:
//
// 1. readServerCertificate: a TLS handshake with the Vigil profile and validation on, that
//    writes no application byte. The certificate is read from the socket's internal 'secure'
//    event (Node emits it when the handshake completes, before its own verdict), then the
//    socket is destroyed whatever the verdict. The admin compares the fingerprint with the one
//    the device shows (a Vigil camera: System → device certificate).
// 2. connectPinned: the confirmed certificate's chain anchor (a self-signed device certificate
//    is its own anchor) becomes the only trusted CA and the confirmed fingerprint the pin, with
//    identity by pin (tls.ts): issuer, signature, validity and format are still checked by
//    OpenSSL, the host name is replaced by the exact pin. The caller gets the socket only after
//    all of that passed (`secureConnect`), so nothing — no credential — is written to a device
//    whose certificate differs; on a difference the error names the expected and the seen
//    fingerprint. No TLS session is ever passed in, so no resumed session skips the checks.
import { X509Certificate } from 'node:crypto';
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { VigilError } from '../core/errors.ts';
import { normaliseFingerprint, tlsClientOptions } from './tls.ts';

const MAX_CHAIN = 8;


/** Ends a socket we are done with; a late error from it must not surface (nothing listens any more). */
function discard(socket: TLSSocket): void {
  socket.removeAllListeners('error');
  socket.on('error', () => undefined);
  socket.destroy();
}

export interface ServerCertificate {
  /** SHA-256 of the DER certificate, 'AB:CD:…' (as devices and browsers display it). */
  fingerprint256: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  selfSigned: boolean;
  /** Whether the chain validated against the system CA store (informative only). */
  publiclyTrusted: boolean;
  /** The top of the presented chain if it is self-signed: the anchor a pin can be used with. */
  anchorPem: string | undefined;
}

export interface TlsEndpoint {
  host: string;
  port: number;
  timeoutMs: number;
}

/** 'ABCD…' or 'ab:cd…' → 'AB:CD:…'. */
export function displayFingerprint(fingerprint: string): string {
  return (normaliseFingerprint(fingerprint).match(/../g) ?? []).join(':');
}

/**
 * Signed by its own key under its own name. Not X509Certificate.checkIssued: that also wants
 * keyCertSign, which a device's self-signed leaf rightly lacks (OpenSSL still takes the exact
 * certificate as a trust anchor when it is given as the CA).
 */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

/** The topmost certificate the server sent, if it is self-signed (a device CA or the device itself). */
function chainAnchor(peer: DetailedPeerCertificate): X509Certificate | undefined {
  let current = peer;
  for (let i = 0; i < MAX_CHAIN; i++) {
    const up = current.issuerCertificate as DetailedPeerCertificate | undefined;
    if (up === undefined || up === current || up.raw === undefined || up.raw.equals(current.raw)) break;
    current = up;
  }
  const top = new X509Certificate(current.raw);
  return isSelfSigned(top) ? top : undefined;
}

function describe(x509: X509Certificate, anchor: X509Certificate | undefined, publiclyTrusted: boolean): ServerCertificate {
  return {
    fingerprint256: displayFingerprint(x509.fingerprint256),
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
    selfSigned: isSelfSigned(x509),
    publiclyTrusted,
    anchorPem: anchor?.toString(),
  };
}

function unreachable(endpoint: TlsEndpoint, err: unknown): VigilError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return new VigilError('VIGIL_TLS_UNREACHABLE', `no TLS connection to ${endpoint.host}:${endpoint.port}${code === '' ? '' : ` (${code})`}`, { details: { reason: code || 'timeout' }, cause: err });
}

/** Step 1: the certificate the server presents. Sends nothing; the socket is always destroyed. */
export function readServerCertificate(endpoint: TlsEndpoint): Promise<ServerCertificate> {
  return new Promise((resolve, reject) => {
    let seen: { peer: DetailedPeerCertificate } | undefined;
    let settled = false;
    const socket = tls.connect({ ...tlsClientOptions({ servername: endpoint.host }), host: endpoint.host, port: endpoint.port });
    const finish = (publiclyTrusted: boolean, err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      discard(socket);
      if (seen === undefined || seen.peer.raw === undefined) {
        reject(unreachable(endpoint, err));
        return;
      }
      try {
        const x509 = new X509Certificate(seen.peer.raw);
        resolve(describe(x509, chainAnchor(seen.peer), publiclyTrusted));
      } catch (cause) {
        reject(new VigilError('VIGIL_TLS_CERT_INVALID', 'the server certificate could not be read', { cause }));
      }
    };
    const timer = setTimeout(() => finish(false, new Error('timeout')), endpoint.timeoutMs);
    socket.prependListener('secure', () => {
      // getPeerCertificate, not getPeerX509Certificate (see assess/tls-probe.ts, Node 24).
      seen = { peer: socket.getPeerCertificate(true) };
    });
    socket.once('secureConnect', () => finish(true));
    socket.once('error', (err) => finish(false, err));
  });
}

export interface PinnedEndpoint extends TlsEndpoint {
  /** PEM of the chain anchor confirmed with the pin (for a self-signed device, the certificate). */
  anchorPem: string;
  fingerprint256: string;
}

/**
 * Step 2: a TLS socket to a server whose certificate is exactly the pinned one, resolved only
 * after every check passed. A different certificate → VIGIL_TLS_CERT_INVALID with details
 * { expected, seen } (the fingerprints), and nothing written.
 */
export function connectPinned(endpoint: PinnedEndpoint): Promise<TLSSocket> {
  const expected = displayFingerprint(endpoint.fingerprint256);
  return new Promise((resolve, reject) => {
    let seen: string | undefined;
    let settled = false;
    const socket = tls.connect({
      ...tlsClientOptions({ ca: endpoint.anchorPem, pinnedFingerprint256: expected, servername: endpoint.host, identity: 'pin' }),
      host: endpoint.host,
      port: endpoint.port,
    });
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      discard(socket);
      if (seen === undefined) {
        reject(unreachable(endpoint, err));
        return;
      }
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
      const message = seen === expected
        ? `the certificate of ${endpoint.host}:${endpoint.port} is the pinned one but failed validation (${code || 'invalid'})`
        : `the certificate of ${endpoint.host}:${endpoint.port} is not the confirmed one (expected ${expected}, seen ${seen})`;
      reject(new VigilError('VIGIL_TLS_CERT_INVALID', message, { details: { expected, seen, reason: code }, cause: err }));
    };
    const timer = setTimeout(() => fail(new Error('timeout')), endpoint.timeoutMs);
    socket.prependListener('secure', () => {
      const raw = socket.getPeerCertificate(false).raw;
      if (raw !== undefined) seen = displayFingerprint(new X509Certificate(raw).fingerprint256);
    });
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}
