// Deliberately weak targets for the negative controls: each reproduces one flaw a lab looks for,
// on its own loopback address, and closes every socket when disposed.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireTool, runTool } from '../helpers/tools.ts';

export interface Closable {
  port: number;
  close(): Promise<void>;
}

export async function selfSignedCert(host: string): Promise<{ key: string; cert: string }> {
  const openssl = requireTool('openssl', 'openssl');
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-assess-cert-'));
  try {
    const r = await runTool(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=weak-device', '-addext', `subjectAltName=IP:${host}`], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(r.stderr);
    return { key: readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function track(server: net.Server): void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    // A scanner connects and resets: expected here, not an error of the test.
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
}

export async function listen(server: net.Server, host: string, port = 0): Promise<Closable> {
  track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        if (server instanceof http.Server) server.closeAllConnections();
        server.close(() => resolve());
        server.emit('close');
      }),
  };
}

export async function listenUdp(host: string, port: number, answer: (msg: Buffer) => Buffer | undefined): Promise<Closable> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const reply = answer(msg);
    if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  return { port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** A camera-style web UI on plain HTTP behind Basic auth with admin/admin. */
export function basicAdminAdmin(): http.Server {
  return http.createServer((req, res) => {
    if (req.headers.authorization === `Basic ${Buffer.from('admin:admin').toString('base64')}`) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>camera settings</body></html>');
      return;
    }
    res.writeHead(401, { 'www-authenticate': 'Basic realm="IPCAM"', 'content-type': 'text/html' }).end('<html>401 Unauthorized</html>');
  });
}

/** HTTPS with the given TLS options (legacy protocols or CBC suites). */
export function weakTls(cert: { key: string; cert: string }, options: https.ServerOptions): https.Server {
  return https.createServer({ ...cert, ...options }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
}

/** A search page that echoes its query unescaped (reflected XSS), linked from the home page. */
export function reflectingSearch(): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><a href="/find?term=cats">find</a></html>');
      return;
    }
    if (url.pathname === '/find') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><p>Results for ${url.searchParams.get('term') ?? ''}</p></html>`);
      return;
    }
    res.writeHead(404).end();
  });
}

/**
 * A JSON login that tells unknown users apart, never locks, sets a flagless short cookie,
 * keeps sessions after logout and needs no CSRF token.
 */
export function leakyLogin(user: { username: string; password: string }): http.Server {
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      if (body.length < 10_000) body += c.toString();
    });
    req.on('end', () => {
      const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/api/v1/auth/login') {
        let creds: { username?: unknown; password?: unknown } = {};
        try {
          creds = JSON.parse(body) as typeof creds;
        } catch {
          json(400, { error: 'bad json' });
          return;
        }
        if (creds.username !== user.username) json(401, { error: 'no such user' });
        else if (creds.password !== user.password) json(401, { error: 'wrong password' });
        else json(200, { status: 'authenticated' }, { 'set-cookie': 'sid=1234; Path=/' });
        return;
      }
      if (req.url === '/api/v1/auth/me') {
        if ((req.headers.cookie ?? '').includes('sid=1234')) json(200, { username: user.username });
        else json(401, { error: 'login required' });
        return;
      }
      if (req.method === 'POST' && req.url === '/api/v1/auth/logout') {
        json(200, { ok: true });
        return;
      }
      json(404, { error: 'not found' });
    });
  });
}
