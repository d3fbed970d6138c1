// The HTML report renders in Chromium (issue #7 acceptance): a real assessment of a weak target
// (plain HTTP with admin/admin) is written as HTML, opened from disk in Debian's Chromium with
// JavaScript disabled (the report needs none), screenshotted as a test artefact, and shows the
// summary and the failing finding — with the target's untrusted text escaped, not executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { runAssessment } from '../../src/assess/run.ts';
import { CHROMIUM } from '../helpers/chromium.ts';
import { ROOT } from '../helpers/vigil-process.ts';
import { basicAdminAdmin, listen } from './weak-targets.ts';

const HOST = '127.0.0.91';

test('the HTML report renders in Chromium with its summary and findings (screenshot saved)', async () => {
  assert.ok(existsSync(CHROMIUM), 'Chromium is required: apt-get install -y chromium');
  const target = await listen(basicAdminAdmin(), HOST);
  const out = mkdtempSync(path.join(tmpdir(), 'vigil-report-'));
  try {
    const { files } = await runAssessment({
      host: HOST, port: target.port, profile: 'camera', level: 1, outDir: out, formats: ['html', 'json'], only: ['credentials', 'web'], intrusive: false, excludePorts: [],
      checkTimeoutMs: 60_000, useExternalTools: false, progress: () => undefined,
    });
    const html = files.find((f) => f.endsWith('.html'));
    assert.ok(html !== undefined, files.join(', '));
    assert.doesNotMatch(readFileSync(html, 'utf8'), /<script/i, 'a self-contained report without scripts');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      await page.goto(`file://${html}`);
      const text = await page.locator('body').innerText();
      assert.match(text, /level/i);
      assert.match(text, /fail/i);
      assert.match(text, /admin/i, 'the default-credential finding is shown');
      const artifacts = path.join(ROOT, 'test-artifacts', 'assess');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
      assert.ok(existsSync(path.join(artifacts, 'report.png')));
    } finally {
      await browser.close();
    }
  } finally {
    await target.close();
    rmSync(out, { recursive: true, force: true });
  }
});
