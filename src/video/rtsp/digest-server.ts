// Server side of RTSP Digest authentication (RFC 7616 §3.3–3.5), CAM-T-auth-1, NVR-5.4.1.1a/b.
//
// Nonces are self-authenticating: base64url(issued-ms(8) | random(16) | HMAC-SHA256(key, both)[0..16]),
// so an unauthenticated flood of challenges stores nothing. A nonce expires after nonceTtlMs
// (answered 401 stale=true). Replay: each used nonce keeps its last nonce count in a bounded
// map; nc must grow. When the map evicts a nonce, every nonce issued at or before it is
// treated as stale, so eviction can never reopen a replay window.
// Unknown users and wrong passwords get the same answer after the same work (NVR-5.4.1.1b).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.ts';
import { parseAuthHeader, quote, type AuthHeader } from './headers.ts';
import { digestHa1, digestResponse, parseDigestAlgorithm, type DigestAlgorithm } from './digest.ts';

export interface RtspCredentialVerifier {
  /** HA1 = H(username:realm:password) in lower-case hex, or undefined for an unknown/disabled user. */
  digestHa1(username: string, realm: string, algorithm: DigestAlgorithm): Promise<string | undefined>;
  /** Basic over TLS only, and only when allowBasicOverTls is set. */
  verifyPassword?(username: string, password: string): Promise<boolean>;
}

export interface RtspAuthenticatorOptions {
  realm: string;
  verifier: RtspCredentialVerifier;
  /** Offered in this order (RFC 7616 §3.7: preferred first). Default SHA-256 only; add MD5 for legacy clients (ffmpeg). */
  algorithms?: readonly DigestAlgorithm[];
  nonceTtlMs?: number;
  maxTrackedNonces?: number;
  allowBasicOverTls?: boolean;
  /**
   * Accept RFC 2069 Digest (MD5, no qop/nc/cnonce: what GStreamer 1.22's rtspsrc sends) on TLS
   * connections only, where nobody can capture the header to replay it. Needs MD5 offered.
   */
  allowLegacyDigestOverTls?: boolean;
  clock?: Clock;
}

export type AuthOutcome = { ok: true; username: string } | { ok: false; stale: boolean };

const NONCE_BYTES = 8 + 16 + 16;

export class RtspAuthenticator {
  readonly realm: string;
  private readonly verifier: RtspCredentialVerifier;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonceTtlMs: number;
  private readonly maxTracked: number;
  private readonly allowBasic: boolean;
  private readonly allowLegacy: boolean;
  private readonly clock: Clock;
  private readonly key = randomBytes(32);
  private readonly used = new Map<string, { issued: number; nc: number }>();
  private evictedUpTo = -1;

  constructor(options: RtspAuthenticatorOptions) {
    if (/["\\\r\n]/.test(options.realm) || options.realm.length === 0 || options.realm.length > 128) throw new TypeError('invalid realm');
    this.realm = options.realm;
    this.verifier = options.verifier;
    this.algorithms = options.algorithms ?? ['SHA-256'];
    if (this.algorithms.length === 0) throw new TypeError('at least one Digest algorithm');
    this.nonceTtlMs = options.nonceTtlMs ?? 10 * 60_000;
    this.maxTracked = options.maxTrackedNonces ?? 4096;
    this.allowBasic = options.allowBasicOverTls ?? false;
    this.allowLegacy = options.allowLegacyDigestOverTls ?? false;
    this.clock = options.clock ?? systemClock;
  }

  /** WWW-Authenticate values for a 401. Basic is offered only over TLS and only when enabled. */
  challenges(secure: boolean, stale = false): string[] {
    const nonce = this.issueNonce();
    const out = this.algorithms.map((alg) => `Digest realm=${quote(this.realm)}, nonce=${quote(nonce)}, algorithm=${alg}, qop="auth"${stale ? ', stale=true' : ''}`);
    if (secure && this.allowBasic && this.verifier.verifyPassword !== undefined) out.push(`Basic realm=${quote(this.realm)}`);
    return out;
  }

  async authenticate(method: string, uri: string, authorization: string | undefined, secure: boolean): Promise<AuthOutcome> {
    if (authorization === undefined) return { ok: false, stale: false };
    let header: AuthHeader;
    try {
      header = parseAuthHeader(authorization);
    } catch {
      return { ok: false, stale: false };
    }
    const scheme = header.scheme.toLowerCase();
    if (scheme === 'basic') return this.basic(header, secure);
    if (scheme !== 'digest') return { ok: false, stale: false };
    return this.digest(method, uri, header.params, secure);
  }

  private async basic(header: AuthHeader, secure: boolean): Promise<AuthOutcome> {
    // CAM-T-com-1: a password in clear is never even checked.
    const verify = this.verifier.verifyPassword;
    if (!secure || !this.allowBasic || verify === undefined) return { ok: false, stale: false };
    const decoded = Buffer.from(header.params.get('token') ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { ok: false, stale: false };
    const username = decoded.slice(0, colon);
    const ok = await verify.call(this.verifier, username, decoded.slice(colon + 1));
    return ok ? { ok: true, username } : { ok: false, stale: false };
  }

  private async digest(method: string, uri: string, p: Map<string, string>, secure: boolean): Promise<AuthOutcome> {
    const algorithm = parseDigestAlgorithm(p.get('algorithm'));
    const username = p.get('username');
    const nonce = p.get('nonce') ?? '';
    const response = p.get('response') ?? '';
    // RFC 2069 form: no qop, nc or cnonce — so no nonce count to stop a replay; TLS only.
    const legacy = p.get('qop') === undefined && !p.has('nc') && !p.has('cnonce');
    const nc = legacy ? '00000001' : (p.get('nc') ?? '');
    const cnonce = legacy ? '' : p.get('cnonce');
    if (algorithm === undefined || !this.algorithms.includes(algorithm) || username === undefined || cnonce === undefined) return { ok: false, stale: false };
    if (legacy && !(this.allowLegacy && secure && algorithm === 'MD5')) return { ok: false, stale: false };
    if (p.get('realm') !== this.realm || (!legacy && p.get('qop') !== 'auth') || p.get('uri') !== uri || p.get('userhash') === 'true') return { ok: false, stale: false };
    if (!/^[0-9a-fA-F]{8}$/.test(nc) || !/^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{64}$/.test(response) || cnonce.length > 256 || username.length > 256) return { ok: false, stale: false };
    const issued = this.checkNonce(nonce);
    if (issued === undefined) return { ok: false, stale: false };
    const count = Number.parseInt(nc, 16);
    const state = this.used.get(nonce);
    const now = this.clock.now();
    if (now - issued > this.nonceTtlMs || (state === undefined && issued <= this.evictedUpTo)) return { ok: false, stale: true };
    const known = await this.verifier.digestHa1(username, this.realm, algorithm);
    // Same work for an unknown user (NVR-5.4.1.1b): compare against a random HA1.
    const ha1 = known ?? randomBytes(algorithm === 'MD5' ? 16 : 32).toString('hex');
    const expected = digestResponse({ algorithm, ha1, nonce, method, uri, qop: legacy ? undefined : 'auth', nc, cnonce });
    const a = Buffer.from(expected, 'utf8');
    const b = Buffer.from(response.toLowerCase(), 'utf8');
    const match = a.length === b.length && timingSafeEqual(a, b);
    if (!match || known === undefined) return { ok: false, stale: false };
    // A legacy client repeats the nonce on each request of its TLS connection: no count to check.
    if (legacy) return { ok: true, username };
    const current = this.used.get(nonce); // re-read: another request may have used it meanwhile
    if (current !== undefined && count <= current.nc) return { ok: false, stale: true }; // replayed nc
    this.remember(nonce, issued, count);
    return { ok: true, username };
  }

  private remember(nonce: string, issued: number, nc: number): void {
    this.used.delete(nonce);
    this.used.set(nonce, { issued, nc });
    while (this.used.size > this.maxTracked) {
      const oldest = this.used.entries().next().value;
      if (oldest === undefined) break;
      this.used.delete(oldest[0]);
      this.evictedUpTo = Math.max(this.evictedUpTo, oldest[1].issued);
    }
  }

  private issueNonce(): string {
    const body = Buffer.alloc(24);
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))), 0);
    randomBytes(16).copy(body, 8);
    const mac = createHmac('sha256', this.key).update(body).digest().subarray(0, 16);
    return Buffer.concat([body, mac]).toString('base64url');
  }

  /** The issue time of an authentic nonce, else undefined. */
  private checkNonce(nonce: string): number | undefined {
    if (!/^[A-Za-z0-9_-]{54}$/.test(nonce)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return undefined;
    const mac = createHmac('sha256', this.key).update(raw.subarray(0, 24)).digest().subarray(0, 16);
    if (!timingSafeEqual(mac, raw.subarray(24))) return undefined;
    return Number(raw.readBigUInt64BE(0));
  }
}

/** The user name a Digest Authorization header claims (for the audit and lockout of a failure), or ''. */
export function claimedDigestUsername(authorization: string): string {
  return /username="([^"]{1,256})"/.exec(authorization)?.[1] ?? '';
}

/** A verifier over a fixed user table (tests, or a camera's local account held in memory). */
export function staticCredentialVerifier(users: ReadonlyMap<string, string>): RtspCredentialVerifier {
  return {
    digestHa1: async (username, realm, algorithm) => {
      const password = users.get(username);
      return password === undefined ? undefined : digestHa1(algorithm, username, realm, password);
    },
    verifyPassword: async (username, password) => {
      const expected = users.get(username);
      if (expected === undefined) return false;
      const a = Buffer.from(expected, 'utf8');
      const b = Buffer.from(password, 'utf8');
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
