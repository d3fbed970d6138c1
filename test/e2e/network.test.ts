// What the box exposes on the network, measured from outside the way a lab measures it:
// a full TCP port scan with nmap and the kernel's own socket table compared with the declared
// services (NVR-5.2.2.1a, CAM-T-sys-2, ACS-5.2.2.3); the TLS offer scanned with sslscan
// (seed 002 App. A, CAM-T-com-1: TLS 1.2/1.3, AES-256-GCM, ECDHE only); plain HTTP only
// redirects (NVR-5.2.5.1a); authentication routes are rate-limited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';
import { freePort } from '../helpers/net.ts';

// A loopback address of its own: only wildcard listeners of other programs on the machine can
// answer here, and a baseline scan taken before Vigil starts names those.
const HOST = '127.0.0.77';

async function openTcpPorts(): Promise<number[]> {
  const nmap = requireTool('nmap', 'nmap');
  const scan = await runTool(nmap, ['-Pn', '-n', '-sT', '-p-', '-T4', '--max-retries', '1', '-oG', '-', HOST], { timeoutMs: 300_000 });
  assert.equal(scan.code, 0, scan.stderr);
  const ports = /Ports: (.*?)(\t|$)/m.exec(scan.stdout)?.[1] ?? '';
  return ports.split(',').map((p) => p.trim()).filter((p) => p.includes('/open/')).map((p) => Number(p.split('/')[0])).sort((a, b) => a - b);
}


/** Listening TCP/UDP sockets owned by a process, read from /proc (what `ss -lp` shows). */
function listeningSocketsOf(pid: number): Array<{ proto: string; port: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  const found: Array<{ proto: string; port: number }> = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const listening = proto.startsWith('tcp') ? f[3] === '0A' : true;
      if (listening && inodes.has(f[9] ?? '')) found.push({ proto: proto.replace('6', ''), port: parseInt((f[1] ?? ':').split(':')[1] ?? '', 16) });
    }
  }
  return found;
}

describe('network exposure (nmap, /proc, sslscan)', () => {
  let vigil: VigilProcess;
  let redirectPort = 0;
  let devicePort = 0;
  let declared: Array<{ id: string; protocol: string; port: number }> = [];
  let baseline: number[] = [];

  before(async () => {
    baseline = await openTcpPorts();
    redirectPort = await freePort(HOST);
    devicePort = await freePort(HOST);
    vigil = await startVigil({ host: HOST, config: { http: { host: HOST, port: 0, plainHttp: 'redirect', plainHttpPort: redirectPort }, devices: { mtlsEnabled: true, mtlsPort: devicePort }, security: { authRateLimitPerMinute: 5 } } });
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('NVR-5.2.2.1a: the sockets the process holds are exactly the declared services', async () => {
    const { DECLARED_SERVICES } = await import('../../src/docs/services.ts');
    const { loadConfig } = await import('../../src/core/config.ts');
    const { DISCOVERY_OFF } = await import('../../src/device/discovery/protocols.ts');
    const config = loadConfig({ file: vigil.configFile, env: {} });
    declared = DECLARED_SERVICES.flatMap((s) => {
      const l = s.listen(config, DISCOVERY_OFF);
      if (l === null) return [];
      return [{ id: s.id, protocol: s.protocol, port: s.id === 'https-api' ? vigil.port : l.port }];
    });
    assert.deepEqual(declared.map((d) => d.id).sort(), ['device-mtls', 'http-redirect', 'https-api']);
    const pid = vigil.child.pid ?? 0;
    const actual = listeningSocketsOf(pid).map((s) => `${s.proto}/${s.port}`).sort();
    assert.deepEqual(actual, declared.map((d) => `tcp/${d.port}`).sort(), 'no undeclared listener, no UDP socket');
  });

  test('NVR-5.2.2.1a: a full-range nmap TCP scan (differential against a baseline) finds only the declared ports', async () => {
    const opened = (await openTcpPorts()).filter((p) => !baseline.includes(p));
    assert.deepEqual(opened, declared.map((d) => d.port).sort((a, b) => a - b), `baseline (other programs' wildcard listeners): ${baseline.join(',') || 'none'}`);
  });

  test('seed 002 App. A / CAM-T-com-1: sslscan sees only TLS 1.2/1.3 with AES-256-GCM and ECDHE', async () => {
    const sslscan = requireTool('sslscan', 'sslscan');
    const scan = await runTool(sslscan, ['--no-colour', '--no-heartbleed', `${HOST}:${vigil.port}`], { timeoutMs: 180_000 });
    assert.equal(scan.code, 0, scan.stderr);
    const out = scan.stdout;
    for (const old of ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1']) assert.match(out, new RegExp(`${old.replace('.', '\\.')}\\s+disabled`), `${old} must be disabled`);
    assert.match(out, /TLSv1\.2\s+enabled/);
    assert.match(out, /TLSv1\.3\s+enabled/);
    const accepted = out.split('\n').filter((l) => /^(Preferred|Accepted)\s/.test(l.trim()));
    assert.ok(accepted.length >= 2, out);
    for (const line of accepted) {
      const cipher = line.trim().split(/\s+/)[4] ?? '';
      assert.ok(cipher === 'TLS_AES_256_GCM_SHA384' || /^ECDHE-(ECDSA|RSA)-AES256-GCM-SHA384$/.test(cipher), `weak or unexpected suite offered: ${line.trim()}`);
    }
    const groups = (out.split('Server Key Exchange Group(s):')[1] ?? '').split('\n\n')[0]?.split('\n').filter((l) => /^TLSv/.test(l.trim())) ?? [];
    assert.ok(groups.length > 0, out);
    for (const g of groups) assert.match(g, /secp256r1|secp384r1/, `only P-256/P-384 key exchange: ${g.trim()}`);
    assert.doesNotMatch(out, /Compression enabled/);
    assert.match(out, /Session renegotiation not supported|Secure session renegotiation supported/);
  });

  test('NVR-5.2.5.1a: plain HTTP only redirects to HTTPS and serves no content', async () => {
    const response = await new Promise<http.IncomingMessage & { body: string }>((resolve, reject) => {
      http.get({ host: HOST, port: redirectPort, path: '/api/v1/auth/me?x=1', headers: { host: 'evil.example' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(Object.assign(res, { body })));
      }).on('error', reject);
    });
    assert.equal(response.statusCode, 308);
    assert.equal(response.headers.location, `${vigil.baseUrl}/api/v1/auth/me?x=1`, 'the target host comes from configuration, never from the request');
    assert.equal(response.body, '');
  });

  test('authentication routes are rate-limited per source address (VIGIL_RATE_LIMITED)', async () => {
    const api = new ApiClient(vigil.baseUrl, vigil.caPem);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api.post('/api/v1/setup', { token: 'wrong', username: 'x', password: 'y' })).status);
    assert.ok(statuses.slice(0, 5).every((s) => s === 401), statuses.join(','));
    const limited = await api.post<{ error: { code: string } }>('/api/v1/setup', { token: 'wrong', username: 'x', password: 'y' });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'VIGIL_RATE_LIMITED');
  });
});
