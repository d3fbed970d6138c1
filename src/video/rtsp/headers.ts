// Structured RTSP headers: Transport (RFC 2326 §12.39), Session (§12.37), and the RFC 7235 §2.1
// auth-param lists of WWW-Authenticate / Authorization. Bounded, strict.
import { VigilError } from '../../core/errors.ts';

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTSP_MALFORMED', message);
}

export interface TransportSpec {
  protocol: string;
  unicast: boolean;
  interleaved: [number, number] | undefined;
  clientPort: [number, number] | undefined;
  ssrc: string | undefined;
}

/** The first transport spec of a Transport header that is RTP over TCP (or the first one). */
export function parseTransports(value: string): TransportSpec[] {
  const specs = value.split(',').slice(0, 8);
  return specs.map((spec) => {
    const [protocol = '', ...params] = spec.trim().split(';');
    const out: TransportSpec = { protocol: protocol.toUpperCase(), unicast: false, interleaved: undefined, clientPort: undefined, ssrc: undefined };
    for (const param of params.slice(0, 16)) {
      const [name = '', arg] = param.split('=');
      const key = name.trim().toLowerCase();
      if (key === 'unicast') out.unicast = true;
      else if (key === 'interleaved') out.interleaved = channelPair(arg, 255);
      else if (key === 'client_port') out.clientPort = channelPair(arg, 65_535);
      else if (key === 'ssrc' && arg !== undefined && /^[0-9A-Fa-f]{1,8}$/.test(arg)) out.ssrc = arg;
    }
    return out;
  });
}

function channelPair(arg: string | undefined, max: number): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec((arg ?? '').trim());
  if (m === null) throw malformed('Transport channel pair is malformed');
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) throw malformed('Transport channel out of range');
  return [a, b];
}

export interface SessionHeader {
  id: string;
  timeoutSeconds: number;
}

/** `Session: id[;timeout=n]` (§12.37); timeout defaults to 60 s and is clamped to 5..3600 s. */
export function parseSession(value: string): SessionHeader {
  const [id = '', ...params] = value.split(';');
  const trimmed = id.trim();
  if (!/^[A-Za-z0-9$\-_.+]{1,128}$/.test(trimmed)) throw malformed('Session id is malformed');
  let timeoutSeconds = 60;
  for (const p of params) {
    const m = /^\s*timeout\s*=\s*(\d{1,6})\s*$/i.exec(p);
    if (m !== null) timeoutSeconds = Math.min(3600, Math.max(5, Number(m[1])));
  }
  return { id: trimmed, timeoutSeconds };
}

export interface AuthHeader {
  scheme: string;
  /** Lower-cased parameter names; for Basic, the token68 under the key "token". */
  params: Map<string, string>;
}

const MAX_AUTH_PARAMS = 32;
const MAX_AUTH_HEADER = 4096;

/** `scheme token68` or `scheme name=value, name="quoted \"value\""` (RFC 7235 §2.1). */
export function parseAuthHeader(value: string): AuthHeader {
  if (value.length > MAX_AUTH_HEADER) throw malformed('authentication header too long');
  const m = /^([A-Za-z][A-Za-z0-9-]*)(?:\s+(.*))?$/s.exec(value.trim());
  if (m === null) throw malformed('authentication header is malformed');
  const scheme = m[1] ?? '';
  const rest = m[2] ?? '';
  const params = new Map<string, string>();
  if (/^[A-Za-z0-9._~+/-]+=*$/.test(rest)) {
    params.set('token', rest);
    return { scheme, params };
  }
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && (rest[i] === ' ' || rest[i] === ',' || rest[i] === '\t')) i += 1;
    if (i >= rest.length) break;
    const nameMatch = /^([A-Za-z0-9_-]+)\s*=\s*/.exec(rest.slice(i));
    if (nameMatch === null) throw malformed('authentication parameter is malformed');
    const name = (nameMatch[1] ?? '').toLowerCase();
    i += nameMatch[0].length;
    let val = '';
    if (rest[i] === '"') {
      i += 1;
      while (i < rest.length && rest[i] !== '"') {
        if (rest[i] === '\\') i += 1;
        val += rest[i] ?? '';
        i += 1;
      }
      if (rest[i] !== '"') throw malformed('unterminated quoted string');
      i += 1;
    } else {
      const tok = /^[^\s,]*/.exec(rest.slice(i))?.[0] ?? '';
      val = tok;
      i += tok.length;
    }
    if (params.size >= MAX_AUTH_PARAMS) throw malformed('too many authentication parameters');
    if (!params.has(name)) params.set(name, val);
  }
  return { scheme, params };
}

/** `"value"` with `\` and `"` escaped; CR/LF refused. */
export function quote(value: string): string {
  if (/[\r\n\x00]/.test(value)) throw malformed('control character in a quoted string');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
