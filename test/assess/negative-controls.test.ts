// Negative controls: a deliberately weak target per flaw, each caught by the matching check with
// status "fail" and evidence. A check that cannot fail would pass these silently.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { requireTool } from '../helpers/tools.ts';
import { baselinePorts } from './baseline.ts';
import { basicAdminAdmin, leakyLogin, listen, listenUdp, reflectingSearch, selfSignedCert, weakTls, type Closable } from './weak-targets.ts';
import { assessor, finding, tempDirs } from './harness.ts';

const tempDir = tempDirs('vigil-assess-neg-');
const assess = assessor({ level: 1, checkTimeoutMs: 240_000, useExternalTools: true }, tempDir);

function declarationFile(value: unknown): string {
  const file = path.join(tempDir(), 'declaration.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

async function withTargets<T>(targets: Closable[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const t of targets) await t.close();
  }
}

describe('negative controls: each weak target is caught', () => {
  test('plain HTTP with Basic admin/admin: default credential accepted, cleartext content, no TLS', async () => {
    const host = '127.0.0.81';
    const web = await listen(basicAdminAdmin(), host);
    await withTargets([web], async () => {
      const report = await assess(host, web.port, ['tls', 'services', 'credentials', 'web']);
      const defaults = finding(report, 'credentials.defaults');
      assert.equal(defaults.status, 'fail');
      assert.match(defaults.evidence, /HTTP Basic admin\/admin → 200/);
      assert.equal(defaults.severity, 'critical');
      const plain = finding(report, 'services.plain-http');
      assert.equal(plain.status, 'fail');
      assert.match(plain.evidence, new RegExp(`${web.port}: HTTP 401.*Basic credentials in clear`));
      assert.equal(finding(report, 'tls.available').status, 'fail');
      assert.equal(finding(report, 'web.headers').status, 'fail');
      assert.equal(report.clauses.find((c) => c.id === 'CAM-T-com-1')?.status, 'fail');
    });
  });

  test('TLS 1.0/1.1 and CBC suites offered (SECLEVEL=0 server): caught by the built-in probe and sslscan', async () => {
    const host = '127.0.0.82';
    const server = await listen(weakTls(await selfSignedCert(host), { minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }), host);
    await withTargets([server], async () => {
      const report = await assess(host, server.port, ['tls']);
      const protocols = finding(report, 'tls.protocols');
      assert.equal(protocols.status, 'fail', protocols.evidence);
      assert.match(protocols.evidence, /TLSv1: accepted/);
      assert.match(protocols.evidence, /TLSv1\.1: accepted/);
      const suites = finding(report, 'tls.suites');
      assert.equal(suites.status, 'fail');
      assert.match(suites.evidence, /CBC: .*AES128-SHA/);
      assert.equal(finding(report, 'tls.forward-secrecy').status, 'fail', 'static RSA key exchange accepted');
      requireTool('sslscan', 'sslscan');
      const sslscan = finding(report, 'tls.sslscan');
      assert.equal(sslscan.status, 'fail');
      assert.match(sslscan.evidence, /TLSv1\.0/);
    });
  });

  test('TLS 1.2 only but a CBC-SHA suite accepted: the suite probe fails it', async () => {
    const host = '127.0.0.82';
    const server = await listen(weakTls(await selfSignedCert(host), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA' }), host);
    await withTargets([server], async () => {
      const report = await assess(host, server.port, ['tls'], { useExternalTools: false });
      assert.equal(finding(report, 'tls.protocols').status, 'pass');
      const suites = finding(report, 'tls.suites');
      assert.equal(suites.status, 'fail');
      assert.match(suites.evidence, /CBC: ECDHE-RSA-AES128-SHA/);
      assert.equal(suites.severity, 'medium');
      assert.ok(report.checks.find((c) => c.id === 'tls')?.notes.some((n) => /sslscan/.test(n)) === false, 'sslscan was not asked for');
    });
  });

  test('an undeclared TCP port and an undeclared UDP port: nmap scan catches both', async () => {
    requireTool('nmap', 'nmap');
    const host = '127.0.0.83';
    const baseline = await baselinePorts(host);
    const declared = await listen(net.createServer((s) => s.end()), host);
    const hidden = await listen(net.createServer((s) => s.end('debug> ')), host);
    const coap = await listenUdp(host, 5683, () => Buffer.from([0x60, 0x45, 0, 1]));
    await withTargets([declared, hidden, coap], async () => {
      const file = declarationFile({ services: [{ id: 'mgmt', protocol: 'tcp', port: declared.port }] });
      const report = await assess(host, declared.port, ['ports'], { declarationFile: file, excludePorts: baseline });
      const tcp = finding(report, 'ports.tcp');
      assert.equal(tcp.status, 'fail');
      assert.match(tcp.evidence, new RegExp(`undeclared open TCP ports: ${hidden.port}\\.`));
      assert.match(tcp.evidence, /method: nmap/);
      const udp = finding(report, 'ports.udp');
      assert.equal(udp.status, 'fail');
      assert.match(udp.evidence, /undeclared open UDP ports: 5683/);
      assert.equal(report.clauses.find((c) => c.id === 'CAM-T-sys-2')?.status, 'fail');
    });
  });

  test('without nmap or sslscan on PATH, assess falls back to built-in probes, says so, and still catches the port', async () => {
    const host = '127.0.0.83';
    const baseline = await baselinePorts(host);
    const declared = await listen(weakTls(await selfSignedCert(host), { minVersion: 'TLSv1.2' }), host);
    const hidden = await listen(net.createServer((s) => s.end()), host);
    const savedPath = process.env['PATH'];
    process.env['PATH'] = path.join(tempDir(), 'empty-bin');
    try {
      await withTargets([declared, hidden], async () => {
        const file = declarationFile({ services: [{ id: 'mgmt', protocol: 'tcp', port: declared.port }] });
        const report = await assess(host, declared.port, ['ports', 'tls'], { declarationFile: file, excludePorts: baseline });
        const tcp = finding(report, 'ports.tcp');
        assert.equal(tcp.status, 'fail');
        assert.match(tcp.evidence, new RegExp(`undeclared open TCP ports: ${hidden.port}\\.`));
        assert.match(tcp.evidence, /built-in connect scan .*nmap not installed/);
        assert.ok(report.checks.find((c) => c.id === 'tls')?.notes.some((n) => /sslscan not installed/.test(n)));
      });
    } finally {
      process.env['PATH'] = savedPath;
    }
  });

  test('a reflected-XSS search page (parameter discovered from a link) is caught', async () => {
    const host = '127.0.0.84';
    const web = await listen(reflectingSearch(), host);
    await withTargets([web], async () => {
      const report = await assess(host, web.port, ['web'], { declarationFile: declarationFile({ services: [], webPaths: ['/'] }) });
      const xss = finding(report, 'web.reflected-input');
      assert.equal(xss.status, 'fail');
      assert.match(xss.evidence, /reflected XSS: term on \/find/);
      assert.equal(xss.severity, 'high');
      assert.equal(report.clauses.find((c) => c.id === 'CAM-T-sys-9')?.status, 'fail');
    });
  });

  test('a login that tells unknown users apart, never locks, and keeps sessions after logout is caught', async () => {
    const host = '127.0.0.86';
    const account = { username: 'operator', password: 'Right-Password-1' };
    const web = await listen(leakyLogin(account), host);
    const creds = path.join(tempDir(), 'creds.json');
    writeFileSync(creds, JSON.stringify(account));
    await withTargets([web], async () => {
      const report = await assess(host, web.port, ['credentials', 'web'], { credentialsFile: creds, intrusive: true, declarationFile: declarationFile({ services: [], protectedPaths: ['/api/v1/auth/me'] }) });
      const enumeration = finding(report, 'credentials.enumeration');
      assert.equal(enumeration.status, 'fail');
      assert.match(enumeration.evidence, /wrong password.*no such user/);
      assert.equal(report.clauses.find((c) => c.id === 'CAM-T-auth-1')?.status, 'fail');
      assert.equal(finding(report, 'credentials.lockout').status, 'fail');
      assert.match(finding(report, 'credentials.lockout').evidence, /then the right password: authenticated/);
      const cookie = finding(report, 'credentials.session-cookie');
      assert.equal(cookie.status, 'fail');
      assert.match(cookie.evidence, /no HttpOnly.*no SameSite/);
      assert.equal(finding(report, 'credentials.logout').status, 'fail');
      assert.equal(finding(report, 'web.csrf').status, 'fail');
    });
  });

  test('Telnet banner and an SSDP responder answering M-SEARCH are caught', async () => {
    const host = '127.0.0.87';
    const telnet = await listen(net.createServer((s) => s.end(Buffer.from([0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01]))), host, 2323);
    const ssdp = await listenUdp(host, 1900, (msg) => (msg.toString().startsWith('M-SEARCH') ? Buffer.from('HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nSERVER: Linux UPnP/1.0 IPCAM\r\n\r\n') : undefined));
    await withTargets([telnet, ssdp], async () => {
      const report = await assess(host, telnet.port, ['services']);
      const mgmt = finding(report, 'services.cleartext-management');
      assert.equal(mgmt.status, 'fail');
      assert.match(mgmt.evidence, /2323: Telnet/);
      const discovery = finding(report, 'services.discovery');
      assert.equal(discovery.status, 'fail');
      assert.match(discovery.evidence, /SSDP\/UPnP: "HTTP\/1\.1 200 OK/);
    });
  });
});
