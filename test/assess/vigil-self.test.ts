// `vigil assess` against the real Vigil on its own loopback address, as a lab would run it with
// the accounts the vendor hands over (a viewer, a sacrificial account for the lockout probe and an
// administrator's API token): the implemented checks pass, the authenticated probes clean up
// after themselves, clauses only the device shows are "declared" with Vigil's documents attached
// (never pass), the untested ones block, and the level follows from the clauses by the stated rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { authenticator } from 'otplib';
import { startVigil, runVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool } from '../helpers/tools.ts';
import { REPORT_SCHEMA, type AssessReport } from '../../src/assess/report.ts';
import { baselinePorts } from './baseline.ts';
import { freePort } from '../helpers/net.ts';

const HOST = '127.0.0.85';
const ADMIN = { username: 'lab-admin', password: 'Harbour-Lantern-42' };
const VIEWER = { username: 'lab-viewer', first: 'Granite-Meadow-58', password: 'Granite-Meadow-59x' };
const SACRIFICE = { username: 'lab-lockout', password: 'Copper-Kettle-77' };


/** First administrator, TOTP, a viewer account (password changed as forced) and a sacrificial account; the administrator's API token for the lab. */
async function provision(vigil: VigilProcess): Promise<{ admin: ApiClient; apiToken: string }> {
  const admin = new ApiClient(vigil.baseUrl, vigil.caPem);
  assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
  const login = await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN);
  admin.csrfToken = login.body.csrfToken;
  const enrol = await admin.post<{ secret: string }>('/api/v1/auth/mfa/totp/enrol', {});
  assert.equal((await admin.post('/api/v1/auth/mfa/totp/confirm', { code: authenticator.generate(enrol.body.secret) })).status, 200);
  for (const [u, p] of [[VIEWER.username, VIEWER.first], [SACRIFICE.username, SACRIFICE.password]] as const) {
    const r = await admin.post('/api/v1/users', { username: u, password: p, grants: [{ role: 'viewer', scopeKind: 'global' }] });
    assert.equal(r.status, 201, r.text);
  }
  const viewer = admin.anonymous();
  const v = await viewer.post<{ csrfToken: string }>('/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.first });
  assert.equal(v.status, 200, v.text);
  viewer.csrfToken = v.body.csrfToken;
  const changed = await viewer.post('/api/v1/auth/password', { currentPassword: VIEWER.first, newPassword: VIEWER.password });
  assert.equal(changed.status, 200, changed.text);
  const token = await admin.post<{ token: string }>('/api/v1/auth/tokens', { name: 'certification-lab' });
  assert.equal(token.status, 201, token.text);
  // The test checks the target afterwards with the token too: its session would idle out (1 min).
  const byToken = admin.anonymous();
  byToken.bearer = token.body.token;
  return { admin: byToken, apiToken: token.body.token };
}

describe('vigil assess against a real Vigil (nvr profile, level 3, intrusive)', () => {
  let vigil: VigilProcess;
  let dir: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let report: AssessReport;
  let admin: ApiClient;
  let apiToken: string;

  before(async () => {
    requireTool('nmap', 'nmap');
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-assess-self-'));
    // Other programs' wildcard listeners answer on every loopback address: a baseline names them.
    const baseline = await baselinePorts(HOST);
    const redirectPort = await freePort(HOST);
    vigil = await startVigil({ host: HOST, config: { http: { host: HOST, port: 0, plainHttp: 'redirect', plainHttpPort: redirectPort }, security: { authRateLimitPerMinute: 600, sessionIdleMinutes: 1 }, discovery: { ssdpPort: 0, mdnsPort: 0, snmpPort: 0 } } });
    ({ admin, apiToken } = await provision(vigil));
    writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ username: VIEWER.username, password: VIEWER.password, lockout: SACRIFICE, apiToken }));
    writeFileSync(path.join(dir, 'ca.pem'), vigil.caPem);
    // The vendor's update package, built with Vigil's own tooling, for the offline analysis.
    const keys = path.join(dir, 'keys');
    assert.equal((await runVigil(['update', 'keygen', '--out', keys])).code, 0);
    const release = path.join(dir, 'release');
    mkdirSync(path.join(release, 'lib'), { recursive: true });
    writeFileSync(path.join(release, 'lib', 'app.js'), `export const build = '${randomBytes(8).toString('hex')}';\n${'// release notes line\n'.repeat(2000)}`);
    const pkg = path.join(dir, 'vigil-9.9.9.vup');
    const built = await runVigil(['update', 'build', '--from', release, '--version', '9.9.9', '--signing-key', path.join(keys, 'vendor-signing.key.pem'), '--device-key', path.join(keys, 'device-update.pub.pem'), '--out', pkg]);
    assert.equal(built.code, 0, built.stderr);
    const args = ['assess', HOST, '--port', String(vigil.port), '--profile', 'nvr', '--level', '3', '--intrusive', '--format', 'json,md,html',
      '--out', path.join(dir, 'out'), '--credentials', path.join(dir, 'creds.json'), '--ca', path.join(dir, 'ca.pem'), '--update-package', pkg];
    if (baseline.length > 0) args.push('--exclude-ports', baseline.join(','));
    run = await runVigil(args, { timeoutMs: 600_000 });
    report = JSON.parse(readFileSync(path.join(dir, 'out', 'assess-report.json'), 'utf8')) as AssessReport;
  });
  after(async () => {
    await vigil?.dispose();
    // ASSESS_KEEP=1 keeps the reports for a look at the HTML page.
    if (dir !== undefined && process.env["ASSESS_KEEP"] === undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('the JSON report validates against its schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const valid = ajv.validate(REPORT_SCHEMA, report);
    assert.ok(valid, JSON.stringify(ajv.errors, null, 2));
    assert.equal(report.version, 2);
    assert.match(report.levelRule, /passes or is declared/);
    assert.equal(report.target.vigil, true);
    assert.match(report.target.declaration, /system\/services/, 'the declaration is fetched from the target');
  });

  test('ports, tls, services, web and credential checks pass against Vigil', () => {
    for (const id of ['ports', 'tls', 'services', 'web', 'credentials'] as const) {
      const check = report.checks.find((c) => c.id === id);
      const bad = report.findings.filter((f) => f.check === id && f.status !== 'pass');
      assert.equal(check?.status, 'pass', `${id}: ${bad.map((f) => `${f.id} ${f.status}: ${f.evidence}`).join('\n')}`);
    }
    const lockout = report.findings.find((f) => f.id === 'credentials.lockout');
    assert.match(lockout?.evidence ?? '', /then the right password: locked/);
    const tcp = report.findings.find((f) => f.id === 'ports.tcp');
    assert.match(tcp?.evidence ?? '', new RegExp(`https-api ${vigil.port}`));
    assert.match(tcp?.evidence ?? '', /http-redirect/);
  });

  test('signal-loss alarm, account and security log probes pass through the API, and clean up after themselves', async () => {
    for (const id of ['transport', 'sessions', 'alarms', 'accounts', 'discovery', 'audit'] as const) {
      const check = report.checks.find((c) => c.id === id);
      const bad = report.findings.filter((f) => f.check === id && f.status !== 'pass');
      assert.equal(check?.status, 'pass', `${id}: ${bad.map((f) => `${f.id} ${f.status}: ${f.evidence}`).join('\n')}`);
    }
    assert.match(report.findings.find((f) => f.id === 'alarms.signal-loss')?.evidence ?? '', /alarm video\.signal_lost \(critical, source camera:[0-9a-f-]{36}.*logged as video\.signal_lost/);
    const trail = report.findings.find((f) => f.id === 'alarms.audit-trail')?.evidence ?? '';
    assert.match(trail, /camera\.create by user:lab-admin .*video\.playback by user:lab-admin .*failure.*camera\.delete by user:lab-admin/);
    assert.match(trail, /camera afterwards → HTTP 404 \(gone\).*alarm [\w-]+ cleared → HTTP 200/);
    // On the target: no probe camera left, no alarm of it left active, and the log shows the clean-up.
    const cameras = await admin.get<{ cameras: unknown[] }>('/api/v1/cameras');
    assert.deepEqual(cameras.body.cameras, []);
    const active = await admin.get<{ alarms: Array<{ type: string }> }>('/api/v1/alarms?state=active');
    assert.equal(active.body.alarms.filter((a) => a.type === 'video.signal_lost').length, 0);
    const cleared = await admin.get<{ events: Array<{ actor: string }> }>('/api/v1/audit/events?action=alarm.clear&limit=10');
    assert.ok(cleared.status === 200 && cleared.body.events.length > 0, `alarm.clear not audited: ${cleared.text}`);
    assert.match(report.findings.find((f) => f.id === 'discovery.toggles')?.evidence ?? '', /UPnP \(SSDP\): on → HTTP 200, port \d+, answered; off → HTTP 200, silent; Bonjour \(mDNS\): .*answered.*silent; SNMP \(v3\): .*answered.*silent; \d+ discovery\.toggle events logged; temporary SNMPv3 user deleted → HTTP 200/);
    const discovery = await admin.get<{ protocols: Array<{ enabled: boolean }>; snmpUser: unknown }>('/api/v1/system/discovery');
    assert.ok(discovery.body.protocols.every((p) => !p.enabled) && discovery.body.snmpUser === null, 'discovery left as found: all off, no SNMP user');
    assert.match(report.findings.find((f) => f.id === 'sessions.idle-timeout')?.evidence ?? '', /idle timeout announced 60 s; idle session: 200 at first, 401 after 7\d s untouched; control session used every 5\.0 s: 200 at the end/);
    const users = await admin.get<{ users: Array<{ username: string }> }>('/api/v1/users');
    assert.deepEqual(users.body.users.map((u) => u.username).sort(), [ADMIN.username, SACRIFICE.username, VIEWER.username].sort(), 'the temporary account is gone');
    const policy = report.findings.find((f) => f.id === 'accounts.password-policy')?.evidence ?? '';
    assert.match(policy, /11 characters, 4 classes → 400 VIGIL_PASSWORD_POLICY; 20 lower-case letters → 400 VIGIL_PASSWORD_POLICY; the current password again → 400 VIGIL_PASSWORD_POLICY/);
    assert.match(policy, /the previous password → 400 VIGIL_PASSWORD_POLICY; the password before that → 400 VIGIL_PASSWORD_POLICY; another strong password → 200/);
    assert.match(policy, /clean-up: DELETE user → HTTP 200, afterwards → HTTP 404 \(gone\), user\.delete in the security log/);
    assert.match(report.findings.find((f) => f.id === 'accounts.first-login')?.evidence ?? '', /→ HTTP 403 VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED/);
    assert.match(report.findings.find((f) => f.id === 'accounts.mfa')?.evidence ?? '', /TOTP enrolled; password login → mfa-required; code from the authenticator → 200/);
    assert.match(report.findings.find((f) => f.id === 'accounts.replay')?.evidence ?? '', /the spent login token with its code again → 4\d\d VIGIL_\w+; a new login with the spent code → 4\d\d VIGIL_\w+/);
    const integrity = report.findings.find((f) => f.id === 'audit.integrity')?.evidence ?? '';
    assert.match(integrity, /anonymous read → 401; read as "lab-viewer" → 403/);
    assert.match(integrity, /DELETE \/api\/v1\/audit\/events → 404/);
    assert.doesNotMatch(JSON.stringify(report), new RegExp(apiToken.slice(-20)), 'the token never reaches the report');
  });

  test('clauses only the device shows are declared with documents; nothing passes without a check; the level follows the rule', () => {
    const status = (id: string): string | undefined => report.clauses.find((x) => x.id === id)?.status;
    for (const id of ['NVR-5.1.2.1a', 'NVR-5.2.7.1a', 'NVR-5.4.2.1a', 'NVR-5.4.2.1c', 'NVR-5.2.8.1c', 'NVR-5.3.4.1a / 5.3.4.2a', 'NVR-5.3.2.1a', 'NVR-5.4.1.2a', 'NVR-5.2.2.1a', 'NVR-5.3.1.1a', 'NVR-5.3.1.2a', 'NVR-5.4.2.1b', 'NVR-5.4.2.1d', 'NVR-5.4.1.1b']) assert.equal(status(id), 'pass', id);
    for (const id of ['NVR-5.2.8.1b', 'NVR-5.2.9.1a', 'NVR-5.1.5.2a', 'NVR-5.2.7.1b', 'NVR-5.5.1.1a', 'NVR-5.5.2.1a', 'NVR-5.4.3.1b']) {
      assert.equal(status(id), 'declared', id);
      assert.match(report.clauses.find((x) => x.id === id)?.note ?? '', /attached: ((docs|src)\/)?[\w./-]+( § [\w ()/]+)? \(sha256 [0-9a-f]{16}…\)/, id);
    }
    // Not implemented or not declared: they stay open.
    assert.equal(status('NVR-5.4.1.1a'), 'manual', 'second-factor replay is refused; password-only replay is left to the lab');
    assert.equal(status('NVR-5.2.9.3a'), 'manual', 'off-site backup is not implemented, so not declared');
    assert.equal(status('NVR-5.1.1.1a'), 'manual', 'hardware: nobody has declared it');
    assert.equal(status('NVR-5.3.2.1b'), 'not-applicable');
    assert.equal(status('NVR-5.2.3.1c'), 'not-applicable', 'no online update path (declared)');
    assert.equal(status('NVR-5.2.3.1b'), 'pass', 'the package built by Vigil\'s tooling is encrypted and holds no secrets');
    assert.equal(status('NVR-5.2.3.1d'), 'not-implemented', 'the tampered-package test runs on the device (vigil update apply)');
    for (const c of report.clauses) {
      if (c.status === 'pass') assert.ok(c.findings.some((id) => !id.startsWith('declarations.')), `${c.id} passes with no check`);
      if (c.status === 'declared') assert.ok(c.kind === 'H' || c.kind === 'D' || /on the device|declared by the vendor/.test(c.note), c.id);
    }
    // The level is recomputed here from the clause table by the rule the report states.
    const nvr = report.levels.find((l) => l.standard === 'NVR');
    assert.ok(nvr !== undefined);
    const ok = new Set(['pass', 'not-applicable', 'declared']);
    let expected = 0;
    for (const level of [1, 2, 3]) {
      const open = report.clauses.filter((c) => c.standard === 'NVR' && c.blocksLevel === level);
      for (const c of open) assert.ok(!ok.has(c.status), `${c.id} blocks with ${c.status}`);
      if (open.length > 0) break;
      expected = level;
    }
    assert.equal(nvr.reached, expected);
    assert.equal(nvr.reached, 0, 'level 1 still has S clauses no check covers');
    assert.ok(nvr.blockers[0]?.clauses.some((c) => c.id === 'NVR-5.4.1.1c' && c.status === 'not-implemented'));
    assert.ok(!nvr.blockers.some((b) => b.clauses.some((c) => ['NVR-5.1.2.1a', 'NVR-5.2.8.1b', 'NVR-5.2.9.1a', 'NVR-5.2.7.1a', 'NVR-5.4.2.1a', 'NVR-5.4.2.1c', 'NVR-5.2.8.1c', 'NVR-5.3.4.1a / 5.3.4.2a', 'NVR-5.3.2.1a', 'NVR-5.4.1.2a'].includes(c.id))));
    assert.equal(report.requestedLevelReached, false);
    assert.equal(run.code, 1, 'exit code says the requested level is not reached');
  });

  test('without --ca, the self-signed device certificate is pinned on first use (validation stays on)', async () => {
    const out = path.join(dir, 'tofu');
    const r = await runVigil(['assess', HOST, '--port', String(vigil.port), '--only', 'web', '--format', 'json', '--out', out, '--credentials', path.join(dir, 'creds.json')], { timeoutMs: 120_000 });
    const tofu = JSON.parse(readFileSync(path.join(out, 'assess-report.json'), 'utf8')) as AssessReport;
    assert.match(tofu.target.trust, /self-signed certificate pinned on first use \(SHA-256 [0-9A-F:]+\)/, r.stderr);
    assert.equal(tofu.checks[0]?.status, 'pass');
  });

  test('progress goes to stderr, the summary to stdout; Markdown and HTML carry the summary', () => {
    assert.match(run.stderr, /\[assess\] ports: /);
    assert.match(run.stdout, /NVR: level 0 reached \(requested 3; software and documentation clauses: level \d\)/);
    const html = readFileSync(path.join(dir, 'out', 'assess-report.html'), 'utf8');
    assert.match(html, /<h2 id="summary">Summary<\/h2>/);
    assert.match(html, /Level reached \/ requested/);
    assert.match(html, /passes or is declared/);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(existsSync(path.join(dir, 'out', 'assess-report.md')));
    assert.match(readFileSync(path.join(dir, 'out', 'assess-report.md'), 'utf8'), /## Summary/);
  });
});
