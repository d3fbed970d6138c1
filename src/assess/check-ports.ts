// ports: every open TCP port (full range) and the UDP top ports, compared with the vendor's
// declaration (NVR-5.2.2.1a, CAM-T-sys-2: "TCP and UDP, port 0 too", ACS-5.2.2.3).
import { scanAllTcp } from './tcp-scan.ts';
import { UDP_TOP_PORTS, udpPayloadFor } from './udp-payloads.ts';
import { udpExchange, type UdpState } from './udp-probe.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

export const PORT_CLAUSES: ClauseRef[] = [{ id: 'NVR-5.2.2.1a' }, { id: 'CAM-T-sys-2' }, { id: 'ACS-5.2.2.3' }];

const FIX = 'Close every service that is not needed, or declare it in the product documentation (and in the declared-services table).';

function compare(kind: 'tcp' | 'udp', open: readonly number[], ctx: AssessContext): { undeclared: number[]; excluded: number[]; missing: string[] } {
  const declared = ctx.declaration.services.filter((s) => s.protocol === kind);
  const declaredPorts = new Set(declared.map((s) => s.port));
  const excluded = open.filter((p) => ctx.excludePorts.has(`${kind}/${p}`));
  const undeclared = open.filter((p) => !declaredPorts.has(p) && !ctx.excludePorts.has(`${kind}/${p}`));
  const missing = declared.filter((s) => !open.includes(s.port)).map((s) => `${s.id} ${kind}/${s.port}`);
  return { undeclared, excluded, missing };
}

export async function runPortsCheck(ctx: AssessContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const tcp = await scanAllTcp(ctx.host, { timeoutMs: Math.max(10_000, ctx.checkTimeoutMs - 30_000), useNmap: ctx.useExternalTools, signal: ctx.signal });
  ctx.notes.push(`TCP: ${tcp.method}`);
  ctx.openTcp = tcp.open;
  ctx.progress(`ports: TCP open: ${tcp.open.join(', ') || 'none'}`);

  const udpPorts = [...new Set([...UDP_TOP_PORTS, ...ctx.declaration.services.filter((s) => s.protocol === 'udp').map((s) => s.port)])].filter((p) => p > 0).sort((a, b) => a - b);
  const states = new Map<number, UdpState>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < udpPorts.length && !ctx.signal.aborted) {
        const port = udpPorts[next++];
        if (port === undefined) break;
        states.set(port, (await udpExchange(ctx.host, port, udpPayloadFor(port, ctx.host), 1500)).state);
      }
    }),
  );
  // Silence means "open" only where the target demonstrably answers closed ports (ICMP).
  const icmpSeen = [...states.values()].includes('closed');
  const answered = [...states].filter(([, s]) => s === 'open').map(([p]) => p);
  const silent = [...states].filter(([, s]) => s === 'open|filtered').map(([p]) => p);
  const udpOpen = icmpSeen ? [...answered, ...silent].sort((a, b) => a - b) : answered;
  ctx.openUdp = udpOpen;
  ctx.notes.push(`UDP: built-in probe of ${udpPorts.length} top ports with protocol requests (DNS, NTP, SNMP, SSDP, mDNS, WS-Discovery...)`);

  if (!ctx.declarationGiven && !ctx.isVigil) {
    findings.push({
      id: 'ports.declaration',
      check: 'ports',
      title: 'The vendor declares its network services',
      status: 'fail',
      clauses: PORT_CLAUSES,
      evidence: `no declaration given (--declaration); open TCP ports: ${tcp.open.join(', ') || 'none'}; UDP: ${udpOpen.join(', ') || 'none'}`,
      severity: 'medium',
      fix: 'Publish the list of network services (port, protocol, purpose, authentication) and pass it with --declaration.',
    });
  }
  const t = compare('tcp', tcp.open, ctx);
  findings.push({
    id: 'ports.tcp',
    check: 'ports',
    title: 'Open TCP ports equal the declaration (full range)',
    status: t.undeclared.length === 0 ? 'pass' : 'fail',
    clauses: PORT_CLAUSES,
    evidence:
      `${t.undeclared.length > 0 ? `undeclared open TCP ports: ${t.undeclared.join(', ')}. ` : ''}open: ${tcp.open.join(', ') || 'none'}; declared (${ctx.declaration.source}): ` +
      `${ctx.declaration.services.filter((s) => s.protocol === 'tcp').map((s) => `${s.id} ${s.port}`).join(', ') || 'none'}` +
      `${t.excluded.length > 0 ? `; excluded as other programs' listeners (--exclude-ports): ${t.excluded.join(', ')}` : ''}` +
      `${t.missing.length > 0 ? `; declared but not open: ${t.missing.join(', ')}` : ''}; method: ${tcp.method}`,
    ...(t.undeclared.length === 0 ? {} : { severity: 'high' as const, fix: FIX }),
  });
  const u = compare('udp', udpOpen, ctx);
  const udpEvidence = `answered: ${answered.join(', ') || 'none'}; silent: ${silent.join(', ') || 'none'} (${icmpSeen ? 'the target answers closed ports with ICMP, so silence means open' : 'no ICMP port-unreachable seen, so silent ports cannot be told from filtered ones'}); probed: ${udpPorts.join(', ')}`;
  findings.push({
    id: 'ports.udp',
    check: 'ports',
    title: 'Open UDP ports (top ports) equal the declaration',
    status: u.undeclared.length === 0 ? 'pass' : 'fail',
    clauses: PORT_CLAUSES.map((c) => ({ ...c, partial: 'UDP: top ports only, not the full range' })),
    evidence: `${u.undeclared.length > 0 ? `undeclared open UDP ports: ${u.undeclared.join(', ')}. ` : ''}${udpEvidence}${u.excluded.length > 0 ? `; excluded: ${u.excluded.join(', ')}` : ''}`,
    ...(u.undeclared.length === 0 ? {} : { severity: 'high' as const, fix: FIX }),
  });
  return findings;
}
