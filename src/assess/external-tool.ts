// The lab's own scanners (nmap, sslscan) when the machine has them. A missing tool is never an
// error of the assessment: the built-in probe runs instead and the report says so.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export function findTool(command: string): string | undefined {
  // PATH only: an operator (or a test) hides a tool by leaving it off PATH.
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a tool with a time bound and an output bound (killed on either). */
export function runExternalTool(file: string, args: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' }, ...(signal === undefined ? {} : { signal }) },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr, timedOut: false });
          return;
        }
        const timedOut = err.killed === true || err.signal === 'SIGKILL';
        resolve({ code: typeof err.code === 'number' ? err.code : -1, stdout, stderr: stderr || err.message, timedOut });
      },
    );
  });
}
