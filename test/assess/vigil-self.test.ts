// `vigil assess` against the real Vigil on its own loopback address, as a lab would run it:
// the implemented checks pass, the unbuilt video clauses are "not-implemented" (never pass), the
// level reached is what the clause table honestly allows, and the reports are well-formed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
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


/** First administrator, TOTP, a viewer account (password changed as forced) and a sacrificial account. */
async function provision(vigil: VigilProcess): Promise<void> {
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
}

describe('vigil assess against a real Vigil (nvr profile, level 3, intrusive)', () => {
  let vigil: VigilProcess;
  let dir: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let report: AssessReport;

  before(async () => {
    requireTool('nmap', 'nmap');
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-assess-self-'));
    // Other programs' wildcard listeners answer on every loopback address: a baseline names them.
    const baseline = await baselinePorts(HOST);
    const redirectPort = await freePort(HOST);
    vigil = await startVigil({ host: HOST, config: { http: { host: HOST, port: 0, plainHttp: 'redirect', plainHttpPort: redirectPort }, security: { authRateLimitPerMinute: 600 } } });
    await provision(vigil);
    writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ username: VIEWER.username, password: VIEWER.password, lockout: SACRIFICE }));
    writeFileSync(path.join(dir, 'ca.pem'), vigil.caPem);
    const args = ['assess', HOST, '--port', String(vigil.port), '--profile', 'nvr', '--level', '3', '--intrusive', '--format', 'json,md,html',
      '--out', path.join(dir, 'out'), '--credentials', path.join(dir, 'creds.json'), '--ca', path.join(dir, 'ca.pem')];
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
    assert.equal(report.version, 1);
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

  test('unbuilt video clauses are not-implemented and block the level; nothing passes without a check', () => {
    for (const id of ['NVR-5.1.2.1a', 'NVR-5.2.8.1b', 'NVR-5.2.9.1a', 'NVR-5.3.4.1a / 5.3.4.2a', 'NVR-5.1.5.2a']) {
      const c = report.clauses.find((x) => x.id === id);
      assert.equal(c?.status, 'not-implemented', id);
    }
    for (const c of report.clauses) if (c.status === 'pass') assert.ok(c.findings.length > 0, `${c.id} passes with no finding`);
    const nvr = report.levels.find((l) => l.standard === 'NVR');
    assert.ok(nvr !== undefined);
    assert.equal(nvr.reached, 0, 'level 1 has S clauses no check covers yet');
    assert.ok(nvr.blockers[0]?.clauses.some((c) => c.id === 'NVR-5.2.9.1a'));
    for (const id of ['NVR-5.2.2.1a', 'NVR-5.3.1.1a', 'NVR-5.3.1.2a', 'NVR-5.4.2.1b', 'NVR-5.4.2.1d', 'NVR-5.4.1.1b']) {
      assert.equal(report.clauses.find((x) => x.id === id)?.status, 'pass', id);
    }
    assert.equal(report.clauses.find((x) => x.id === 'NVR-5.3.2.1b')?.status, 'not-applicable');
    assert.equal(report.clauses.find((x) => x.id === 'NVR-5.1.1.1a')?.status, 'manual');
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
    assert.match(run.stdout, /NVR: level 0 reached \(requested 3\)/);
    const html = readFileSync(path.join(dir, 'out', 'assess-report.html'), 'utf8');
    assert.match(html, /<h2 id="summary">Summary<\/h2>/);
    assert.match(html, /Level reached \/ requested/);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(existsSync(path.join(dir, 'out', 'assess-report.md')));
    assert.match(readFileSync(path.join(dir, 'out', 'assess-report.md'), 'utf8'), /## Summary/);
  });
});
