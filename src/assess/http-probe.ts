// A small, bounded HTTP(S) client for probes: one request per connection (no pooled sockets left
// behind), a time limit, a body limit, no redirects followed. Certificate validation stays on:
// the trust anchor is the --ca file, the system store, or the self-signed certificate observed by
// the TLS probe (trust on first use, reported as such).
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export type Scheme = 'http' | 'https';

export interface WebEndpoint {
  scheme: Scheme;
  host: string;
  port: number;
  /** PEM trust anchor for https; undefined means the system store. */
  ca?: string;
}

export interface ProbeRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface ProbeResponse {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: string;
  truncated: boolean;
  elapsedMs: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;

export function endpointUrl(e: WebEndpoint, path = '/'): string {
  const host = isIP(e.host) === 6 ? `[${e.host}]` : e.host;
  return `${e.scheme}://${host}:${e.port}${path}`;
}

export function httpProbe(endpoint: WebEndpoint, request: ProbeRequest): Promise<ProbeResponse> {
  const timeoutMs = request.timeoutMs ?? 10_000;
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  const headers: Record<string, string> = { 'user-agent': 'vigil-assess', accept: '*/*', connection: 'close', ...request.headers };
  const payload = request.body === undefined ? undefined : Buffer.from(request.body);
  if (payload !== undefined) headers['content-length'] = String(payload.length);
  const options: https.RequestOptions = {
    host: endpoint.host,
    port: endpoint.port,
    method: request.method ?? 'GET',
    path: request.path,
    headers,
    agent: false,
    timeout: timeoutMs,
  };
  if (endpoint.scheme === 'https') {
    if (endpoint.ca !== undefined) options.ca = endpoint.ca;
    if (isIP(endpoint.host) === 0) options.servername = endpoint.host;
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        if (size >= maxBytes) {
          truncated = true;
          res.destroy();
          return;
        }
        const part = c.subarray(0, maxBytes - size);
        if (part.length < c.length) truncated = true;
        chunks.push(part);
        size += part.length;
      });
      const finish = (): void => {
        clearTimeout(hard);
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'set-cookie') flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({
          status: res.statusCode ?? 0,
          headers: flat,
          setCookies: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
          elapsedMs: performance.now() - started,
        });
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    };
    const req = endpoint.scheme === 'https' ? https.request(options, onResponse) : http.request(options, onResponse);
    // A hard deadline for the whole exchange, not only for idle sockets.
    const hard = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(hard);
      reject(err);
    });
    req.end(payload);
  });
}

/** The value of one cookie from Set-Cookie lines, and the line itself. */
export function findCookie(setCookies: readonly string[], predicate: (name: string) => boolean): { name: string; value: string; line: string } | undefined {
  for (const line of setCookies) {
    const pair = line.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (predicate(name)) return { name, value: pair.slice(eq + 1).trim(), line };
  }
  return undefined;
}

/** Shortens untrusted text for evidence: bounded and on one line. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
