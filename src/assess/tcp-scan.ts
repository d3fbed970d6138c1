// TCP port discovery: nmap's full connect scan (-sT -p0-65535, as the lab runs it) when nmap is
// installed, else a built-in connect scan with bounded concurrency and a per-port time limit.
import net from 'node:net';
import { findTool, runExternalTool } from './external-tool.ts';

export interface TcpScanResult {
  open: number[];
  method: string;
}

export function parseNmapGrepable(output: string): number[] {
  const open: number[] = [];
  for (const line of output.split('\n')) {
    const ports = /Ports: (.*?)(\t|$)/.exec(line)?.[1];
    if (ports === undefined) continue;
    for (const p of ports.split(',')) {
      const f = p.trim().split('/');
      if (f[1] === 'open' && f[2] === 'tcp') open.push(Number(f[0]));
    }
  }
  return [...new Set(open)].sort((a, b) => a - b);
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(open);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function builtinTcpScan(host: string, ports: Iterable<number>, options: { concurrency: number; timeoutMs: number; signal?: AbortSignal }): Promise<number[]> {
  const queue = [...ports];
  const open: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length && options.signal?.aborted !== true) {
      const port = queue[next++];
      if (port === undefined) break;
      if (await tcpConnect(host, port, options.timeoutMs)) open.push(port);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker));
  return open.sort((a, b) => a - b);
}

function* range(from: number, to: number): Generator<number> {
  for (let p = from; p <= to; p++) yield p;
}

export async function scanAllTcp(host: string, options: { timeoutMs: number; useNmap: boolean; signal?: AbortSignal }): Promise<TcpScanResult> {
  const nmap = options.useNmap ? findTool('nmap') : undefined;
  if (nmap !== undefined) {
    const run = await runExternalTool(nmap, ['-Pn', '-n', '-sT', '-p0-65535', '-T4', '--max-retries', '1', '-oG', '-', host], options.timeoutMs, options.signal);
    if (run.code === 0 && !run.timedOut) return { open: parseNmapGrepable(run.stdout), method: `nmap -sT -p0-65535 (${nmap})` };
    const fallback = await builtinTcpScan(host, range(1, 65535), { concurrency: 256, timeoutMs: 1500, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    return { open: fallback, method: `built-in connect scan 1-65535 (nmap failed: ${run.timedOut ? 'timed out' : `exit ${run.code}`})` };
  }
  const open = await builtinTcpScan(host, range(1, 65535), { concurrency: 256, timeoutMs: 1500, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  return { open, method: 'built-in connect scan 1-65535 (nmap not installed: apt-get install nmap for the lab tool; port 0 not probed)' };
}
