// discovery (intrusive, Vigil targets, administrator API token): "toggles work" of NVR-5.3.2.1a /
// CAM-5.3.2.2. The services check shows UPnP (SSDP), Bonjour (mDNS) and SNMP silent on the
// target as found; this probe turns each one that is off on through the target's API, shows it
// answering on the port the target reports, turns it off again and shows it silent. SNMP runs
// only with an SNMPv3 user: when none is set, a temporary one is set and deleted after. Only
// protocols the probe turned on are turned off; the log must show each toggle.
import { randomBytes } from 'node:crypto';
import type { AssessContext } from './context.ts';
import type { Finding } from './types.ts';
import { dnsQuery, snmpV3Discovery, ssdpSearch } from './udp-payloads.ts';
import { udpExchange } from './udp-probe.ts';
import { apiUnavailable, arrayField, isRecord, vigilApi, type VigilApi } from './vigil-api.ts';

const PROTOCOLS = ['ssdp', 'mdns', 'snmp'] as const;
type Protocol = (typeof PROTOCOLS)[number];
const NAMES: Record<Protocol, string> = { ssdp: 'UPnP (SSDP)', mdns: 'Bonjour (mDNS)', snmp: 'SNMP (v3)' };

interface ProtocolState {
  enabled: boolean;
  port: number | null;
}

async function readState(api: VigilApi): Promise<{ status: number; protocols: Map<string, ProtocolState>; snmpUser: boolean }> {
  const r = await api.call('GET', '/api/v1/system/discovery');
  const protocols = new Map<string, ProtocolState>();
  for (const p of (arrayField(r.json, 'protocols') ?? []).filter(isRecord)) {
    if (typeof p['protocol'] === 'string') protocols.set(p['protocol'], { enabled: p['enabled'] === true, port: typeof p['port'] === 'number' ? p['port'] : null });
  }
  return { status: r.status, protocols, snmpUser: isRecord(r.json) && isRecord(r.json['snmpUser']) };
}

function payload(p: Protocol, host: string): Buffer {
  if (p === 'ssdp') return ssdpSearch(host);
  if (p === 'mdns') return dnsQuery('_services._dns-sd._udp.local', 12, { id: 0x5648 });
  return snmpV3Discovery();
}

async function answers(ctx: AssessContext, p: Protocol, port: number): Promise<boolean> {
  const a = await udpExchange(ctx.host, port, payload(p, ctx.host), 1500);
  return a.state === 'open' && a.reply !== undefined;
}

export async function runDiscoveryCheck(ctx: AssessContext): Promise<Finding[]> {
  const clauseIds = ctx.profile === 'nvr' ? ['NVR-5.3.2.1a'] : ctx.profile === 'camera' ? ['CAM-5.3.2.2'] : [];
  const base = { id: 'discovery.toggles', check: 'discovery' as const, title: 'UPnP, Bonjour and SNMP can be turned on and off by the user (each shown answering, then silent)' };
  if (clauseIds.length === 0) return [{ ...base, clauses: [], status: 'not-applicable', evidence: 'discovery toggles are clauses of the recorder and camera standards' }];
  const unavailable = apiUnavailable(ctx);
  if (unavailable !== undefined) return [{ ...base, clauses: clauseIds.map((id) => ({ id, partial: 'the toggles are shown on site' })), status: 'manual', evidence: `not run: ${unavailable}` }];
  if (!ctx.intrusive) return [{ ...base, clauses: clauseIds.map((id) => ({ id, partial: 'the toggles are shown on site' })), status: 'manual', evidence: 'not run: the probe turns discovery protocols on and off again; run with --intrusive' }];
  const web = ctx.web;
  const token = ctx.credentials?.apiToken;
  if (web === undefined || token === undefined) return [];
  const api = vigilApi(web, token);
  const initial = await readState(api);
  if (initial.status !== 200) return [{ ...base, clauses: clauseIds.map((id) => ({ id, partial: 'the toggles are shown on site' })), status: 'manual', evidence: `GET /api/v1/system/discovery → HTTP ${initial.status}: the token needs system.manage` }];
  const shown: string[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  let tempSnmpUser = false;
  const cleanup: string[] = [];
  try {
    for (const p of PROTOCOLS) {
      if (initial.protocols.get(p)?.enabled === true) {
        skipped.push(`${NAMES[p]} was already on (left as found)`);
        continue;
      }
      if (p === 'snmp' && !initial.snmpUser) {
        const user = { username: `assess${randomBytes(3).toString('hex')}`, authProtocol: 'sha256', privProtocol: 'aes128', authPassphrase: `Auth-${randomBytes(12).toString('base64url')}-9`, privPassphrase: `Priv-${randomBytes(12).toString('base64url')}-9` };
        const set = await api.call('PUT', '/api/v1/system/discovery/snmp-user', user);
        if (set.status !== 200) {
          skipped.push(`SNMP: a temporary SNMPv3 user could not be set (HTTP ${set.status})`);
          continue;
        }
        tempSnmpUser = true;
      }
      const on = await api.call('PUT', '/api/v1/system/discovery', { [p]: true });
      const port = (await readState(api)).protocols.get(p)?.port ?? null;
      const heard = port !== null && (await answers(ctx, p, port));
      const off = await api.call('PUT', '/api/v1/system/discovery', { [p]: false });
      const after = (await readState(api)).protocols.get(p);
      const silent = port === null || !(await answers(ctx, p, port));
      shown.push(`${NAMES[p]}: on → HTTP ${on.status}, port ${port ?? 'none'}, ${heard ? 'answered' : 'NO ANSWER'}; off → HTTP ${off.status}, ${silent ? 'silent' : 'STILL ANSWERING'}`);
      if (!heard) problems.push(`${NAMES[p]} did not answer once turned on`);
      if (!silent || after?.enabled === true) problems.push(`${NAMES[p]} still on after being turned off`);
    }
  } finally {
    // Leave the target as found: everything the probe turned on is off (done above), and the
    // temporary SNMP user goes.
    if (tempSnmpUser) cleanup.push(`temporary SNMPv3 user deleted → HTTP ${(await api.call('DELETE', '/api/v1/system/discovery/snmp-user')).status}`);
  }
  const log = await api.call('GET', '/api/v1/audit/events?action=discovery.toggle&limit=20&order=newest');
  const toggles = (arrayField(log.json, 'events') ?? []).filter(isRecord).length;
  if (shown.length > 0 && toggles < shown.length * 2) problems.push(`only ${toggles} discovery.toggle events in the security log for ${shown.length * 2} toggles`);
  const complete = skipped.length === 0;
  const clauses = clauseIds.map((id) => (complete ? { id } : { id, partial: `not shown here: ${skipped.join('; ')}` }));
  const evidence = `${shown.join('; ')}${skipped.length > 0 ? `; ${skipped.join('; ')}` : ''}; ${toggles} discovery.toggle events logged${cleanup.length > 0 ? `; ${cleanup.join('; ')}` : ''}${problems.length > 0 ? `; problems: ${problems.join('; ')}` : ''}`;
  if (problems.length > 0) return [{ ...base, clauses, status: 'fail', evidence, severity: 'medium', fix: 'Give the user a working on/off switch for each discovery protocol, audited.' }];
  return [{ ...base, clauses, status: shown.length === 0 ? 'manual' : 'pass', evidence }];
}
