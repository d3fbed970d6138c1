// Debian's Chromium driven by playwright-core for the browser tests: it trusts exactly the
// device key under test (Chromium's SPKI pin list, base64 SHA-256 of the DER SPKI) with
// certificate validation otherwise on, and it records every console error, page error, failed
// request and error response together with the step that caused it, for the final checks.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface BrowserProblems {
  /** The step now running (set it in beforeEach): every problem is tagged with it. */
  step: string;
  consoleErrors: Array<{ text: string; url: string; test: string }>;
  failedRequests: string[];
  errorResponses: Array<{ status: number; url: string; test: string }>;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  problems: BrowserProblems;
  close(): Promise<void>;
}

export async function launchChromium(caPem: string, options: { name: string; viewport?: { width: number; height: number } }): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  const pin = createHash('sha256').update(spki).digest('base64');
  const userDataDir = mkdtempSync(path.join(tmpdir(), `vigil-chromium-${options.name}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${pin}`],
    ignoreHTTPSErrors: false,
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: BrowserProblems = { step: 'before', consoleErrors: [], failedRequests: [], errorResponses: [] };
  page.on('console', (m) => { if (m.type() === 'error') problems.consoleErrors.push({ text: m.text(), url: m.location().url, test: problems.step }); });
  page.on('pageerror', (e) => problems.consoleErrors.push({ text: `pageerror: ${e.message}`, url: '', test: problems.step }));
  page.on('requestfailed', (r) => problems.failedRequests.push(`${problems.step}: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.errorResponses.push({ status: r.status(), url: r.url(), test: problems.step }); });
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
