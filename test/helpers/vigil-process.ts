// Starts the real `vigil` process on loopback with a private data dir, keyring and config,
// and reads its address, certificate and setup token from its console — as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const VIGIL_BIN = path.join(ROOT, 'bin/vigil');

export interface VigilProcess {
  child: ChildProcess;
  dir: string;
  configFile: string;
  dataDir: string;
  baseUrl: string;
  port: number;
  host: string;
  /** PEM of the device certificate, read from the data dir: the client pins it as its CA. */
  caPem: string;
  setupToken: string | undefined;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  dispose(): Promise<void>;
}

export interface StartOptions {
  /** Extra configuration merged over the test defaults. */
  config?: Record<string, unknown>;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** Reuse a directory from an earlier process (restart tests). */
  dir?: string;
  timeoutMs?: number;
  /** A command the process runs under, e.g. ['ip', 'netns', 'exec', NAME] (it must exec, not fork). */
  wrap?: string[];
}

export async function startVigil(options: StartOptions = {}): Promise<VigilProcess> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'vigil-e2e-'));
  const dataDir = path.join(dir, 'data');
  const host = options.host ?? '127.0.0.1';
  const config = {
    dataDir,
    keyring: { kekFile: path.join(dir, 'keyring', 'kek.key') },
    http: { host, port: 0 },
    log: { level: 'info' },
    ...options.config,
  };
  const configFile = path.join(dir, 'vigil.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const [command = VIGIL_BIN, ...args] = [...(options.wrap ?? []), VIGIL_BIN, 'start', '--config', configFile];
  const child = spawn(command, args, {
    cwd: dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let setupToken: string | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ baseUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil did not start within ${options.timeoutMs ?? 60_000} ms:\n${output.join('\n')}`)), options.timeoutMs ?? 60_000);
    const onLine = (line: string): void => {
      output.push(line);
      if (output.length > 5000) output.shift();
      const token = /^setup token: (\S+)$/.exec(line);
      if (token !== null) setupToken = token[1];
      const listening = /listening on (https:\/\/\S+)/.exec(line);
      if (listening?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ baseUrl: listening[1] });
      }
    };
    if (child.stdout === null || child.stderr === null) throw new Error('no stdio');
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vigil exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  let baseUrl: string;
  try {
    ({ baseUrl } = await ready);
  } catch (err) {
    child.kill('SIGKILL');
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = new URL(baseUrl);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    child,
    dir,
    configFile,
    dataDir,
    baseUrl,
    port: Number(url.port),
    host,
    caPem: readFileSync(path.join(dataDir, 'tls', 'device.crt'), 'utf8'),
    setupToken,
    output,
    stop,
    dispose: async () => {
      await stop();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `vigil <args>` to completion with optional standard input; returns code and output. */
export async function runVigil(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(VIGIL_BIN, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A long-running `vigil <subcommand>` (controller, reader…) whose console lines a test waits on. */
export interface VigilRole {
  child: ChildProcess;
  output: string[];
  /** Resolves with the first line (from `from` on) matching `pattern`; rejects after timeoutMs. */
  waitForLine(pattern: RegExp, options?: { timeoutMs?: number; from?: number }): Promise<{ line: string; index: number; at: number }>;
  /** Writes one line to the process's standard input. */
  send(line: string): void;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startVigilRole(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): VigilRole {
  const child = spawn(VIGIL_BIN, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  const times: number[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    for (const w of waiters) w();
    resolve(code);
  }));
  const onLine = (line: string): void => {
    output.push(line);
    times.push(performance.now());
    if (output.length > 20_000) throw new Error('a role printed more than 20000 lines');
    for (const w of waiters) w();
  };
  if (child.stdout === null || child.stderr === null || child.stdin === null) throw new Error('no stdio');
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const stdin = child.stdin;
  stdin.on('error', () => undefined);
  return {
    child,
    output,
    waitForLine: (pattern, o = {}) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          for (let i = o.from ?? 0; i < output.length; i++) {
            const line = output[i];
            if (line !== undefined && pattern.test(line)) {
              done();
              resolve({ line, index: i, at: times[i] ?? 0 });
              return;
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`vigil ${args[0] ?? ''} exited before printing ${String(pattern)}:\n${output.join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`vigil ${args[0] ?? ''}: no line matching ${String(pattern)} within ${o.timeoutMs ?? 20_000} ms:\n${output.slice(-60).join('\n')}`));
        }, o.timeoutMs ?? 20_000);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    send: (line) => {
      stdin.write(`${line}\n`);
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
