// services: what answers in clear or advertises itself. Plain HTTP that serves content,
// Telnet/FTP (cleartext management, a debug door), SNMP with the default communities, SSDP,
// mDNS and WS-Discovery answering (CAM-5.3.2.2, CAM-T-com-2/3, NVR-5.3.2.1a/d). Every probe is
// unicast to the named target.
import net from 'node:net';
import { mapBounded } from './bounded.ts';
import { excerpt } from './http-probe.ts';
import { dnsQuery, snmpGetSysDescr, snmpV3Discovery, ssdpSearch, wsDiscoveryProbe } from './udp-payloads.ts';
import { udpExchange } from './udp-probe.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

const COMMON_HTTP_PORTS = [80, 81, 88, 8000, 8008, 8080, 8081, 8888];
const CLEARTEXT_MGMT_PORTS = [21, 23, 2323];
const MAX_PORTS = 64;

interface RawExchange {
  data: Buffer;
  error?: string;
}

/** Connects, optionally writes, reads what arrives within the time limit (at most maxBytes). */
export function rawExchange(host: string, port: number, send: Buffer | undefined, timeoutMs: number, maxBytes = 64 * 1024): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host, port });
    const done = (error?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.on('connect', () => {
      if (send !== undefined) socket.write(send);
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c.subarray(0, maxBytes - size));
      size += c.length;
      if (size >= maxBytes) done();
    });
    socket.on('end', () => done());
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

export interface PlainHttpAnswer {
  status: number;
  location: string | undefined;
  bodyBytes: number;
  head: string;
  body: string;
}

export function parseHttpHead(data: Buffer): PlainHttpAnswer | undefined {
  const text = data.toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (m?.[1] === undefined) return undefined;
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  return { status: Number(m[1]), location: /\r\nlocation:\s*([^\r\n]*)/i.exec(head)?.[1], bodyBytes: Buffer.byteLength(body, 'latin1'), head, body };
}

function candidatePorts(ctx: AssessContext, extra: readonly number[]): number[] {
  const base = ctx.openTcp ?? [...new Set([ctx.port, ...extra])];
  return base.filter((p) => !ctx.excludePorts.has(`tcp/${p}`)).slice(0, MAX_PORTS);
}

async function plainHttpFinding(ctx: AssessContext): Promise<Finding> {
  const serving: string[] = [];
  const redirecting: string[] = [];
  const ports = candidatePorts(ctx, COMMON_HTTP_PORTS);
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${ctx.host}\r\nUser-Agent: vigil-assess\r\nConnection: close\r\n\r\n`);
  const exchanges = await mapBounded(ports, 8, (port) => rawExchange(ctx.host, port, request, 3000), ctx.signal);
  for (const [i, port] of ports.entries()) {
    const answer = parseHttpHead(exchanges[i]?.data ?? Buffer.alloc(0));
    if (answer === undefined) continue;
    const isRedirect = answer.status >= 300 && answer.status < 400 && (answer.location ?? '').toLowerCase().startsWith('https://');
    if (isRedirect) redirecting.push(`${port} → ${answer.status} ${answer.location ?? ''}`);
    else serving.push(`${port}: HTTP ${answer.status}, ${answer.bodyBytes} body bytes${/www-authenticate:\s*basic/i.test(answer.head) ? ', asks for Basic credentials in clear' : ''}: "${excerpt(answer.body, 120)}"`);
  }
  return {
    id: 'services.plain-http',
    check: 'services',
    title: 'Plain HTTP serves no content (at most a redirect to HTTPS)',
    status: serving.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'NVR-5.3.1.1a' }, { id: 'CAM-T-com-1' }, { id: 'ACS-5.3.1.2', partial: 'only the web interface was examined' }],
    evidence: serving.length === 0 ? `no plain-HTTP content; redirects: ${redirecting.join('; ') || 'none'}` : `plain HTTP serving content on ${serving.join('; ')}`,
    ...(serving.length === 0 ? {} : { severity: 'high' as const, fix: 'Turn plain HTTP off, or make it answer only with a redirect to HTTPS.' }),
  };
}

async function cleartextManagementFinding(ctx: AssessContext): Promise<Finding> {
  const found: string[] = [];
  const ports = ctx.openTcp === undefined ? CLEARTEXT_MGMT_PORTS : candidatePorts(ctx, []);
  // Telnet and FTP speak first: listen for a banner before sending anything.
  const banners = await mapBounded(ports, 8, (port) => rawExchange(ctx.host, port, undefined, 1500, 4096), ctx.signal);
  for (const [i, port] of ports.entries()) {
    const ex = banners[i] ?? { data: Buffer.alloc(0) };
    const d = ex.data;
    if (d.length >= 2 && d[0] === 0xff && (d[1] ?? 0) >= 0xfb) found.push(`${port}: Telnet (option negotiation)`);
    else if (/^220[ -]/.test(d.toString('latin1')) && /ftp/i.test(d.toString('latin1'))) found.push(`${port}: FTP "${excerpt(d.toString('latin1'), 80)}"`);
    else if (port === 23 || port === 2323) {
      if (ex.error === undefined && (ctx.openTcp?.includes(port) ?? false)) found.push(`${port}: open (Telnet port)`);
    }
  }
  return {
    id: 'services.cleartext-management',
    check: 'services',
    title: 'No Telnet, FTP or other cleartext/debug management service',
    status: found.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'NVR-5.3.2.1d' }, { id: 'CAM-T-com-3' }, { id: 'CAM-T-phys-1', partial: 'network side only; USB/serial debug needs the device' }, { id: 'NVR-5.3.1.1a' }],
    evidence: found.length === 0 ? `no Telnet/FTP banner on ${ports.length} port(s): ${ports.slice(0, 20).join(', ')}${ports.length > 20 ? '…' : ''}` : found.join('; '),
    ...(found.length === 0 ? {} : { severity: 'high' as const, fix: 'Remove Telnet/FTP; a maintenance mode must need authentication and run over SSH/TLS, off by default.' }),
  };
}

const DISCOVERY_CLAUSES: ClauseRef[] = [
  { id: 'NVR-5.3.2.1a', partial: 'the on/off toggle must be shown by hand' },
  { id: 'CAM-5.3.2.2', partial: 'the on/off toggle must be shown by hand' },
  { id: 'CAM-T-com-2', partial: 'toggles, WPS and WPA2 must be shown by hand' },
];

async function discoveryFinding(ctx: AssessContext): Promise<Finding> {
  const answering: string[] = [];
  for (const community of ['public', 'private']) {
    for (const version of ['v1', 'v2c'] as const) {
      const a = await udpExchange(ctx.host, 161, snmpGetSysDescr(community, version), 1500);
      if (a.state === 'open' && a.reply !== undefined) {
        answering.push(`SNMP ${version} community "${community}" answered (${a.reply.length} bytes)`);
        break;
      }
    }
  }
  if (!answering.some((a) => a.startsWith('SNMP'))) {
    // An SNMPv3-only agent ignores communities but answers engine discovery: still "on".
    const v3 = await udpExchange(ctx.host, 161, snmpV3Discovery(), 1500);
    if (v3.state === 'open' && v3.reply !== undefined) answering.push(`SNMPv3 agent answered engine-ID discovery (${v3.reply.length} bytes; no community answered)`);
  }
  const ssdp = await udpExchange(ctx.host, 1900, ssdpSearch(ctx.host), 1500);
  if (ssdp.state === 'open' && ssdp.reply !== undefined) answering.push(`SSDP/UPnP: "${excerpt(ssdp.reply.toString('latin1'), 120)}"`);
  const mdns = await udpExchange(ctx.host, 5353, dnsQuery('_services._dns-sd._udp.local', 12, { id: 0x5647 }), 1500);
  if (mdns.state === 'open' && mdns.reply !== undefined) answering.push(`mDNS/Bonjour answered (${mdns.reply.length} bytes)`);
  const wsd = await udpExchange(ctx.host, 3702, wsDiscoveryProbe('5647696c-0000-4000-8000-000000000002'), 1500);
  if (wsd.state === 'open' && wsd.reply !== undefined) answering.push(`WS-Discovery: "${excerpt(wsd.reply.toString('utf8'), 120)}"`);
  return {
    id: 'services.discovery',
    check: 'services',
    title: 'SNMP, SSDP/UPnP, mDNS/Bonjour and WS-Discovery are off by default',
    status: answering.length === 0 ? 'pass' : 'fail',
    clauses: DISCOVERY_CLAUSES,
    evidence: answering.length === 0 ? 'no answer to SNMP (public/private, v1/v2c; SNMPv3 engine discovery), SSDP M-SEARCH, mDNS or WS-Discovery Probe (unicast to the target)' : answering.join('; '),
    ...(answering.length === 0 ? {} : { severity: 'medium' as const, fix: 'Ship discovery and SNMP off by default, with a user toggle; never the communities public/private.' }),
  };
}

export async function runServicesCheck(ctx: AssessContext): Promise<Finding[]> {
  return [await plainHttpFinding(ctx), await cleartextManagementFinding(ctx), await discoveryFinding(ctx)];
}
