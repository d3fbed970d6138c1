// Device discovery off by default and toggled by an administrator (NVR-5.3.2.1a, CAM-5.3.2.2,
// CAM-T-com-2), measured from outside with real UDP probes over loopback: a fresh install
// answers no WS-Discovery Probe, SSDP M-SEARCH, mDNS query, SNMPv1/v2c "public" or SNMPv3
// engine discovery; once an administrator turns each on (live, audited) it answers, SNMP only
// to SNMPv3 authPriv with the right user (net-snmp's snmpget as an independent client);
// turned off, silence again. Only unicast to a loopback address of its own: nothing is ever
// sent to a multicast group.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { runVigil, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { auditEventsWhen, type AuditRow } from '../helpers/audit.ts';
import { requireTool, runTool } from '../helpers/tools.ts';
import { udpExchange } from '../../src/assess/udp-probe.ts';
import { dnsQuery, snmpGetSysDescr, ssdpSearch, wsDiscoveryProbe } from '../../src/assess/udp-payloads.ts';

const HOST = '127.0.0.61';
const PORTS = { wsd: 3702, ssdp: 1900, mdns: 5353, snmp: 161 };
const ADMIN = { username: 'disc-admin', password: 'Lantern-Quarry-4471' };
const VIEWER = { username: 'disc-viewer', first: 'Temporary-Ferry-7733', password: 'Personal-Glacier-9102' };
const SNMP_USER = { username: 'monitor', authProtocol: 'sha512', privProtocol: 'aes128', authPassphrase: 'Auth-Passphrase-8812', privPassphrase: 'Priv-Passphrase-9923' };
const PROBE_ID = '5647696c-0000-4000-8000-0000000000e2';

interface DiscoveryState { protocols: Array<{ protocol: string; enabled: boolean; listening: boolean; port: number | null }>; snmpUser: Record<string, string> | null }

/** What each probe gets back (undefined: silence within the timeout). */
async function probeAll(): Promise<Record<string, string | undefined>> {
  const text = async (port: number, payload: Buffer): Promise<string | undefined> => {
    const a = await udpExchange(HOST, port, payload, 800, 1);
    return a.reply?.toString('latin1');
  };
  return {
    wsd: await text(PORTS.wsd, wsDiscoveryProbe(PROBE_ID)),
    ssdp: await text(PORTS.ssdp, ssdpSearch(HOST)),
    mdns: await text(PORTS.mdns, dnsQuery('_https._tcp.local', 12, { id: 0x4d44 })),
    snmpV1: await text(PORTS.snmp, snmpGetSysDescr('public', 'v1')),
    snmpV2c: await text(PORTS.snmp, snmpGetSysDescr('public', 'v2c')),
  };
}

async function snmpget(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tool = requireTool('snmpget', 'snmp');
  return runTool(tool, ['-On', '-r', '0', '-t', '1', ...args, `udp:${HOST}:${PORTS.snmp}`, '1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.3.0'], { timeoutMs: 20_000 });
}

const v3 = (overrides: Partial<typeof SNMP_USER> = {}): string[] => {
  const u = { ...SNMP_USER, ...overrides };
  return ['-v3', '-l', 'authPriv', '-u', u.username, '-a', 'SHA-512', '-A', u.authPassphrase, '-x', 'AES', '-X', u.privPassphrase];
};

describe('device discovery: off by default, administrator toggles, audited (NVR-5.3.2.1a, CAM-5.3.2.2)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let viewer: ApiClient;
  let restartedDir: string | undefined;
  const config = (): Record<string, unknown> => ({
    http: { host: HOST, port: 0 },
    security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
    camera: { enabled: true, width: 320, height: 240, fps: 10, bitrateKbps: 300, gop: 10, rtspsPort: 0 },
    discovery: { wsDiscoveryPort: PORTS.wsd, ssdpPort: PORTS.ssdp, mdnsPort: PORTS.mdns, snmpPort: PORTS.snmp },
  });

  before(async () => {
    requireTool('snmpget', 'snmp');
    vigil = await startVigil({ host: HOST, config: config() });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    assert.equal((await admin.post('/api/v1/users', { username: VIEWER.username, password: VIEWER.first, grants: [{ role: 'viewer', scopeKind: 'global' }] })).status, 201);
    viewer = admin.anonymous();
    viewer.csrfToken = (await viewer.post<{ csrfToken: string }>('/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.first })).body.csrfToken;
    assert.equal((await viewer.post('/api/v1/auth/password', { currentPassword: VIEWER.first, newPassword: VIEWER.password })).status, 200);
  });
  after(async () => {
    await vigil?.dispose();
    if (restartedDir !== undefined) rmSync(restartedDir, { recursive: true, force: true });
  });

  const auditEvents = (...expected: Array<(e: AuditRow) => boolean>): Promise<AuditRow[]> => auditEventsWhen(admin, 'limit=500', ...expected);

  /** `vigil assess --only services` against the target, as a lab runs it: the discovery finding. */
  async function assessDiscovery(): Promise<{ status: string; evidence: string }> {
    const out = mkdtempSync(path.join(tmpdir(), 'vigil-assess-disc-'));
    try {
      const ca = path.join(out, 'ca.pem');
      writeFileSync(ca, vigil.caPem);
      const r = await runVigil(['assess', HOST, '--port', String(vigil.port), '--ca', ca, '--only', 'services', '--format', 'json', '--out', out], { timeoutMs: 120_000 });
      const file = readdirSync(out).find((f) => f.endsWith('.json'));
      assert.ok(file !== undefined, r.stdout + r.stderr);
      const report = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as { findings: Array<{ id: string; status: string; evidence: string }> };
      const finding = report.findings.find((f) => f.id === 'services.discovery');
      assert.ok(finding !== undefined, JSON.stringify(report.findings).slice(0, 500));
      return finding;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  const serviceIds = async (): Promise<string[]> =>
    (await admin.get<{ services: Array<{ id: string; protocol: string; port: number }> }>('/api/v1/system/services')).body.services.map((s) => `${s.id}/${s.protocol}/${s.port}`).sort();

  test('a fresh install answers no discovery or SNMP probe, and declares no discovery service', async () => {
    const answers = await probeAll();
    assert.deepEqual(answers, { wsd: undefined, ssdp: undefined, mdns: undefined, snmpV1: undefined, snmpV2c: undefined });
    const v3Discovery = await snmpget(v3());
    assert.notEqual(v3Discovery.code, 0, 'SNMPv3 must be silent too');
    assert.match(v3Discovery.stderr + v3Discovery.stdout, /Timeout/i);
    const ids = await serviceIds();
    assert.ok(!ids.some((i) => /^(ws-discovery|ssdp|mdns|snmp)\//.test(i)), ids.join(', '));
    const state = (await admin.get<DiscoveryState>('/api/v1/system/discovery')).body;
    assert.deepEqual(state.protocols.map((p) => [p.protocol, p.enabled, p.listening]), [['ws-discovery', false, false], ['ssdp', false, false], ['mdns', false, false], ['snmp', false, false]]);
    assert.equal(state.snmpUser, null);
    assert.equal((await admin.anonymous().get('/upnp/device.xml')).status, 404);
    const assessed = await assessDiscovery();
    assert.equal(assessed.status, 'pass', assessed.evidence);
  });

  test('only administrators see or change discovery (403 for a viewer, 401 anonymous)', async () => {
    assert.equal((await viewer.get('/api/v1/system/discovery')).status, 403);
    assert.equal((await viewer.request('PUT', '/api/v1/system/discovery', { ssdp: true })).status, 403);
    assert.equal((await viewer.request('PUT', '/api/v1/system/discovery/snmp-user', SNMP_USER)).status, 403);
    assert.equal((await admin.anonymous().request('PUT', '/api/v1/system/discovery', { ssdp: true })).status, 401);
    assert.deepEqual(await probeAll(), { wsd: undefined, ssdp: undefined, mdns: undefined, snmpV1: undefined, snmpV2c: undefined });
  });

  test('SNMP cannot be turned on without an SNMPv3 user, and a weak user is refused', async () => {
    const refused = await admin.request<{ error: { code: string } }>('PUT', '/api/v1/system/discovery', { snmp: true });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'VIGIL_DISCOVERY_SNMP_USER_REQUIRED');
    const weak = await admin.request<{ error: { code: string } }>('PUT', '/api/v1/system/discovery/snmp-user', { ...SNMP_USER, authPassphrase: 'short', privPassphrase: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'VIGIL_DISCOVERY_SNMP_USER_INVALID');
    const unknown = await admin.request<{ error: { code: string } }>('PUT', '/api/v1/system/discovery', { telnet: true });
    assert.equal(unknown.status, 400);
    const set = await admin.request<DiscoveryState>('PUT', '/api/v1/system/discovery/snmp-user', SNMP_USER);
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body.snmpUser, { username: 'monitor', authProtocol: 'sha512', privProtocol: 'aes128' });
    assert.doesNotMatch(set.text, /Passphrase-/, 'passphrases are never returned');
  });

  test('enabled by an administrator, each protocol answers at once; SNMP only to SNMPv3 authPriv', async () => {
    const on = await admin.request<DiscoveryState>('PUT', '/api/v1/system/discovery', { 'ws-discovery': true, ssdp: true, mdns: true, snmp: true });
    assert.equal(on.status, 200, on.text);
    assert.ok(on.body.protocols.every((p) => p.enabled && p.listening), on.text);
    const answers = await probeAll();

    // WS-Discovery: ProbeMatches relating to our MessageID, XAddrs = the HTTPS ONVIF device service.
    assert.match(answers.wsd ?? '', /ProbeMatches/);
    assert.match(answers.wsd ?? '', new RegExp(`RelatesTo>uuid:${PROBE_ID}<`));
    assert.match(answers.wsd ?? '', /dn:NetworkVideoTransmitter/);
    assert.ok((answers.wsd ?? '').includes(`<d:XAddrs>${vigil.baseUrl}/onvif/device_service</d:XAddrs>`), answers.wsd);

    // SSDP: a 200 with LOCATION on the HTTPS description, which is now served.
    assert.match(answers.ssdp ?? '', /^HTTP\/1\.1 200 OK\r\n/);
    const location = /\r\nLOCATION: (\S+)\r\n/.exec(answers.ssdp ?? '')?.[1] ?? '';
    assert.equal(location, `${vigil.baseUrl}/upnp/device.xml`);
    const description = await admin.anonymous().get(new URL(location).pathname);
    assert.equal(description.status, 200);
    assert.match(description.text, /<deviceType>urn:schemas-upnp-org:device:Basic:1<\/deviceType>/);
    assert.match(description.text, new RegExp(`<presentationURL>${vigil.baseUrl}/</presentationURL>`));

    // mDNS: PTR to our instance, with SRV on the HTTPS port in the additional records.
    const mdns = dnsPacket.decode(Buffer.from(answers.mdns ?? '', 'latin1'));
    assert.equal(mdns.id, 0x4d44, 'legacy unicast echoes the query id (RFC 6762 §6.7)');
    assert.ok((mdns.answers ?? []).some((a) => a.type === 'PTR' && a.name === '_https._tcp.local'));
    const srv = [...(mdns.answers ?? []), ...(mdns.additionals ?? [])].find((a) => a.type === 'SRV');
    assert.equal(srv?.type === 'SRV' ? srv.data.port : 0, vigil.port);

    // SNMP: v1/v2c "public" stay unanswered; v3 authPriv with the right user reads the system group.
    assert.equal(answers.snmpV1, undefined);
    assert.equal(answers.snmpV2c, undefined);
    const good = await snmpget(v3());
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: .*Vigil/);
    assert.match(good.stdout, /\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING: "?vigil"?/);
    assert.match(good.stdout, /\.1\.3\.6\.1\.2\.1\.1\.3\.0 = Timeticks/);
    const wrong = await snmpget(v3({ authPassphrase: 'Wrong-Passphrase-1234' }));
    assert.notEqual(wrong.code, 0);
    assert.doesNotMatch(wrong.stdout, /STRING/);
    const v2c = await snmpget(['-v2c', '-c', 'public']);
    assert.notEqual(v2c.code, 0);
    assert.match(v2c.stderr + v2c.stdout, /Timeout/i);

    const ids = await serviceIds();
    for (const [id, port] of [['ws-discovery', PORTS.wsd], ['ssdp', PORTS.ssdp], ['mdns', PORTS.mdns], ['snmp', PORTS.snmp]] as const) {
      assert.ok(ids.includes(`${id}/udp/${port}`), `${id} declared as open: ${ids.join(', ')}`);
    }
    // The lab's check sees all four (SNMP through SNMPv3 engine discovery: no community answers).
    const assessed = await assessDiscovery();
    assert.equal(assessed.status, 'fail');
    for (const seen of [/SNMPv3 agent answered engine-ID discovery/, /SSDP\/UPnP/, /mDNS\/Bonjour/, /WS-Discovery/]) assert.match(assessed.evidence, seen);
    assert.doesNotMatch(assessed.evidence, /community "public" answered/);
  });

  test('turned off, everything is silent again and the description is gone; every change is audited', async () => {
    const off = await admin.request<DiscoveryState>('PUT', '/api/v1/system/discovery', { 'ws-discovery': false, ssdp: false, mdns: false, snmp: false });
    assert.equal(off.status, 200, off.text);
    assert.deepEqual(await probeAll(), { wsd: undefined, ssdp: undefined, mdns: undefined, snmpV1: undefined, snmpV2c: undefined });
    const v3Off = await snmpget(v3());
    assert.notEqual(v3Off.code, 0);
    assert.equal((await admin.anonymous().get('/upnp/device.xml')).status, 404);
    assert.ok(!(await serviceIds()).some((i) => /^(ws-discovery|ssdp|mdns|snmp)\//.test(i)));

    const toggled = (p: string, to: boolean) => (e: AuditRow): boolean =>
      e.action === 'discovery.toggle' && e.target === `discovery:${p}` && e.actor === `user:${ADMIN.username}` && e.outcome === 'success' && e.details['from'] === !to && e.details['to'] === to;
    const expected = ['ws-discovery', 'ssdp', 'mdns', 'snmp'].flatMap((p) => [toggled(p, true), toggled(p, false)]);
    const userSet = (e: AuditRow): boolean => e.action === 'discovery.snmp_user.set' && e.outcome === 'success' && e.details['username'] === 'monitor';
    const events = await auditEvents(...expected, userSet);
    for (const [i, p] of expected.entries()) assert.ok(events.some(p), `audit event ${i} missing`);
    assert.ok(events.some(userSet));
    assert.ok(events.some((e) => e.action === 'discovery.snmp_user.set' && e.outcome === 'failure'), 'the refused weak user is audited too');
    assert.doesNotMatch(JSON.stringify(events), /Passphrase-/, 'no passphrase in the audit log');
  });

  test('the toggles and the sealed SNMP user survive a restart: what was on answers at once', async () => {
    const on = await admin.request<DiscoveryState>('PUT', '/api/v1/system/discovery', { ssdp: true, snmp: true });
    assert.equal(on.status, 200, on.text);
    await vigil.stop();
    const dir = vigil.dir;
    vigil = await startVigil({ dir, host: HOST, config: config() });
    restartedDir = dir;
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    const state = (await admin.get<DiscoveryState>('/api/v1/system/discovery')).body;
    assert.deepEqual(state.protocols.map((p) => [p.protocol, p.enabled, p.listening]), [['ws-discovery', false, false], ['ssdp', true, true], ['mdns', false, false], ['snmp', true, true]]);
    const answers = await probeAll();
    assert.match(answers.ssdp ?? '', /^HTTP\/1\.1 200 OK/);
    assert.equal(answers.wsd, undefined);
    assert.equal(answers.mdns, undefined);
    assert.equal(answers.snmpV2c, undefined);
    const good = await snmpget(v3());
    assert.equal(good.code, 0, good.stderr);
  });
});
