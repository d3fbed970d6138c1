// Shared by the assess tests: private report directories, an assessment runner with per-suite
// defaults, and finding lookup with a readable failure.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAssessment, type AssessOptions } from '../../src/assess/run.ts';
import type { AssessReport } from '../../src/assess/report.ts';
import type { CheckId, Finding } from '../../src/assess/types.ts';

/** A temp-dir factory whose directories are removed after the suite. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

type Defaults = Pick<AssessOptions, 'level' | 'checkTimeoutMs' | 'useExternalTools'>;

/** Runs `vigil assess` in process against host:port with the suite's defaults (JSON only). */
export function assessor(defaults: Defaults, tempDir: () => string) {
  return async (host: string, port: number, only: CheckId[], extra: Partial<AssessOptions> = {}): Promise<AssessReport> => {
    const { report } = await runAssessment({
      host, port, profile: 'camera', outDir: tempDir(), formats: ['json'], only, intrusive: false, excludePorts: [], progress: () => undefined, ...defaults, ...extra,
    });
    return report;
  };
}

export function finding(report: AssessReport, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f !== undefined, `finding ${id} missing: ${report.findings.map((x) => `${x.id} ${x.evidence}`).join('\n')}`);
  return f;
}
