// The one target an assessment may touch. Probes go only to this address: never to a broadcast,
// multicast or unspecified address (an assessment must not spray a network segment).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { VigilError } from '../core/errors.ts';

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => ((acc << 8) | (Number(part) & 0xff)) >>> 0, 0);
}

/** Why an address may not be a target, or undefined when it may. */
export function refusalReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) {
    const n = ipv4ToInt(address);
    const first = n >>> 24;
    if (first === 0) return 'unspecified or "this network" address (0.0.0.0/8)';
    if (n === 0xffffffff) return 'limited broadcast address';
    if (first >= 224 && first <= 239) return 'multicast address (224.0.0.0/4)';
    if (first >= 240) return 'reserved address (240.0.0.0/4)';
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        if (i.family !== 'IPv4') continue;
        const mask = ipv4ToInt(i.netmask);
        if (mask >= 0xfffffffe) continue; // /31 and /32 have no broadcast address
        const broadcast = (ipv4ToInt(i.address) | ~mask) >>> 0;
        if (n === broadcast) return `broadcast address of the local network ${i.address}/${i.netmask}`;
      }
    }
    return undefined;
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (/^(0*:)*:?0*$/.test(lower) || lower === '::') return 'unspecified address (::)';
    if (lower.startsWith('ff')) return 'multicast address (ff00::/8)';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1] !== undefined) return refusalReason(mapped[1]);
    return undefined;
  }
  return 'not an IP address';
}

/** Resolves the target to one address and refuses the ones nobody may aim a scanner at. */
export async function resolveTarget(host: string): Promise<string> {
  if (host.length === 0 || host.length > 253) throw new VigilError('VIGIL_ASSESS_TARGET_REFUSED', 'the target must be a host name or an IP address');
  const address = isIP(host) !== 0 ? host : (await lookup(host, { verbatim: true })).address;
  const reason = refusalReason(address);
  if (reason !== undefined) throw new VigilError('VIGIL_ASSESS_TARGET_REFUSED', `refusing to assess ${address}: ${reason}; name one device`, { details: { address } });
  return address;
}
