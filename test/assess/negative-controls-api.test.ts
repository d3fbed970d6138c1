// Negative controls of the authenticated API probes (alarms, accounts, discovery, audit): a stand-in for Vigil's API
// that behaves (every probe passes) and then, one flaw at a time, does not — the matching probe
// fails with evidence. Also: without a token or without --intrusive the probes do not run, and
// the probe cleans up the camera and alarm it caused.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { selfSignedCert, listen } from './weak-targets.ts';
import { FAKE_ADMIN_TOKEN, FAKE_USER, fakeVigilApi, type ApiFlaw, type FakeVigilState } from './weak-vigil-api.ts';
import { assessor, finding, tempDirs } from './harness.ts';
import type { AssessReport } from '../../src/assess/report.ts';
import type { CheckId } from '../../src/assess/types.ts';

const HOST = '127.0.0.93';
const tempDir = tempDirs('vigil-assess-api-');
const assess = assessor({ level: 2, checkTimeoutMs: 60_000, useExternalTools: false }, tempDir);

describe('negative controls: alarm, account and security-log probes through the API', () => {
  let tls: { key: string; cert: string };
  let caFile: string;
  let credsFile: string;
  let noTokenFile: string;

  before(async () => {
    tls = await selfSignedCert(HOST);
    const dir = tempDir();
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, tls.cert);
    credsFile = path.join(dir, 'creds.json');
    writeFileSync(credsFile, JSON.stringify({ ...FAKE_USER, apiToken: FAKE_ADMIN_TOKEN }));
    noTokenFile = path.join(dir, 'no-token.json');
    writeFileSync(noTokenFile, JSON.stringify(FAKE_USER));
  });

  async function against(flaw: ApiFlaw, extra: { intrusive?: boolean; credentialsFile?: string; only?: CheckId[] } = {}): Promise<{ report: AssessReport; state: FakeVigilState }> {
    const { server, state } = fakeVigilApi(tls, flaw, HOST);
    const target = await listen(server, HOST);
    try {
      const report = await assess(HOST, target.port, extra.only ?? ['alarms', 'accounts', 'discovery', 'audit'], { profile: 'nvr', intrusive: extra.intrusive ?? true, caFile, credentialsFile: extra.credentialsFile ?? credsFile, alarmWaitSeconds: 5 });
      return { report, state };
    } finally {
      await target.close();
    }
  }

  test('a target that behaves: every probe passes, and the probe camera and its alarm are removed', async () => {
    const { report, state } = await against('none');
    for (const f of report.findings) assert.equal(f.status, 'pass', `${f.id}: ${f.evidence}`);
    assert.equal(state.cameras.size, 0, 'the probe camera is deleted');
    assert.equal(state.deleted.length, 1);
    assert.ok(state.alarms.length === 1 && state.alarms.every((a) => a.state === 'cleared'), 'the alarm it caused is cleared');
    assert.equal(state.users.size, 0, 'the temporary account is deleted');
    assert.ok([...state.discovery.values()].every((d) => !d.enabled && d.socket === undefined) && !state.snmpUser, 'discovery left off, temporary SNMP user gone');
    assert.match(finding(report, 'accounts.password-policy').evidence, /11 characters, 4 classes → 400 VIGIL_PASSWORD_POLICY.*the password before that → 400.*clean-up: DELETE user → HTTP 200, afterwards → HTTP 404 \(gone\), user\.delete in the security log/);
    assert.ok(!JSON.stringify(report).includes(FAKE_ADMIN_TOKEN), 'the token never reaches the report');
  });

  test('no alarm when the camera stream is lost: alarms.signal-loss fails, the camera is still removed', async () => {
    const { report, state } = await against('no-alarm');
    const f = finding(report, 'alarms.signal-loss');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /no active alarm naming it after \d+\.\d s/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.1.2.1a')?.status, 'fail');
    assert.equal(state.cameras.size, 0);
  });

  test('events deletable through the API: audit.integrity fails', async () => {
    const { report } = await against('audit-writable');
    const f = finding(report, 'audit.integrity');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /DELETE \/api\/v1\/audit\/events was accepted \(HTTP 200\)/);
    assert.match(f.evidence, /the oldest event changed/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.2.7.1b')?.status, 'fail');
  });

  test('events without a full timestamp or a source: audit.fields fails', async () => {
    const { report } = await against('audit-fields');
    const f = finding(report, 'audit.fields');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /lack fields, e\.g\. seq \d+: ts "\d+" is not a full ISO 8601 timestamp, no source/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.2.7.1a')?.status, 'fail');
  });

  test('logins not logged: audit.fields fails naming the missing failed and successful logins', async () => {
    const { report } = await against('no-login-audit');
    const f = finding(report, 'audit.fields');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /the failed login of unknown user "nobody-[0-9a-f]+" is not in the log/);
    assert.match(f.evidence, /the successful login of "lab-viewer" is not in the log/);
  });

  test('an initial password that works like any other: accounts.first-login fails', async () => {
    const { report, state } = await against('no-forced-change');
    const f = finding(report, 'accounts.first-login');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /which its role allows → HTTP 200/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.4.2.1c')?.status, 'fail');
    assert.equal(state.users.size, 0);
  });

  test('short, simple and reused passwords accepted: accounts.password-policy fails naming each', async () => {
    const { report } = await against('weak-passwords');
    const f = finding(report, 'accounts.password-policy');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /problems: 11 characters, 4 classes was accepted, 20 lower-case letters was accepted, the current password again was accepted/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.4.2.1a')?.status, 'fail');
  });

  test('recordings served without a session: accounts.playback-access fails', async () => {
    const { report } = await against('open-playback');
    const f = finding(report, 'accounts.playback-access');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /without a session → 404/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.2.8.1c')?.status, 'fail');
  });

  test('a discovery toggle that does nothing: discovery.toggles fails (no answer once on)', async () => {
    const { report } = await against('discovery-ignored');
    const f = finding(report, 'discovery.toggles');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /UPnP \(SSDP\) did not answer once turned on; Bonjour \(mDNS\) did not answer once turned on; SNMP \(v3\) did not answer once turned on/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.3.2.1a')?.status, 'fail');
  });

  test('a discovery protocol that cannot be turned off: discovery.toggles fails (still answering)', async () => {
    const { report } = await against('discovery-stuck');
    const f = finding(report, 'discovery.toggles');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /UPnP \(SSDP\): on → HTTP 200, port \d+, answered; off → HTTP 200, STILL ANSWERING/);
    assert.match(f.evidence, /problems: UPnP \(SSDP\) still on after being turned off/);
  });

  test('idle sessions: ended after the announced timeout passes; a target that keeps them fails', async () => {
    const good = finding((await against('none', { only: ['sessions'] })).report, 'sessions.idle-timeout');
    assert.equal(good.status, 'pass', good.evidence);
    assert.match(good.evidence, /idle timeout announced 2 s; idle session: 200 at first, 401 after 1\d s untouched; control session used every 0\.7 s: 200 at the end/);
    const bad = finding((await against('no-idle-expiry', { only: ['sessions'] })).report, 'sessions.idle-timeout');
    assert.equal(bad.status, 'fail');
    assert.match(bad.evidence, /idle session: 200 at first, 200 after 1\d s untouched/);
  });

  test('TOTP enrolled but a password alone logs in: accounts.mfa fails', async () => {
    const { report } = await against('mfa-bypass', { only: ['accounts'] });
    const f = finding(report, 'accounts.mfa');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /TOTP enrolled; password login → authenticated/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.4.1.2a')?.status, 'fail');
  });

  test('a spent login token and TOTP code accepted again: accounts.replay fails', async () => {
    const { report } = await against('totp-replay', { only: ['accounts'] });
    assert.equal(finding(report, 'accounts.mfa').status, 'pass');
    const f = finding(report, 'accounts.replay');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence, /the spent login token with its code again → 200.*a new login with the spent code → 200/);
    assert.equal(report.clauses.find((c) => c.id === 'NVR-5.4.1.1a')?.status, 'fail');
  });

  test('safe mode adds no camera; without a token nothing authenticated runs: manual, never pass', async () => {
    const safe = await against('none', { intrusive: false });
    assert.equal(finding(safe.report, 'alarms.signal-loss').status, 'manual');
    assert.match(finding(safe.report, 'alarms.signal-loss').evidence, /run with --intrusive/);
    assert.equal(safe.state.deleted.length + safe.state.cameras.size, 0, 'no camera was created');
    assert.equal(finding(safe.report, 'accounts.first-login').status, 'manual');
    assert.equal(safe.state.events.filter((e) => e.action === 'user.create').length, 0, 'no account was made');
    const anon = await against('none', { credentialsFile: noTokenFile });
    for (const f of anon.report.findings) assert.equal(f.status, 'manual', f.id);
    assert.match(finding(anon.report, 'alarms.signal-loss').evidence, /no administrator API token given/);
    assert.notEqual(anon.report.clauses.find((c) => c.id === 'NVR-5.1.2.1a')?.status, 'pass');
  });
});
