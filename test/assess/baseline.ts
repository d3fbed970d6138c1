// The ports other programs already listen on for every local address (wildcard listeners):
// taken before a target starts, passed to assess as --exclude-ports, so the test judges only
// what the target opened. TCP from an nmap scan, UDP from the kernel's socket table.
import { readFileSync } from 'node:fs';
import { requireTool, runTool } from '../helpers/tools.ts';

export async function baselinePorts(host: string): Promise<string[]> {
  const nmap = requireTool('nmap', 'nmap');
  const scan = await runTool(nmap, ['-Pn', '-n', '-sT', '-p0-65535', '-T4', '--max-retries', '1', '-oG', '-', host], { timeoutMs: 300_000 });
  if (scan.code !== 0) throw new Error(`baseline nmap failed: ${scan.stderr}`);
  const tcp = (/Ports: (.*?)(\t|$)/m.exec(scan.stdout)?.[1] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.includes('/open/'))
    .map((p) => `tcp/${p.split('/')[0] ?? ''}`);
  const udp: string[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1] ?? '';
      const [addr = '', port = ''] = local.split(':');
      if (/^0+$/.test(addr) && port !== '') udp.push(`udp/${parseInt(port, 16)}`);
    }
  }
  return [...new Set([...tcp, ...udp])];
}
