// System tools the end-to-end tests drive (nmap, sslscan, sqlite3...). A missing tool is a test
// failure naming the Debian package to install — never a skip (testing.md; .ci/run installs them).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export function requireTool(command: string, aptPackage: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const candidate = path.join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error(`${command} is required by this test: apt-get install -y ${aptPackage}`);
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion with a time bound and an output bound. */
export function runTool(file: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}
