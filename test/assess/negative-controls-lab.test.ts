// Negative controls of the lab checks (issue #7): a weak RTSP camera, an update file carrying a
// private key and a password, an SBOM with a critical advisory. Each must be caught with status
// "fail" and evidence, and the evidence must never repeat a secret.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AssessReport } from '../../src/assess/report.ts';
import { weakRtspCamera } from './weak-rtsp.ts';
import { weakOnvifDevice } from './weak-onvif.ts';
import { assessor, finding, tempDirs } from './harness.ts';

const tempDir = tempDirs('vigil-assess-lab-');
const assess = assessor({ level: 3, checkTimeoutMs: 60_000, useExternalTools: false }, tempDir);

function clause(report: AssessReport, id: string): string | undefined {
  return report.clauses.find((c) => c.id === id)?.status;
}

/** A minimal ustar archive (POSIX.1-1988): 512-byte header per file, data padded to 512. */
function tar(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const h = Buffer.alloc(512);
    h.write(name, 0, 'latin1');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\x0000', 257, 'latin1');
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const SECRET_PASSWORD = 'Winter-Harbour-2024!';
const SECRET_URL_PASSWORD = 'Ftp-Pa55-Word';

function leakyFirmware(): Buffer {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return tar({
    'etc/ssl/device.key': key,
    'etc/app.conf': `[admin]\nadmin_password=${SECRET_PASSWORD}\nupload=ftp://svc:${SECRET_URL_PASSWORD}@192.0.2.10/upload\nsupport=alice.chen@camvendor.com.tw\n`,
    'bin/readme.txt': 'camera firmware 1.0\n'.repeat(200),
  });
}

describe('negative controls of the lab checks', () => {
  test('a weak RTSP camera: anonymous DESCRIBE, Basic and MD5-only Digest in clear, Digest replay accepted, crash under fuzz', async () => {
    const host = '127.0.0.89';
    const user = { username: 'viewer', password: 'Camera-Pass-1' };
    const cam = await weakRtspCamera(host, user);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'creds.json'), JSON.stringify(user));
    try {
      const report = await assess(host, 1, ['rtsp'], { rtspPorts: [cam.port], rtspPaths: ['/secure', '/live'], credentialsFile: path.join(dir, 'creds.json'), intrusive: true, fuzzCases: 120 });
      const anonymous = finding(report, 'rtsp.anonymous-describe');
      assert.equal(anonymous.status, 'fail');
      assert.match(anonymous.evidence, new RegExp(`RTSP ${cam.port} /live: 200 with \\d+ bytes of description`));
      const schemes = finding(report, 'rtsp.auth-schemes');
      assert.equal(schemes.status, 'fail');
      assert.match(schemes.evidence, /Basic offered on plain RTSP/);
      assert.match(schemes.evidence, /Digest with MD5 only/);
      assert.equal(finding(report, 'rtsp.cleartext').status, 'fail');
      const replay = finding(report, 'rtsp.replay');
      assert.equal(replay.status, 'fail', replay.evidence);
      assert.match(replay.evidence, /Digest MD5 accepted once \(200\), the same Authorization replayed → 200 \(replay accepted\)/);
      const fuzz = finding(report, 'rtsp.fuzz');
      assert.equal(fuzz.status, 'fail', fuzz.evidence);
      assert.match(fuzz.evidence, /did not recover/);
      assert.ok(!JSON.stringify(report).includes(user.password), 'the password never appears in the report');
      assert.equal(clause(report, 'CAM-T-com-1'), 'fail');
      assert.equal(clause(report, 'CAM-T-auth-1'), 'fail');
      assert.equal(clause(report, 'CAM-T-com-4'), 'fail');
      assert.equal(clause(report, 'CAM-T-priv-3'), 'fail');
    } finally {
      await cam.close();
    }
  });

  test('a weak ONVIF device: a UsernameToken replay is accepted (CAM-T-auth-1 fails); anonymous device information fails too', async () => {
    const host = '127.0.0.92';
    const user = { username: 'operator', password: 'Onvif-Pass-1234' };
    const dir = tempDir();
    writeFileSync(path.join(dir, 'creds.json'), JSON.stringify(user));
    for (const anonymous of [false, true]) {
      const device = await weakOnvifDevice(host, user, { anonymous });
      try {
        const report = await assess(host, device.port, ['onvif'], { credentialsFile: path.join(dir, 'creds.json') });
        assert.equal(finding(report, 'onvif.discovery').status, 'pass');
        const replay = finding(report, 'onvif.replay');
        assert.equal(replay.status, 'fail', replay.evidence);
        assert.match(replay.evidence, /accepted once \(HTTP 200\), the same request replayed → HTTP 200 \(replay accepted\)/);
        const open = finding(report, 'onvif.anonymous');
        assert.equal(open.status, anonymous ? 'fail' : 'pass', open.evidence);
        assert.equal(clause(report, 'CAM-T-auth-1'), 'fail');
        assert.ok(!JSON.stringify(report).includes(user.password), 'the password never appears in the report');
      } finally {
        await device.close();
      }
    }
    // Without an account the replay is not judged: manual, said so.
    const device = await weakOnvifDevice(host, user, { anonymous: false });
    try {
      const report = await assess(host, device.port, ['onvif']);
      assert.equal(finding(report, 'onvif.replay').status, 'manual');
      assert.match(finding(report, 'onvif.replay').evidence, /needs an account/);
    } finally {
      await device.close();
    }
  });

  test('an update file (tar, then gzip) with a private key, a password and credentials in a URL: caught, nothing secret printed', async () => {
    const dir = tempDir();
    const plain = path.join(dir, 'firmware.tar');
    writeFileSync(plain, leakyFirmware());
    const packed = path.join(dir, 'firmware.tar.gz');
    writeFileSync(packed, gzipSync(readFileSync(plain)));
    for (const file of [plain, packed]) {
      const report = await assess('127.0.0.1', 1, ['update-package'], { updatePackage: file });
      const entropy = finding(report, 'update-package.entropy');
      assert.equal(entropy.status, 'fail', entropy.evidence);
      assert.match(entropy.evidence, file === plain ? /a tar container at offset 0.*plain regions: 0x/ : /a gzip container at offset 0: it unpacks without any key/);
      const secrets = finding(report, 'update-package.secrets');
      assert.equal(secrets.status, 'fail');
      const where = file === plain ? 'at 0x' : 'at unpacked offset 0x';
      assert.match(secrets.evidence, new RegExp(`private-key ${where}[0-9a-f]+ \\(PEM "PRIVATE KEY"\\)`));
      assert.match(secrets.evidence, new RegExp(`password ${where}[0-9a-f]+ \\("password" assigned a value\\)`));
      assert.match(secrets.evidence, /url-with-credentials .*host 192\.0\.2\.10/);
      assert.match(secrets.evidence, /e-mail .*domain camvendor\.com\.tw/);
      const text = JSON.stringify(report);
      for (const s of [SECRET_PASSWORD, SECRET_URL_PASSWORD, 'alice.chen', 'BEGIN PRIVATE KEY-----\n']) assert.ok(!text.includes(s), `the report must not hold ${s}`);
      assert.equal(finding(report, 'update-package.endpoints').status, 'manual');
      assert.equal(clause(report, 'CAM-T-sys-7'), 'fail');
    }
    const nvr = await assess('127.0.0.1', 1, ['update-package'], { updatePackage: plain, profile: 'nvr' });
    assert.equal(clause(nvr, 'NVR-5.2.3.1b'), 'fail');
  });

  test('an SBOM component marked critical by the advisory list fails, naming it; no advisory source → manual', async () => {
    const dir = tempDir();
    const sbom = path.join(dir, 'sbom.json');
    writeFileSync(sbom, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'library', group: '@acme', name: 'rtsp-lib', version: '2.3.1' }, { type: 'library', name: 'tiny-http', version: '1.0.0' }] }));
    const advisories = path.join(dir, 'advisories.json');
    writeFileSync(advisories, JSON.stringify({ '@acme/rtsp-lib': [{ id: 'GHSA-test-0001', severity: 'critical', vulnerable_versions: '>=2.0.0 <2.3.2', cvss: { score: 9.8 } }], 'tiny-http': [{ id: 'GHSA-test-0002', severity: 'high', vulnerable_versions: '<1.0.0 || >=2.0.0', cvss: { score: 7.5 } }] }));
    const report = await assess('127.0.0.1', 1, ['sbom'], { profile: 'nvr', sbomFile: sbom, advisoriesFile: advisories });
    const critical = finding(report, 'sbom.critical');
    assert.equal(critical.status, 'fail');
    assert.match(critical.evidence, /@acme\/rtsp-lib@2\.3\.1: GHSA-test-0001 \(critical, CVSS 9\.8/);
    assert.doesNotMatch(critical.evidence, /tiny-http@/);
    assert.match(critical.evidence, /CVSS ≥ 9: 1, ≥ 7: 1, ≥ 4: 1/);
    assert.equal(clause(report, 'NVR-5.2.1.1a'), 'fail');
    assert.equal(clause(report, 'NVR-5.2.1.2a'), 'fail');
    const none = await assess('127.0.0.1', 1, ['sbom'], { profile: 'acs-platform', sbomFile: sbom });
    assert.ok(none.findings.every((f) => f.status === 'manual'));
    for (const id of ['ACS-5.2.3.4', 'ACS-5.2.3.7', 'ACS-5.2.3.8']) assert.equal(clause(none, id), 'manual', id);
  });
});
