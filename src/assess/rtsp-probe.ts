// The lab's own RTSP client bits (RFC 2326 §6–7, RFC 7616 Digest): one request per connection,
// the answer parsed from bounded bytes. Written here, not imported from the product: assess
// tests a target from outside, as a third party would (design §8).
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export interface RtspEndpoint {
  host: string;
  port: number;
  tls: boolean;
  /** Trust anchor for RTSPS; without it the certificate is not validated (and the note says so). */
  ca?: string;
}

export interface RtspAnswer {
  status: number;
  /** Lower-case names; repeated headers keep every value in order. */
  headers: Array<[string, string]>;
  body: string;
}

export interface RtspExchange {
  answer: RtspAnswer | undefined;
  /** Raw bytes received (at most maxBytes). */
  bytes: number;
  closedByPeer: boolean;
  error?: string;
  elapsedMs: number;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * RTSP response (RFC 2326 §7): "RTSP/1.0 SP Status-Code SP Reason CRLF", headers, CRLF, body of
 * Content-Length bytes. Returns undefined until the head is complete or when it is not RTSP.
 */
export function parseRtspAnswer(data: Buffer): RtspAnswer | undefined {
  const text = data.toString('latin1');
  const m = /^RTSP\/\d\.\d (\d{3})[^\r\n]*\r\n/.exec(text);
  if (m?.[1] === undefined) return undefined;
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const headers: Array<[string, string]> = [];
  for (const line of text.slice(m[0].length, end).split('\r\n').slice(0, 128)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.find(([k]) => k === 'content-length')?.[1] ?? '0');
  const body = text.slice(end + 4, end + 4 + (Number.isInteger(length) && length >= 0 ? Math.min(length, MAX_ANSWER_BYTES) : 0));
  return { status: Number(m[1]), headers, body };
}

export function headerValues(answer: RtspAnswer, name: string): string[] {
  return answer.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
}

/** Connects (TLS for RTSPS), sends `request`, reads until one answer is complete, the peer closes or time runs out. */
export function rtspExchange(target: RtspEndpoint, request: Buffer, timeoutMs: number, maxBytes = MAX_ANSWER_BYTES): Promise<RtspExchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket: net.Socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, rejectUnauthorized: target.ca !== undefined, ...(target.ca === undefined ? {} : { ca: target.ca, checkServerIdentity: () => undefined }), ALPNProtocols: [] })
      : net.connect({ host: target.host, port: target.port });
    const done = (closedByPeer: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      resolve({ answer: parseRtspAnswer(data), bytes: data.length, closedByPeer, ...(error === undefined ? {} : { error }), elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => {
      if (size < maxBytes) chunks.push(c.subarray(0, maxBytes - size));
      size += c.length;
      const a = parseRtspAnswer(Buffer.concat(chunks));
      const length = Number(a?.headers.find(([k]) => k === 'content-length')?.[1] ?? '0');
      if (size >= maxBytes || (a !== undefined && Buffer.byteLength(a.body, 'latin1') >= Math.min(length, MAX_ANSWER_BYTES))) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('close', () => done(true));
    socket.on('error', (err: NodeJS.ErrnoException) => done(true, err.code ?? err.message));
  });
}

export function rtspRequest(method: string, uri: string, cseq: number | string, headers: ReadonlyArray<[string, string]> = []): Buffer {
  const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${cseq}`, 'User-Agent: vigil-assess', ...headers.map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export function rtspUri(target: RtspEndpoint, path: string): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.tls ? 'rtsps' : 'rtsp'}://${host}:${target.port}${path.startsWith('/') ? path : `/${path}`}`;
}

// --- WWW-Authenticate (RFC 7235 §4.1) and Digest (RFC 7616 §3.4) ---

export interface AuthChallenge {
  scheme: string;
  params: Map<string, string>;
}

/** One challenge per header value (servers send one WWW-Authenticate per scheme/algorithm). */
export function parseChallenge(value: string): AuthChallenge | undefined {
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]{1,32})(?:\s+(.*))?$/s.exec(value.slice(0, 4096));
  if (m?.[1] === undefined) return undefined;
  const params = new Map<string, string>();
  const re = /([A-Za-z0-9_-]{1,32})\s*=\s*(?:"((?:[^"\\]|\\.){0,1024})"|([^\s,]{0,1024}))\s*(?:,|$)/g;
  const rest = m[2] ?? '';
  for (let p = re.exec(rest), n = 0; p !== null && n < 32; p = re.exec(rest), n++) {
    const key = (p[1] ?? '').toLowerCase();
    params.set(key, p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
  }
  return { scheme: m[1].toLowerCase(), params };
}

export type DigestHash = 'MD5' | 'SHA-256';

export function digestHashOf(challenge: AuthChallenge): DigestHash | undefined {
  const a = (challenge.params.get('algorithm') ?? 'MD5').toUpperCase();
  return a === 'MD5' ? 'MD5' : a === 'SHA-256' ? 'SHA-256' : undefined;
}

function h(alg: DigestHash, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
}

export interface DigestInput {
  algorithm: DigestHash;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  /** Absent for an RFC 2069 challenge without qop. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

/** RFC 7616 §3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or RFC 2069 without qop. */
export function digestResponse(i: DigestInput): string {
  const ha1 = h(i.algorithm, `${i.username}:${i.realm}:${i.password}`);
  const ha2 = h(i.algorithm, `${i.method}:${i.uri}`);
  return i.qop === undefined ? h(i.algorithm, `${ha1}:${i.nonce}:${ha2}`) : h(i.algorithm, `${ha1}:${i.nonce}:${i.nc ?? ''}:${i.cnonce ?? ''}:${i.qop}:${ha2}`);
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** The Authorization header answering a Digest challenge (first use of the nonce: nc=00000001). */
export function digestAuthorization(challenge: AuthChallenge, creds: { username: string; password: string }, method: string, uri: string): string | undefined {
  const algorithm = digestHashOf(challenge);
  const realm = challenge.params.get('realm');
  const nonce = challenge.params.get('nonce');
  if (algorithm === undefined || realm === undefined || nonce === undefined) return undefined;
  const qops = (challenge.params.get('qop') ?? '').split(',').map((q) => q.trim());
  const withQop = qops.includes('auth');
  const cnonce = randomBytes(12).toString('hex');
  const nc = '00000001';
  const response = digestResponse({ algorithm, username: creds.username, password: creds.password, realm, nonce, method, uri, ...(withQop ? { qop: 'auth' as const, nc, cnonce } : {}) });
  const parts = [`username=${quote(creds.username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(uri)}`, `response=${quote(response)}`, `algorithm=${algorithm}`];
  if (withQop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  const opaque = challenge.params.get('opaque');
  if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
