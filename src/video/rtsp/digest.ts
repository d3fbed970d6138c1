// HTTP Digest for RTSP (RFC 7616; RTSP uses it per RFC 2326 §12.5/§12.44): algorithms MD5 and
// SHA-256, qop=auth, nc/cnonce (§3.4). Pure functions plus the client-side state machine.
// CAM-T-auth-1 / NVR-5.4.1.1a: replay-resistant; Basic (RFC 7617) only over TLS.
import { createHash, randomBytes } from 'node:crypto';
import { VigilError } from '../../core/errors.ts';
import { parseAuthHeader, quote } from './headers.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(text, 'utf8').digest('hex');
}

/** HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2). */
export function digestHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** Absent for RFC 2069 servers that send no qop (client side only). */
  qop: 'auth' | undefined;
  nc: string;
  cnonce: string;
}

/** response = KD(HA1, nonce:nc:cnonce:qop:H(method:uri)) (RFC 7616 §3.4.1). */
export function digestResponse(input: DigestResponseInput): string {
  const ha2 = digestHash(input.algorithm, `${input.method}:${input.uri}`);
  const middle = input.qop === undefined ? input.nonce : `${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}`;
  return digestHash(input.algorithm, `${input.ha1}:${middle}:${ha2}`);
}

export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined || value.toUpperCase() === 'MD5') return 'MD5'; // §3.3: absent means MD5
  if (value.toUpperCase() === 'SHA-256') return 'SHA-256';
  return undefined; // -sess variants and SHA-512-256 are not supported
}

interface DigestChallenge {
  algorithm: DigestAlgorithm;
  realm: string;
  nonce: string;
  opaque: string | undefined;
  qop: 'auth' | undefined;
}

export interface ClientCredentials {
  username: string;
  password: string;
}

/**
 * Client side: picks the strongest challenge it supports (SHA-256 before MD5; Basic only when
 * the connection is TLS), then authorises each request with an increasing nonce count.
 */
export class RtspClientAuth {
  private readonly credentials: ClientCredentials;
  private readonly secure: boolean;
  private digest: DigestChallenge | undefined;
  private basic = false;
  private nonceCount = 0;

  constructor(credentials: ClientCredentials, secure: boolean) {
    this.credentials = credentials;
    this.secure = secure;
  }

  get scheme(): 'Digest' | 'Basic' | undefined {
    return this.digest !== undefined ? 'Digest' : this.basic ? 'Basic' : undefined;
  }

  /** Reads the WWW-Authenticate values of a 401; throws when none is usable. */
  accept(challenges: readonly string[]): void {
    const parsed = challenges.flatMap((c) => {
      try {
        return [parseAuthHeader(c)];
      } catch {
        return [];
      }
    });
    let best: DigestChallenge | undefined;
    let basicOffered = false;
    for (const c of parsed) {
      const scheme = c.scheme.toLowerCase();
      if (scheme === 'basic') basicOffered = true;
      if (scheme !== 'digest') continue;
      const algorithm = parseDigestAlgorithm(c.params.get('algorithm'));
      const realm = c.params.get('realm');
      const nonce = c.params.get('nonce');
      const qops = c.params.get('qop');
      if (algorithm === undefined || realm === undefined || nonce === undefined) continue;
      const qopList = qops === undefined ? undefined : qops.split(',').map((q) => q.trim().toLowerCase());
      if (qopList !== undefined && !qopList.includes('auth')) continue; // auth-int only: unsupported
      const candidate: DigestChallenge = { algorithm, realm, nonce, opaque: c.params.get('opaque'), qop: qopList === undefined ? undefined : 'auth' };
      if (best === undefined || (best.algorithm === 'MD5' && algorithm === 'SHA-256')) best = candidate;
    }
    if (best !== undefined) {
      if (this.digest === undefined || this.digest.nonce !== best.nonce) this.nonceCount = 0;
      this.digest = best;
      return;
    }
    if (basicOffered && this.secure) {
      this.basic = true;
      return;
    }
    if (basicOffered) throw new VigilError('VIGIL_RTSP_AUTH_INSECURE', 'the server offers only Basic authentication over an unencrypted connection; refusing to send the password');
    throw new VigilError('VIGIL_RTSP_UNSUPPORTED', 'the server offers no supported authentication scheme');
  }

  /** The Authorization value for a request, or undefined before any challenge. */
  authorize(method: string, uri: string): string | undefined {
    const d = this.digest;
    if (d === undefined) {
      if (!this.basic) return undefined;
      if (!this.secure) throw new VigilError('VIGIL_RTSP_AUTH_INSECURE', 'Basic authentication is refused without TLS');
      return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`, 'utf8').toString('base64')}`;
    }
    this.nonceCount = (this.nonceCount + 1) >>> 0;
    const nc = this.nonceCount.toString(16).padStart(8, '0');
    const cnonce = randomBytes(16).toString('hex');
    const ha1 = digestHa1(d.algorithm, this.credentials.username, d.realm, this.credentials.password);
    const response = digestResponse({ algorithm: d.algorithm, ha1, nonce: d.nonce, method, uri, qop: d.qop, nc, cnonce });
    const parts = [
      `username=${quote(this.credentials.username)}`, `realm=${quote(d.realm)}`, `nonce=${quote(d.nonce)}`, `uri=${quote(uri)}`,
      `algorithm=${d.algorithm}`, `response=${quote(response)}`,
    ];
    if (d.qop !== undefined) parts.push(`qop=auth`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    if (d.opaque !== undefined) parts.push(`opaque=${quote(d.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}
