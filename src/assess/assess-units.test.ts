// Unit tests of the pure parts of `vigil assess`: target refusal, request datagrams (byte-exact),
// scanner output parsing, suite classification, header rules, parameter discovery, clause
// aggregation and levels, and escaping of untrusted evidence in the reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusalReason } from './target.ts';
import { dnsQuery, snmpGetSysDescr } from './udp-payloads.ts';
import { parseNmapGrepable } from './tcp-scan.ts';
import { parseSslscan, suiteWeakness } from './check-tls.ts';
import { headerProblems, discoverParameters } from './check-web.ts';
import { aggregateClause, clauseLevel, evaluate, LEVEL_RULE } from './levels.ts';
import { attachDocuments, declarable, vigilStatements } from './vendor-evidence.ts';
import { tmpdir } from 'node:os';
import { base32Decode, totp } from './totp.ts';
import { CATALOGUE } from './catalogue.ts';
import { escapeHtml, renderHtml } from './report-html.ts';
import { renderMarkdown } from './report-md.ts';
import { buildReport } from './report.ts';
import { credentialPlan, DEFAULT_CREDENTIALS } from './default-credentials.ts';
import { parseDeclaration } from './declaration.ts';
import { isVigilError } from '../core/errors.ts';
import type { Finding } from './types.ts';

test('broadcast, multicast, unspecified and reserved targets are refused; a device address is not', () => {
  for (const a of ['0.0.0.0', '0.1.2.3', '255.255.255.255', '224.0.0.1', '239.255.255.250', '240.0.0.1', '::', 'ff02::1', '::ffff:224.0.0.251']) assert.notEqual(refusalReason(a), undefined, a);
  for (const a of ['127.0.0.85', '192.0.2.10', '::1', '2001:db8::1']) assert.equal(refusalReason(a), undefined, a);
});

test('SNMP GetRequest sysDescr.0 (RFC 1157 BER) is byte-exact', () => {
  const hex = snmpGetSysDescr('public', 'v1', 0x5647).toString('hex');
  assert.equal(hex, '302702010004067075626c6963a01a0202564702010002010030' + '0e300c06082b060102010101000500');
  assert.equal(snmpGetSysDescr('private', 'v2c')[4], 1, 'version field 1 = v2c');
});

test('DNS query for the mDNS service enumeration name (RFC 1035 §4.1, RFC 6763 §9)', () => {
  const q = dnsQuery('_services._dns-sd._udp.local', 12, { id: 0 });
  assert.equal(q.toString('hex'), '000000000001000000000000' + '095f7365727669636573075f646e732d7364045f756470056c6f63616c00' + '000c0001');
  assert.throws(() => dnsQuery(`${'a'.repeat(64)}.local`, 1), RangeError);
});

test('nmap grepable output and sslscan output are parsed', () => {
  const grep = 'Host: 127.0.0.85 ()\tPorts: 22/open/tcp//ssh///, 443/open/tcp//https///, 8080/closed/tcp//http-proxy///\tIgnored State: closed (65533)';
  assert.deepEqual(parseNmapGrepable(grep), [22, 443]);
  const ssl = '  SSLv3     disabled\n  TLSv1.0   enabled\n  TLSv1.2   enabled\nPreferred TLSv1.2  256 bits  ECDHE-RSA-AES256-GCM-SHA384   Curve P-256\nAccepted  TLSv1.0  128 bits  AES128-SHA\n';
  assert.deepEqual(parseSslscan(ssl), { legacyEnabled: ['TLSv1.0'], accepted: ['TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384', 'TLSv1.0 AES128-SHA'] });
});

test('suite classification: broken, no forward secrecy, CBC, good', () => {
  assert.equal(suiteWeakness('DES-CBC3-SHA'), 'broken');
  assert.equal(suiteWeakness('RC4-SHA'), 'broken');
  assert.equal(suiteWeakness('AECDH-AES256-SHA'), 'broken');
  assert.equal(suiteWeakness('AES256-GCM-SHA384'), 'no-forward-secrecy');
  assert.equal(suiteWeakness('ECDHE-RSA-AES128-SHA'), 'cbc');
  assert.equal(suiteWeakness('ECDHE-ECDSA-AES256-GCM-SHA384'), undefined);
  assert.equal(suiteWeakness('TLS_AES_256_GCM_SHA384'), undefined);
});

test('security headers: unsafe-inline, missing framing and nosniff are named', () => {
  const base = { status: 200, setCookies: [], body: '', truncated: false, elapsedMs: 1 };
  const good = { ...base, headers: { 'strict-transport-security': 'max-age=31536000', 'content-security-policy': "default-src 'self'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' } };
  assert.deepEqual(headerProblems(good, 'https'), []);
  const bad = { ...base, headers: { 'content-security-policy': "script-src 'self' 'unsafe-inline'" } };
  const p = headerProblems(bad, 'https');
  assert.ok(p.includes('no Strict-Transport-Security'));
  assert.ok(p.some((x) => x.includes("'unsafe-inline'")));
  assert.ok(p.includes('no frame-ancestors and no X-Frame-Options'));
  assert.ok(p.includes('no X-Content-Type-Options: nosniff'));
});

test('query parameters are discovered from the path, same-origin links and GET forms only', () => {
  const html = '<a href="/a?x=1&amp;y=2">a</a><a href="https://elsewhere.example/?evil=1">b</a><form action="/s"><input name="q"></form><form method="post" action="/p"><input name="secret"></form>';
  assert.deepEqual(discoverParameters('/home?lang=en', html).map((p) => `${p.path}?${p.param}`), ['/home?lang', '/a?x', '/a?y', '/s?q']);
});

test('the default-credential list is bounded per user name in safe mode', () => {
  const safe = credentialPlan(false);
  assert.ok(safe.length < DEFAULT_CREDENTIALS.length);
  assert.ok(safe.filter(([u]) => u === 'admin').length <= 3, 'never reaches a lockout of 5 on one account');
  assert.equal(credentialPlan(true).length, DEFAULT_CREDENTIALS.length);
});

test('declarations are validated', () => {
  assert.throws(() => parseDeclaration({ services: [{ protocol: 'tcp', port: 70000 }] }, 't'), (e: unknown) => isVigilError(e, 'VIGIL_ASSESS_DECLARATION_INVALID'));
  assert.throws(() => parseDeclaration({ services: [], webPaths: ['http://x/'] }, 't'), (e: unknown) => isVigilError(e, 'VIGIL_ASSESS_DECLARATION_INVALID'));
  assert.equal(parseDeclaration({ services: [{ protocol: 'udp', port: 161 }] }, 't').services[0]?.id, 'udp/161');
});

const clause = (id: string) => {
  const c = CATALOGUE.find((x) => x.id === id);
  assert.ok(c !== undefined, id);
  return c;
};
const f = (id: string, status: Finding['status'], clauses: Finding['clauses']): Finding => ({ id, check: 'web', title: id, status, clauses, evidence: 'e' });

test('clause aggregation: fail wins; a partial pass stays manual; unchecked S is not-implemented; H is manual', () => {
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('a', 'pass', [{ id: 'NVR-5.2.5.1a' }]), f('b', 'fail', [{ id: 'NVR-5.2.5.1a' }])]).status, 'fail');
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('a', 'pass', [{ id: 'NVR-5.2.5.1a', partial: 'stored XSS' }])]).status, 'manual');
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('a', 'pass', [{ id: 'NVR-5.2.5.1a' }])]).status, 'pass');
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('a', 'pass', [{ id: 'NVR-5.2.5.1a' }]), f('b', 'manual', [{ id: 'NVR-5.2.5.1a' }])]).status, 'manual');
  assert.equal(aggregateClause(clause('NVR-5.2.9.3a'), []).status, 'manual', 'an on-device S clause without a statement is manual');
  assert.equal(aggregateClause(clause('NVR-5.3.4.1a / 5.3.4.2a'), []).status, 'not-implemented');
  assert.equal(aggregateClause(clause('NVR-5.1.1.1a'), []).status, 'manual');
});

test('declared: only H/D and on-device S clauses; a declaration never stands in for a network-testable S clause', () => {
  assert.equal(aggregateClause(clause('NVR-5.1.1.1a'), [f('d', 'declared', [{ id: 'NVR-5.1.1.1a' }])]).status, 'declared');
  assert.equal(aggregateClause(clause('NVR-5.2.8.1b'), [f('d', 'declared', [{ id: 'NVR-5.2.8.1b' }])]).status, 'declared');
  // Automated part passes, the on-device rest is declared → declared; the automated part failing wins.
  assert.equal(aggregateClause(clause('NVR-5.2.7.1b'), [f('audit.integrity', 'pass', [{ id: 'NVR-5.2.7.1b', partial: 'db file' }]), f('d', 'declared', [{ id: 'NVR-5.2.7.1b' }])]).status, 'declared');
  // Its network part did not run (or another finding passed instead): the statement alone is not enough.
  assert.equal(aggregateClause(clause('NVR-5.2.7.1b'), [f('d', 'declared', [{ id: 'NVR-5.2.7.1b' }])]).status, 'manual');
  assert.equal(aggregateClause(clause('NVR-5.4.3.1b'), [f('credentials.logout', 'pass', [{ id: 'NVR-5.4.3.1b', partial: 'idle' }]), f('d', 'declared', [{ id: 'NVR-5.4.3.1b' }])]).status, 'manual');
  assert.equal(aggregateClause(clause('NVR-5.2.7.1b'), [f('a', 'fail', [{ id: 'NVR-5.2.7.1b' }]), f('d', 'declared', [{ id: 'NVR-5.2.7.1b' }])]).status, 'fail');
  // A "declared" finding on a network-testable S clause is one more manual step, never a level.
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('d', 'declared', [{ id: 'NVR-5.2.5.1a' }])]).status, 'manual');
  assert.equal(aggregateClause(clause('NVR-5.2.5.1a'), [f('a', 'pass', [{ id: 'NVR-5.2.5.1a', partial: 'x' }]), f('d', 'declared', [{ id: 'NVR-5.2.5.1a' }])]).status, 'manual');
});

test('levels: reached only when every applicable clause up to it passes or is declared; optional clauses never block', () => {
  const acs = CATALOGUE.filter((c) => c.standard === 'ACS');
  const allPass = acs.filter((c) => c.kind.includes('S')).map((c) => f(`x-${c.id}`, 'pass', [{ id: c.id }]));
  const declaredHd = acs.filter((c) => !c.kind.includes('S')).map((c) => f(`d-${c.id}`, 'declared', [{ id: c.id }]));
  assert.equal(evaluate('acs-platform', 3, [...allPass, ...declaredHd]).levels[0]?.reached, 3);
  // The same without the vendor's declarations: an undeclared H/D clause blocks its level.
  const undeclared = evaluate('acs-platform', 3, allPass).levels[0];
  const hd = acs.filter((c) => !c.kind.includes('S') && !clauseLevel(c).optional);
  if (hd.length > 0) {
    assert.ok((undeclared?.reached ?? 3) < 3, 'H/D clauses without a statement block');
    assert.ok(undeclared?.blockers.some((b) => b.clauses.some((x) => x.status === 'manual')));
  }
  const oneL2Fails = [...allPass, ...declaredHd].map((x) => (x.clauses[0]?.id === 'ACS-5.2.1.13' ? { ...x, status: 'fail' as const } : x));
  const l = evaluate('acs-platform', 3, oneL2Fails).levels[0];
  assert.equal(l?.reached, 1);
  assert.deepEqual(l?.blockers[1]?.clauses, [{ id: 'ACS-5.2.1.13', status: 'fail' }]);
  const withoutOptional = [...allPass, ...declaredHd].filter((x) => x.clauses[0]?.id !== 'ACS-5.2.2.7');
  assert.equal(evaluate('acs-platform', 3, withoutOptional).levels[0]?.reached, 3, 'ACS-5.2.2.7 is optional (1(O))');
  assert.equal(evaluate('nvr', 1, []).levels[0]?.reached, 0);
  assert.equal(clauseLevel(clause('NVR-5.1.3.2a')).optional, true, '"(optional)" in the requirement');
  assert.match(LEVEL_RULE, /passes or is declared/);
});

test('levels: the software-and-documentation level leaves out pure hardware clauses only', () => {
  const nvr = CATALOGUE.filter((c) => c.standard === 'NVR');
  const hardware = nvr.filter((c) => c.kind === 'H' && !clauseLevel(c).optional);
  assert.ok(hardware.length > 0, 'the NVR catalogue has hardware clauses');
  const softwareAndDocs = nvr.filter((c) => c.kind !== 'H').map((c) => f(`x-${c.id}`, c.kind === 'D' ? 'declared' : 'pass', [{ id: c.id }]));
  const l = evaluate('nvr', 3, softwareAndDocs).levels[0];
  assert.equal(l?.softwareReached, 3);
  assert.ok((l?.reached ?? 3) < 3, 'the full rule still needs the hardware statements');
  // A documentation clause without its document blocks the software level too.
  const noDocs = softwareAndDocs.filter((x) => nvr.find((c) => c.id === x.clauses[0]?.id)?.kind !== 'D');
  if (nvr.some((c) => c.kind === 'D' && !clauseLevel(c).optional)) assert.ok((evaluate('nvr', 3, noDocs).levels[0]?.softwareReached ?? 3) < 3);
});

test('vendor evidence: a statement counts only with its documents present; a missing section or file drops it', () => {
  const all = vigilStatements();
  assert.match(all['NVR-5.2.8.1b'] ?? '', /docs\/architecture\.md § Video path \(sha256 [0-9a-f]{16}…\)/);
  assert.equal(all['NVR-5.2.9.3a'], undefined, 'off-site backup is not implemented: no statement');
  assert.equal(all['NVR-5.1.1.1a'], undefined, 'hardware: Vigil declares nothing it cannot show');
  assert.equal(attachDocuments([{ file: 'docs/architecture.md', section: 'No such section' }]), undefined);
  assert.equal(attachDocuments([{ file: 'docs/no-such-file.md' }]), undefined);
  assert.equal(Object.keys(vigilStatements(tmpdir())).length, 0, 'an installation without its documents declares nothing');
  for (const id of Object.keys(all)) assert.ok(declarable(clause(id)), `${id} may be declared`);
});

test('HTML and Markdown escape evidence from the target; the HTML forbids script', () => {
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)> | `x` "q"';
  const findings: Finding[] = [{ ...f('web.reflected-input', 'fail', [{ id: 'NVR-5.2.5.1a' }]), evidence: evil, severity: 'high', fix: 'escape' }];
  const { clauses, levels } = evaluate('nvr', 1, findings);
  const report = buildReport({
    startedAt: new Date(),
    target: { host: '127.0.0.1', port: 443, profile: 'nvr', web: null, trust: evil, vigil: false, declaration: 'none' },
    options: { level: 1, intrusive: false, only: ['web'], excludePorts: [] },
    checks: [{ id: 'web', title: 't', status: 'fail', durationMs: 1, findings, notes: [evil] }],
    clauses,
    levels,
  });
  const html = renderHtml(report);
  assert.doesNotMatch(html, /<script>|<img /);
  assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal(escapeHtml(`'"&`), '&#39;&#34;&#38;');
  const md = renderMarkdown(report);
  assert.doesNotMatch(md, /<script>/);
  assert.ok(md.split('\n').filter((l) => l.includes('onerror')).every((l) => !/[^\\]\|\s`x`/.test(l)), 'a pipe in evidence cannot open a table cell');
});

test('TOTP of the MFA probe: RFC 6238 Appendix B vectors (SHA-1, 8 digits) and RFC 4648 base32', () => {
  const key = Buffer.from('12345678901234567890');
  assert.equal(totp(key, 59_000, 8), '94287082');
  assert.equal(totp(key, 1_111_111_109_000, 8), '07081804');
  assert.equal(totp(key, 20_000_000_000_000, 8), '65353130');
  assert.equal(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')?.toString(), '12345678901234567890');
  assert.equal(base32Decode('not base32!'), undefined);
});
