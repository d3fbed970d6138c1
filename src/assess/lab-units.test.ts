// Unit tests of the lab's offline parts: the semver range matcher, the Digest response (RFC 7616
// §3.9.1 vectors), RTSP answer and challenge parsing, entropy and the secret search, and the
// fuzz case generator's determinism.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { satisfies } from './semver-range.ts';
import { digestResponse, parseChallenge, parseRtspAnswer } from './rtsp-probe.ts';
import { containerSignature, EntropyMap, highEntropyThreshold, scanForSecrets, shannonEntropy } from './package-scan.ts';
import { fuzzCase } from './rtsp-fuzz.ts';
import { matchAdvisories, parseAdvisories, sbomFindings } from './check-sbom.ts';

describe('semver ranges (advisory vulnerable_versions)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1.2.3', '<1.2.4', true], ['1.2.4', '<1.2.4', false], ['1.2.4', '<=1.2.4', true], ['2.0.0', '>=1.0.0 <2.0.0', false],
    ['1.9.9', '>=1.0.0 <2.0.0', true], ['0.9.0', '<0.5.0 || >=0.9.0 <0.9.2', true], ['0.6.0', '<0.5.0 || >=0.9.0 <0.9.2', false],
    ['1.4.0', '^1.2.0', true], ['2.0.0', '^1.2.0', false], ['0.2.5', '^0.2.3', true], ['0.3.0', '^0.2.3', false],
    ['1.2.9', '~1.2.3', true], ['1.3.0', '~1.2.3', false], ['1.5.0', '1.2.3 - 1.5.0', true], ['1.5.1', '1.2.3 - 1.5.0', false],
    ['1.2.7', '1.2.x', true], ['1.3.0', '1.2.x', false], ['3.0.0', '*', true], ['1.0.0', '> 0.9.0', true], ['1.0.0', '=1.0.0', true],
    ['2.0.0-beta.1', '<2.0.0', false], ['2.0.0-beta.1', '>=2.0.0-alpha <2.0.0', true], ['1.0.0', '<1', false], ['0.9.9', '<1', true], ['1.2.0', '<=1.2', true],
  ];
  for (const [v, r, want] of cases) test(`${v} in "${r}" → ${want}`, () => assert.equal(satisfies(v, r), want));
  test('an unsupported range is undefined, never "not vulnerable"', () => {
    assert.equal(satisfies('1.0.0', 'latest'), undefined);
    assert.equal(satisfies('not-a-version', '<2.0.0'), undefined);
  });
});

describe('RTSP client bits', () => {
  test('Digest response: RFC 7616 §3.9.1 vectors (MD5 and SHA-256)', () => {
    const base = { username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', method: 'GET', uri: '/dir/index.html', qop: 'auth' as const, nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(digestResponse({ ...base, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });
  test('an RTSP answer with repeated WWW-Authenticate and a body', () => {
    const a = parseRtspAnswer(Buffer.from('RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="cam", nonce="n1", algorithm=SHA-256, qop="auth"\r\nWWW-Authenticate: Basic realm="cam"\r\nContent-Length: 3\r\n\r\nabc'));
    assert.equal(a?.status, 401);
    assert.equal(a?.headers.filter(([k]) => k === 'www-authenticate').length, 2);
    assert.equal(a?.body, 'abc');
    assert.equal(parseRtspAnswer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), undefined);
    const c = parseChallenge('Digest realm="a \\"b\\"", nonce="x", algorithm=MD5, qop="auth,auth-int"');
    assert.equal(c?.scheme, 'digest');
    assert.equal(c?.params.get('realm'), 'a "b"');
    assert.equal(c?.params.get('qop'), 'auth,auth-int');
  });
  test('fuzz cases are reproducible from seed and index', () => {
    for (let i = 0; i < 40; i++) assert.deepEqual(fuzzCase(7, i, 'rtsp://h/live'), fuzzCase(7, i, 'rtsp://h/live'));
    assert.notDeepEqual(fuzzCase(7, 7, 'rtsp://h/live').payload, fuzzCase(8, 7, 'rtsp://h/live').payload);
  });
});

describe('update package scan', () => {
  test('entropy: random bytes are high, text is plain, a short tail is not judged', () => {
    assert.ok(shannonEntropy(randomBytes(4096)) >= highEntropyThreshold(4096));
    assert.ok(shannonEntropy(Buffer.from('password=hunter2\n'.repeat(300))) < 5);
    const map = new EntropyMap();
    map.add(0, Buffer.from('{"header":1}'.padEnd(4096, ' ')));
    map.add(4096, randomBytes(4096));
    map.add(8192, randomBytes(1000));
    map.add(9192, randomBytes(100));
    assert.equal(map.firstBlockLow, true);
    assert.deepEqual(map.regions.map((r) => r.kind), ['low', 'high', 'short']);
    assert.equal(map.plainRegionsAfterHeader().length, 0);
  });
  test('secrets are found with offset and kind, their values never in the label', () => {
    const text = 'xx -----BEGIN RSA PRIVATE KEY-----\nMIIB\n db_password = "S3cr3t-Value"\nAKIAABCDEFGHIJKLMNOP ftp://user:Pw-123@10.1.2.3/x ops@vendor.com.tw admin@example.com http://update.vendor.tw/fw 127.0.0.1 8.8.8.8';
    const hits = scanForSecrets(text, 100);
    const kinds = hits.map((h) => h.kind);
    for (const k of ['private-key', 'password', 'api-token', 'url-with-credentials', 'e-mail', 'url', 'ip-address'] as const) assert.ok(kinds.includes(k), `${k} in ${kinds.join(',')}`);
    assert.equal(hits.find((h) => h.kind === 'private-key')?.offset, 103);
    assert.ok(!hits.some((h) => /S3cr3t|Pw-123|ABCDEFGHIJ|ops@/.test(h.label)), JSON.stringify(hits));
    assert.ok(!hits.some((h) => h.label.includes('example.com')), 'reserved domains are nobody');
    assert.ok(!hits.some((h) => h.label.includes('127.0.0.1')));
    assert.deepEqual(scanForSecrets('"password": null, passwd: ${PASS}', 0).filter((h) => h.kind === 'password'), []);
  });
  test('container signatures: gzip, tar (ustar at 257), none for random', () => {
    assert.equal(containerSignature(Buffer.from([0x1f, 0x8b, 0x08, 0]))?.name, 'gzip');
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    assert.equal(containerSignature(tar)?.name, 'tar');
    assert.equal(containerSignature(Buffer.from('VIGILUPD')), undefined);
  });
});

describe('SBOM against advisories', () => {
  const components = [{ name: '@fastify/cookie', version: '11.1.5', type: 'library' }, { name: 'ws', version: '8.18.0', type: 'library' }];
  const advisories = parseAdvisories({
    ws: [{ id: 1, severity: 'high', vulnerable_versions: '>=8.0.0 <8.17.1', cvss: { score: 7.5 } }, { id: 2, severity: 'critical', vulnerable_versions: '>=8.18.0 <8.18.1', cvss: { score: 0 } }],
    '@fastify/cookie': [{ id: 3, severity: 'moderate', vulnerable_versions: '<11.0.0', cvss: { score: 5.3 } }],
  });
  test('matching: only versions inside the range; a label stands in for a missing score', () => {
    const { matches } = matchAdvisories(components, advisories);
    assert.deepEqual(matches.map((m) => m.advisory.id), ['2']);
    assert.equal(matches[0]?.advisory.score, 9);
    assert.equal(matches[0]?.advisory.scoreFromLabel, true);
  });
  test('thresholds: a critical fails every level; without advisories everything is manual', () => {
    const f = sbomFindings({ components, sbomSource: 's', advisories, advisorySource: 'a', level: 1 });
    assert.deepEqual(f.map((x) => [x.id, x.status]), [['sbom.critical', 'fail'], ['sbom.high', 'fail'], ['sbom.medium', 'fail']]);
    assert.ok(f[0]?.clauses.some((c) => c.id === 'CAM-T-sys-1'));
    assert.ok(f[0]?.clauses.find((c) => c.id === 'NVR-5.2.1.1a')?.partial !== undefined, 'no OS in the SBOM: partial');
    assert.ok(sbomFindings({ components, sbomSource: 's', advisories: undefined, advisorySource: '', level: 3 }).every((x) => x.status === 'manual'));
  });
});
