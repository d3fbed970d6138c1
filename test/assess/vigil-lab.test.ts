// The lab checks against a real Vigil (issue #7): the camera role serving RTSPS with Digest
// (SHA-256, MD5 for legacy clients) and ONVIF with WS-Security UsernameToken, an update package
// made by Vigil's own tooling, and the SBOM this installation ships — assessed through the CLI
// at level 3, intrusive, as a lab would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startVigil, runVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { freePort } from '../helpers/net.ts';
import { requireTool } from '../helpers/tools.ts';
import type { AssessReport } from '../../src/assess/report.ts';

const HOST = '127.0.0.90';
const ADMIN = { username: 'lab-admin', password: 'Harbour-Lantern-42' };
const VIEWER = { username: 'lab-viewer', first: 'Granite-Meadow-58', password: 'Granite-Meadow-59x' };

describe('vigil assess rtsp, onvif, update-package and sbom against a real Vigil camera (level 3, intrusive)', () => {
  let vigil: VigilProcess;
  let dir: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let report: AssessReport;
  let rtspsPort = 0;

  before(async () => {
    requireTool('ffmpeg', 'ffmpeg');
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-assess-lab-self-'));
    rtspsPort = await freePort(HOST);
    vigil = await startVigil({
      host: HOST,
      config: {
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        camera: { enabled: true, width: 320, height: 240, fps: 10, rtspsPort, rtspPort: 0, digestAlgorithms: ['SHA-256', 'MD5'] },
      },
    });
    assert.ok(vigil.output.some((l) => l.includes(`camera stream on rtsps://`)), vigil.output.join('\n'));
    const admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    assert.equal((await admin.post('/api/v1/users', { username: VIEWER.username, password: VIEWER.first, grants: [{ role: 'viewer', scopeKind: 'global' }] })).status, 201);
    // A user created by the administrator sets its own password first; that one RTSP Digest knows.
    const viewer = admin.anonymous();
    viewer.csrfToken = (await viewer.post<{ csrfToken: string }>('/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.first })).body.csrfToken;
    assert.equal((await viewer.post('/api/v1/auth/password', { currentPassword: VIEWER.first, newPassword: VIEWER.password })).status, 200);
    writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ username: VIEWER.username, password: VIEWER.password }));
    writeFileSync(path.join(dir, 'ca.pem'), vigil.caPem);
    // An update package from Vigil's own tooling.
    const keys = path.join(dir, 'keys');
    assert.equal((await runVigil(['update', 'keygen', '--out', keys])).code, 0);
    const src = path.join(dir, 'release');
    mkdirSync(path.join(src, 'lib'), { recursive: true });
    writeFileSync(path.join(src, 'lib', 'app.js'), `export const build = '${randomBytes(8).toString('hex')}';\n${'// release notes line\n'.repeat(2000)}`);
    writeFileSync(path.join(src, 'README.txt'), 'Vigil release\n'.repeat(500));
    const pkg = path.join(dir, 'vigil-9.9.9.vup');
    const built = await runVigil(['update', 'build', '--from', src, '--version', '9.9.9', '--signing-key', path.join(keys, 'vendor-signing.key.pem'), '--device-key', path.join(keys, 'device-update.pub.pem'), '--out', pkg]);
    assert.equal(built.code, 0, built.stderr);
    // An offline advisory list naming components Vigil ships, at versions it does not ship.
    const sbom = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../docs/generated/sbom.cdx.json'), 'utf8')) as { components: Array<{ name: string; group?: string; version: string }> };
    const advisories: Record<string, unknown[]> = {};
    for (const c of sbom.components.slice(0, 5)) advisories[c.group === undefined ? c.name : `${c.group}/${c.name}`] = [{ id: `TEST-${c.name}`, severity: 'critical', vulnerable_versions: `<${c.version.split('.')[0] ?? '0'}.0.0-0 || >99.0.0`, cvss: { score: 9.8 } }];
    writeFileSync(path.join(dir, 'advisories.json'), JSON.stringify(advisories));
    run = await runVigil(['assess', HOST, '--port', String(vigil.port), '--profile', 'camera', '--level', '3', '--intrusive', '--only', 'rtsp,onvif,update-package,sbom',
      '--credentials', path.join(dir, 'creds.json'), '--ca', path.join(dir, 'ca.pem'), '--update-package', pkg, '--advisories', path.join(dir, 'advisories.json'),
      '--fuzz-cases', '300', '--format', 'json', '--out', path.join(dir, 'out')], { timeoutMs: 600_000 });
    report = JSON.parse(readFileSync(path.join(dir, 'out', 'assess-report.json'), 'utf8')) as AssessReport;
  });
  after(async () => {
    await vigil?.dispose();
    if (dir !== undefined && process.env['ASSESS_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
  });

  function f(id: string): { status: string; evidence: string } {
    const x = report.findings.find((y) => y.id === id);
    assert.ok(x !== undefined, `${id} missing: ${report.findings.map((y) => `${y.id} ${y.status} ${y.evidence}`).join('\n')}\n${run.stderr}`);
    return x;
  }

  test('rtsp: the declared RTSPS port is found; anonymous DESCRIBE 401; SHA-256 Digest offered; replay refused; the fuzz leaves it answering', () => {
    assert.match(f('rtsp.discovery').evidence, new RegExp(`RTSPS ${rtspsPort}`));
    for (const id of ['rtsp.anonymous-describe', 'rtsp.auth-schemes', 'rtsp.cleartext', 'rtsp.replay', 'rtsp.fuzz']) assert.equal(f(id).status, 'pass', `${id}: ${f(id).evidence}`);
    assert.match(f('rtsp.anonymous-describe').evidence, /\/live → 401/);
    assert.match(f('rtsp.auth-schemes').evidence, /Digest SHA-256, Digest MD5/);
    assert.match(f('rtsp.replay').evidence, /Digest SHA-256 accepted once \(200\), the same Authorization replayed → 401 stale=true/);
    assert.match(f('rtsp.fuzz').evidence, /300 cases in 12 batches.*a fresh OPTIONS was answered after every batch/);
  });

  test('onvif: the camera role answers SOAP; anonymous GetDeviceInformation is NotAuthorized; a replayed UsernameToken is refused (CAM-T-auth-1)', () => {
    assert.match(f('onvif.discovery').evidence, /GetSystemDateAndTime → HTTP 200/);
    for (const id of ['onvif.anonymous', 'onvif.replay']) assert.equal(f(id).status, 'pass', `${id}: ${f(id).evidence}`);
    assert.match(f('onvif.anonymous').evidence, /refused: HTTP 400 env:Sender\/ter:NotAuthorized/);
    assert.match(f('onvif.replay').evidence, /accepted once \(HTTP 200\), the same request replayed → HTTP 400 env:Sender\/ter:NotAuthorized/);
  });

  test('update-package: the package from `vigil update build` is encrypted throughout and holds no secret', () => {
    assert.equal(f('update-package.entropy').status, 'pass', f('update-package.entropy').evidence);
    assert.equal(f('update-package.secrets').status, 'pass', f('update-package.secrets').evidence);
    assert.equal(f('update-package.endpoints').status, 'pass', f('update-package.endpoints').evidence);
  });

  test('sbom: the shipped SBOM has none of the listed advisories; the CVSS counts are reported', () => {
    for (const id of ['sbom.critical', 'sbom.high', 'sbom.medium']) {
      assert.equal(f(id).status, 'pass', f(id).evidence);
      assert.match(f(id).evidence, /CVSS ≥ 9: 0, ≥ 7: 0, ≥ 4: 0/);
    }
  });

  test('clauses: what passes, what stays with the lab (partial), never a pass without a finding', () => {
    const status = (id: string): string | undefined => report.clauses.find((c) => c.id === id)?.status;
    assert.equal(status('CAM-T-com-1'), 'pass');
    assert.equal(status('CAM-T-sys-7'), 'pass');
    for (const id of ['CAM-T-com-4', 'CAM-T-auth-1', 'CAM-T-sys-3..6', 'CAM-T-sys-1', 'CAM-T-priv-3']) assert.equal(status(id), 'manual', id);
    for (const c of report.clauses) if (c.status === 'pass') assert.ok(c.findings.length > 0, c.id);
    assert.equal(run.code, 1, 'level 3 of the camera standard is not reached by four checks');
  });
});
