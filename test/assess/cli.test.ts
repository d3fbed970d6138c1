// The `vigil assess` command line: help, refused targets, usage errors (exit 2), and a check that
// overruns its time bound is reported as such instead of hanging the assessment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runVigil } from '../helpers/vigil-process.ts';
import type { AssessReport } from '../../src/assess/report.ts';
import { listen } from './weak-targets.ts';

test('vigil assess --help lists every option', async () => {
  const r = await runVigil(['assess', '--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const o of ['--port', '--profile', '--level', '--declaration', '--credentials', '--ca', '--out', '--format', '--only', '--intrusive', '--rtsp-ports', '--rtsp-path', '--update-package', '--sbom', '--advisories', '--fuzz-cases', '--fuzz-seed']) assert.match(r.stdout, new RegExp(`\\s${o}\\b`));
  assert.match((await runVigil(['--help'])).stdout, /\bassess\b/);
});

test('broadcast, multicast and unspecified targets are refused with VIGIL_ASSESS_TARGET_REFUSED before any probe', async () => {
  for (const host of ['255.255.255.255', '224.0.0.251', '0.0.0.0', '::', 'ff02::1']) {
    const r = await runVigil(['assess', host, '--port', '80', '--out', path.join(tmpdir(), 'never-written')]);
    assert.equal(r.code, 2, `${host}: ${r.stderr}`);
    assert.match(r.stderr, /VIGIL_ASSESS_TARGET_REFUSED/);
  }
});

test('usage errors exit 2 with a coded message', async () => {
  for (const args of [['127.0.0.1', '--profile', 'toaster'], ['127.0.0.1', '--level', '4'], ['127.0.0.1', '--only', 'fuzz'], ['127.0.0.1', '--format', 'pdf'], []]) {
    const r = await runVigil(['assess', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /VIGIL_ASSESS_OPTIONS_INVALID/);
  }
  const missing = await runVigil(['assess', '127.0.0.1', '--declaration', '/nonexistent/decl.json', '--only', 'declarations']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /VIGIL_ASSESS_DECLARATION_INVALID/);
});

test('a check that overruns its time bound is reported (VIGIL_ASSESS_CHECK_TIMEOUT) and the run completes', async () => {
  const host = '127.0.0.88';
  // Accepts and never answers: every TLS handshake waits for its own 5 s limit.
  const tarpit = await listen(net.createServer(() => undefined), host);
  const out = mkdtempSync(path.join(tmpdir(), 'vigil-assess-cli-'));
  try {
    const started = Date.now();
    const r = await runVigil(['assess', host, '--port', String(tarpit.port), '--only', 'tls', '--check-timeout', '5', '--format', 'json', '--out', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(Date.now() - started < 60_000);
    const report = JSON.parse(readFileSync(path.join(out, 'assess-report.json'), 'utf8')) as AssessReport;
    const f = report.findings.find((x) => x.id === 'tls.error');
    assert.equal(f?.status, 'manual');
    assert.match(f?.evidence ?? '', /VIGIL_ASSESS_CHECK_TIMEOUT/);
    assert.match(r.stderr, /\[assess\] tls: could not complete/);
  } finally {
    await tarpit.close();
    rmSync(out, { recursive: true, force: true });
  }
});
