// Negative controls of the transport check (NVR-5.3.4.1a / 5.3.4.2a: video only over TLS): on
// one loopback address, a strong HTTPS port and a redirect-only HTTP port pass; RTSP in clear,
// TLS 1.0 with static RSA, AES-128-only TLS and plain HTTP content are each named as failing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireTool } from '../helpers/tools.ts';
import { baselinePorts } from './baseline.ts';
import { basicAdminAdmin, listen, selfSignedCert, weakTls, type Closable } from './weak-targets.ts';
import { weakRtspCamera } from './weak-rtsp.ts';
import { assessor, finding, tempDirs } from './harness.ts';

const HOST = '127.0.0.94';
const tempDir = tempDirs('vigil-assess-transport-');
const assess = assessor({ level: 2, checkTimeoutMs: 240_000, useExternalTools: true }, tempDir);

describe('negative controls: video channels only over strong TLS', () => {
  let cert: { key: string; cert: string };
  let baseline: string[];

  before(async () => {
    requireTool('nmap', 'nmap');
    cert = await selfSignedCert(HOST);
    baseline = await baselinePorts(HOST);
  });

  async function run(targets: Closable[], mainPort: number): Promise<string> {
    try {
      const file = path.join(tempDir(), 'declaration.json');
      writeFileSync(file, JSON.stringify({ services: targets.map((t, i) => ({ id: `s${i}`, protocol: 'tcp', port: t.port })) }));
      const report = await assess(HOST, mainPort, ['ports', 'transport'], { profile: 'nvr', declarationFile: file, excludePorts: baseline });
      const f = finding(report, 'transport.video-channels');
      const clause = report.clauses.find((c) => c.id === 'NVR-5.3.4.1a / 5.3.4.2a')?.status ?? '';
      return `${f.status}|${clause}|${f.evidence}`;
    } finally {
      for (const t of targets) await t.close();
    }
  }

  function strongHttps(): https.Server {
    return weakTls(cert, { minVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256' });
  }

  test('strong HTTPS and a redirect-only HTTP port: pass', async () => {
    const good = await listen(strongHttps(), HOST);
    const redirect = await listen(http.createServer((_req, res) => res.writeHead(301, { location: `https://${HOST}:${good.port}/` }).end()), HOST);
    const [status, clause, evidence] = (await run([good, redirect], good.port)).split('|');
    assert.equal(status, 'pass', evidence);
    assert.equal(clause, 'pass');
    assert.match(evidence ?? '', new RegExp(`${good.port}: TLSv1\\.3 TLS_(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256).*TLS 1\\.0/1\\.1 refused; static RSA refused`));
    assert.match(evidence ?? '', new RegExp(`${redirect.port}: plain HTTP 301 → https://.*\\(redirect only\\)`));
  });

  test('RTSP in clear, TLS 1.0 with static RSA, AES-128-only TLS, HTTP content: each named, fail', async () => {
    const good = await listen(strongHttps(), HOST);
    const rtsp = await weakRtspCamera(HOST, { username: 'admin', password: 'admin' });
    const legacy = await listen(weakTls(cert, { minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }), HOST);
    const aes128 = await listen(weakTls(cert, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), HOST);
    const content = await listen(basicAdminAdmin(), HOST);
    const [status, clause, evidence] = (await run([good, rtsp, legacy, aes128, content], good.port)).split('|');
    assert.equal(status, 'fail', evidence);
    assert.equal(clause, 'fail');
    const e = evidence ?? '';
    assert.match(e, new RegExp(`${rtsp.port}: neither TLS nor HTTP \\(\\d+ bytes answered\\): a channel in clear`));
    assert.match(e, new RegExp(`${legacy.port}: TLSv1\\.3 .*TLS 1\\.0/1\\.1 ACCEPTED \\(TLSv1(\\.1)?\\); static RSA ACCEPTED`));
    assert.match(e, new RegExp(`${aes128.port}: TLS without an AES-256-equivalent ECDHE suite \\(TLSv1\\.2 ECDHE-RSA-AES128-GCM-SHA256\\)`));
    assert.match(e, new RegExp(`${content.port}: plain HTTP 401, \\d+ body bytes in clear`));
    assert.match(e, new RegExp(`${good.port}: TLSv1\\.3 .*TLS 1\\.0/1\\.1 refused; static RSA refused`));
  });
});
