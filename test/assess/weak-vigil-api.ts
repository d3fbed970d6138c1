// A stand-in for Vigil's API (health, login, cameras, alarms, security log) for the negative
// controls of the authenticated probes. With no flaw it behaves as Vigil does, so a check that
// passes against it and fails against one flaw shows that flaw is what it catches.
import https from 'node:https';
import dgram from 'node:dgram';
import { randomBytes, randomUUID } from 'node:crypto';
import { totp } from '../../src/assess/totp.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ApiFlaw = 'none' | 'no-alarm' | 'audit-writable' | 'audit-fields' | 'no-login-audit' | 'no-forced-change' | 'weak-passwords' | 'open-playback' | 'discovery-ignored' | 'discovery-stuck' | 'no-idle-expiry' | 'mfa-bypass' | 'totp-replay';

/** The fake's idle timeout, announced at login like Vigil's. */
export const FAKE_IDLE_SECONDS = 2;

export const FAKE_ADMIN_TOKEN = 'vgl_fake-admin-token-for-negative-controls';
export const FAKE_USER = { username: 'lab-viewer', password: 'Granite-Meadow-59x' };

interface Event { seq: number; ts: string; category: string; action: string; actor: string; source: string; target: string; outcome: string; details: Record<string, string>; prev_hash: string; hash: string }
interface Alarm { id: string; type: string; severity: string; source: string; message: string; state: string; raisedAt: string; details: Record<string, string> }

interface Account { username: string; password: string; history: string[]; mustChange: boolean; totpKey?: Buffer; lastStep?: number }

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31] ?? '';
      bits -= 5;
    }
  }
  return bits > 0 ? out + (B32[(value << (5 - bits)) & 31] ?? '') : out;
}

/** The step of a code within ±1 step of now, or undefined. */
function stepOf(key: Buffer, code: unknown): number | undefined {
  const now = Math.floor(Date.now() / 30_000);
  return [now - 1, now, now + 1].find((st) => totp(key, st * 30_000) === code);
}

export interface FakeVigilState {
  users: Map<string, Account>;
  cameras: Set<string>;
  alarms: Alarm[];
  events: Event[];
  deleted: string[];
  /** Discovery protocol → whether the API says it is on, and its responder socket if any. */
  discovery: Map<string, { enabled: boolean; socket: dgram.Socket | undefined }>;
  snmpUser: boolean;
}

export function fakeVigilApi(tls: { key: string; cert: string }, flaw: ApiFlaw, host: string): { server: https.Server; state: FakeVigilState } {
  const state: FakeVigilState = { users: new Map(), cameras: new Set(), alarms: [], events: [], deleted: [], discovery: new Map(), snmpUser: false };
  for (const p of ['ssdp', 'mdns', 'snmp']) state.discovery.set(p, { enabled: false, socket: undefined });
  /** A responder answering every datagram with a few bytes, on a free port of the target's address. */
  const responder = (): Promise<dgram.Socket> =>
    new Promise((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (_m, rinfo) => socket.send(Buffer.from('fake discovery answer'), rinfo.port, rinfo.address));
      socket.bind(0, host, () => resolve(socket));
    });
  const discoveryView = (): unknown => ({
    protocols: [...state.discovery].map(([protocol, d]) => ({ protocol, enabled: d.enabled, listening: d.socket !== undefined, port: d.socket?.address().port ?? null, unavailable: null })),
    snmpUser: state.snmpUser ? { username: 'u', authProtocol: 'sha256', privProtocol: 'aes128' } : null,
  });
  const timers = new Set<NodeJS.Timeout>();
  const record = (e: Omit<Event, 'seq' | 'ts' | 'prev_hash' | 'hash' | 'details'>): void => {
    if (state.events.length >= 5000) return; // bounded
    const seq = (state.events.at(-1)?.seq ?? 0) + 1;
    const ts = flaw === 'audit-fields' ? String(Date.now()) : new Date().toISOString();
    state.events.push({ ...e, source: flaw === 'audit-fields' ? '' : e.source, seq, ts, details: {}, prev_hash: 'p', hash: `h${seq}` });
  };
  record({ category: 'system', action: 'system.start', actor: 'system', source: 'local', target: '', outcome: 'success' });
  /** One-time MFA login tokens → user name. */
  const pendingMfa = new Map<string, string>();
  /** TOTP secrets handed out at enrolment, not yet confirmed. */
  const pendingEnrol = new Map<string, Buffer>();
  /** Session id → user name (the viewer or a temporary account) and when it was last used. */
  const sessions = new Map<string, { user: string; seen: number }>();
  const accountOf = (name: string): [string, Account] | undefined => [...state.users].find(([, a]) => a.username === name);
  // GCB as Vigil applies it: ≥ 12 characters, 3 classes, none of the last 3 passwords.
  const acceptable = (a: Account, next: string): boolean =>
    flaw === 'weak-passwords' || (next.length >= 12 && [/[A-Z]/, /[a-z]/, /\d/, /[^A-Za-z\d]/].filter((re) => re.test(next)).length >= 3 && !a.history.slice(-3).includes(next));

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const method = req.method ?? 'GET';
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const source = req.socket.remoteAddress ?? '';
      let body: Record<string, unknown> = {};
      try {
        body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return send(400, { error: { code: 'VIGIL_VALIDATION' } });
      }
      const p = url.pathname;
      if (p === '/api/v1/health') return send(200, { status: 'ok' });
      if (p === '/api/v1/auth/login' && method === 'POST') {
        const account = accountOf(String(body['username']))?.[1];
        const ok = (body['username'] === FAKE_USER.username && body['password'] === FAKE_USER.password) || (account !== undefined && account.password === body['password']);
        if (flaw !== 'no-login-audit') record({ category: 'auth', action: 'auth.login', actor: 'anonymous', source, target: `user:${String(body['username'])}`, outcome: ok ? 'success' : 'failure' });
        if (!ok) return send(401, { error: { code: 'VIGIL_AUTH_INVALID', message: 'invalid user name or password' } });
        if (account?.totpKey !== undefined && flaw !== 'mfa-bypass') {
          const mfaToken = randomBytes(16).toString('hex');
          pendingMfa.set(mfaToken, account.username);
          return send(200, { status: 'mfa_required', mfaToken, methods: ['totp'] });
        }
        const sid = randomUUID() + randomUUID();
        sessions.set(sid, { user: String(body['username']), seen: Date.now() });
        return send(200, { status: 'authenticated', csrfToken: 'c', idleTimeoutSeconds: FAKE_IDLE_SECONDS }, { 'set-cookie': `vigil_session=${sid}; Path=/; HttpOnly; Secure; SameSite=Strict` });
      }
      if (p === '/api/v1/auth/login/totp' && method === 'POST') {
        const name = pendingMfa.get(String(body['mfaToken']));
        const account = name === undefined ? undefined : accountOf(name)?.[1];
        if (flaw !== 'totp-replay') pendingMfa.delete(String(body['mfaToken']));
        const step = account?.totpKey === undefined ? undefined : stepOf(account.totpKey, body['code']);
        if (account === undefined || step === undefined || (flaw !== 'totp-replay' && step <= (account.lastStep ?? -1))) return send(401, { error: { code: 'VIGIL_AUTH_MFA_FAILED' } });
        account.lastStep = step;
        const sid = randomUUID() + randomUUID();
        sessions.set(sid, { user: account.username, seen: Date.now() });
        return send(200, { status: 'authenticated', csrfToken: 'c', idleTimeoutSeconds: FAKE_IDLE_SECONDS }, { 'set-cookie': `vigil_session=${sid}; Path=/; HttpOnly; Secure; SameSite=Strict` });
      }
      const cookie = /vigil_session=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (p === '/api/v1/auth/logout') {
        if (cookie !== undefined) sessions.delete(cookie);
        return send(200, { ok: true });
      }
      const admin = req.headers.authorization === `Bearer ${FAKE_ADMIN_TOKEN}`;
      const session = cookie === undefined ? undefined : sessions.get(cookie);
      if (session !== undefined && cookie !== undefined && Date.now() - session.seen > FAKE_IDLE_SECONDS * 1000 && flaw !== 'no-idle-expiry') sessions.delete(cookie);
      else if (session !== undefined) session.seen = Date.now();
      const who = cookie === undefined ? undefined : sessions.get(cookie)?.user;
      if (p === '/api/v1/auth/me') return who === undefined ? send(401, { error: { code: 'VIGIL_AUTH_REQUIRED' } }) : send(200, { username: who });
      const playback = /^\/api\/v1\/cameras\/[\w-]+\/playback$/.test(p);
      if (playback && flaw === 'open-playback' && !admin) return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
      if (!admin && who === undefined) return send(401, { error: { code: 'VIGIL_AUTH_REQUIRED' } });
      const temp = who === undefined ? undefined : accountOf(who)?.[1];
      if (!admin && temp !== undefined) {
        // A temporary account (auditor role): its password, then the log; never video.
        if (p === '/api/v1/auth/password' && method === 'POST') {
          if (body['currentPassword'] !== temp.password) return send(401, { error: { code: 'VIGIL_AUTH_FAILED' } });
          const next = String(body['newPassword']);
          if (!acceptable(temp, next)) return send(400, { error: { code: 'VIGIL_PASSWORD_POLICY' } });
          temp.password = next;
          temp.history.push(next);
          temp.mustChange = false;
          return send(200, { status: 'authenticated' });
        }
        if (temp.mustChange && flaw !== 'no-forced-change') return send(403, { error: { code: 'VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED' } });
        if (p === '/api/v1/auth/mfa/totp/enrol' && method === 'POST') {
          const key = randomBytes(20);
          temp.totpKey = undefined;
          pendingEnrol.set(temp.username, key);
          return send(200, { secret: base32(key), otpauthUrl: 'otpauth://totp/x' });
        }
        if (p === '/api/v1/auth/mfa/totp/confirm' && method === 'POST') {
          const key = pendingEnrol.get(temp.username);
          const step = key === undefined ? undefined : stepOf(key, body['code']);
          if (key === undefined || step === undefined) return send(400, { error: { code: 'VIGIL_AUTH_MFA_FAILED' } });
          temp.totpKey = key;
          temp.lastStep = step;
          return send(200, { ok: true });
        }
        if (p === '/api/v1/audit/events') return send(200, { events: state.events.slice(-1) });
        return send(403, { error: { code: 'VIGIL_FORBIDDEN' } });
      }
      if (!admin) return send(403, { error: { code: 'VIGIL_FORBIDDEN' } });
      const user = /^\/api\/v1\/users\/([\w-]+)(\/password-reset)?$/.exec(p);
      if (p === '/api/v1/users' && method === 'POST') {
        const id = randomUUID();
        const password = String(body['password']);
        state.users.set(id, { username: String(body['username']), password, history: [password], mustChange: true });
        record({ category: 'user', action: 'user.create', actor: 'user:lab-admin', source, target: `user:${String(body['username'])}`, outcome: 'success' });
        return send(201, { id, username: body['username'] });
      }
      if (user !== null) {
        const account = state.users.get(user[1] ?? '');
        if (account === undefined) return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
        if (user[2] !== undefined) {
          account.password = String(body['newPassword']);
          account.history.push(account.password);
          account.mustChange = true;
          return send(200, { ok: true });
        }
        if (method === 'DELETE') {
          state.users.delete(user[1] ?? '');
          record({ category: 'user', action: 'user.delete', actor: 'user:lab-admin', source, target: `user:${account.username}`, outcome: 'success' });
          return send(200, { ok: true });
        }
        return send(200, { id: user[1], username: account.username });
      }
      const actor = 'user:lab-admin';
      const cam = /^\/api\/v1\/cameras\/([\w-]+)(\/playback)?$/.exec(p);
      if (p === '/api/v1/cameras' && method === 'POST') {
        const id = randomUUID();
        state.cameras.add(id);
        record({ category: 'video', action: 'camera.create', actor, source, target: `camera:${id}`, outcome: 'success' });
        if (flaw !== 'no-alarm') {
          const t = setTimeout(() => {
            timers.delete(t);
            if (!state.cameras.has(id)) return;
            state.alarms.push({ id: randomUUID(), type: 'video.signal_lost', severity: 'critical', source: `camera:${id}`, message: 'no video', state: 'active', raisedAt: new Date().toISOString(), details: { camera: id } });
            record({ category: 'video', action: 'video.signal_lost', actor: 'system', source: 'local', target: `camera:${id}`, outcome: 'failure' });
          }, 1000);
          timers.add(t);
        }
        return send(201, { id, name: body['name'], url: body['url'] });
      }
      if (cam !== null) {
        const id = cam[1] ?? '';
        if (!state.cameras.has(id)) return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
        if (cam[2] !== undefined) {
          record({ category: 'video', action: 'video.playback', actor, source, target: `camera:${id}`, outcome: 'failure' });
          return send(404, { error: { code: 'VIGIL_NOT_FOUND', message: 'no recording' } });
        }
        if (method === 'DELETE') {
          state.cameras.delete(id);
          state.deleted.push(id);
          record({ category: 'video', action: 'camera.delete', actor, source, target: `camera:${id}`, outcome: 'success' });
          return send(200, { ok: true });
        }
        return send(200, { id });
      }
      if (p === '/api/v1/system/discovery' && method === 'GET') return send(200, discoveryView());
      if (p === '/api/v1/system/discovery/snmp-user') {
        state.snmpUser = method === 'PUT';
        return send(200, { ok: true });
      }
      if (p === '/api/v1/system/discovery' && method === 'PUT') {
        void (async () => {
          for (const [protocol, wanted] of Object.entries(body)) {
            const d = state.discovery.get(protocol);
            if (d === undefined || typeof wanted !== 'boolean' || d.enabled === wanted) continue;
            d.enabled = wanted;
            if (wanted && flaw !== 'discovery-ignored') d.socket = await responder();
            if (!wanted && flaw !== 'discovery-stuck') {
              d.socket?.close();
              d.socket = undefined;
            }
            record({ category: 'system', action: 'discovery.toggle', actor, source, target: `discovery:${protocol}`, outcome: 'success' });
          }
          send(200, discoveryView());
        })();
        return;
      }
      if (p === '/api/v1/alarms' && method === 'GET') return send(200, { alarms: state.alarms.filter((a) => url.searchParams.get('state') === null || a.state === url.searchParams.get('state')) });
      const alarm = /^\/api\/v1\/alarms\/([\w-]+)\/(acknowledge|clear)$/.exec(p);
      if (alarm !== null && method === 'POST') {
        const a = state.alarms.find((x) => x.id === alarm[1]);
        if (a === undefined) return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
        a.state = alarm[2] === 'clear' ? 'cleared' : 'acknowledged';
        record({ category: 'alarm', action: `alarm.${alarm[2] ?? ''}`, actor, source: 'local', target: `alarm:${a.id}`, outcome: 'success' });
        return send(200, a);
      }
      if (p.startsWith('/api/v1/audit/events') && method !== 'GET') {
        if (flaw !== 'audit-writable') return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
        state.events.shift();
        return send(200, { ok: true });
      }
      if (p === '/api/v1/audit/events') {
        const after = Number(url.searchParams.get('afterSeq') ?? '0');
        const action = url.searchParams.get('action');
        const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? '100'));
        let list = state.events.filter((e) => e.seq > after && (action === null || e.action === action));
        if (url.searchParams.get('order') === 'newest') list = [...list].reverse();
        return send(200, { events: list.slice(0, limit) });
      }
      if (p === '/api/v1/audit/verify') return send(200, { ok: true, checkedEvents: state.events.length, firstSeq: state.events[0]?.seq ?? null, lastSeq: state.events.at(-1)?.seq ?? null, problems: [] });
      if (p === '/api/v1/audit/status') return send(200, { health: { ok: true, queued: 0, dropped: 0 }, capacity: { events: state.events.length, capacityEvents: 100000 }, publicKeyPem: '' });
      return send(404, { error: { code: 'VIGIL_NOT_FOUND' } });
    });
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handler);
  server.on('close', () => {
    for (const t of timers) clearTimeout(t);
    // 'close' can be emitted twice (listen() emits it to drop sockets): close each responder once.
    for (const d of state.discovery.values()) {
      d.socket?.close();
      d.socket = undefined;
    }
  });
  return { server, state };
}
