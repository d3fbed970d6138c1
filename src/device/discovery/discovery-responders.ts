// Starts and stops the four responders live (no restart): each is a UdpResponder on
// http.host with its protocol's handler. Network facts (the HTTPS origin, the RTSPS port) are
// attached once the server listens; before that nothing can be started.
import { createHash } from 'node:crypto';
import os from 'node:os';
import { isIP } from 'node:net';
import type { Logger } from '../../core/logger.ts';
import { UdpResponder } from './udp-responder.ts';
import type { DiscoveryProtocol } from './protocols.ts';
import { WSD_MAX_BYTES, WSD_MULTICAST_GROUP, parseProbe, probeMatches, probeMatchesXml, type WsdTarget } from './ws-discovery.ts';
import { SSDP_MAX_BYTES, SSDP_MULTICAST_GROUP, parseMSearch, searchResponses, type SsdpDevice } from './ssdp.ts';
import { MDNS_MAX_BYTES, MDNS_MULTICAST_GROUP, answerQuery, type MdnsDevice } from './mdns.ts';
import { SNMP_MAX_BYTES, createSnmpAgent, type SnmpV3User } from './snmp-agent.ts';

export interface DiscoveryNetwork {
  /** https://host:port */
  origin(): string;
  /** Bound RTSPS port of the camera role, if it runs. */
  rtspsPort(): number | undefined;
}

export interface DiscoveryDeviceFacts {
  host: string;
  ports: Record<DiscoveryProtocol, number>;
  answersPerSourcePerMinute: number;
  deviceName: string;
  manufacturer: string;
  model: string;
  version: string;
  /** A stable device identifier (the signing key id): the UUIDs and SNMP engine id derive from it. */
  deviceId: string;
  cameraRole: boolean;
  startedAt: number;
}

/** RFC 4122 layout of a name-based (SHA-256, truncated) UUID: stable per device, no MAC address. */
export function deviceUuid(deviceId: string): string {
  const h = createHash('sha256').update(`vigil-discovery:${deviceId}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** RFC 3411 §5 SnmpEngineID, format 5 (administratively assigned octets), persistent per device. */
export function snmpEngineId(deviceId: string): string {
  return `8000000005${createHash('sha256').update(`vigil-snmp:${deviceId}`).digest().subarray(0, 16).toString('hex')}`;
}

/** A DNS label from the device name (RFC 6763 §4.1.1 instance; RFC 1123 host label). */
function hostLabel(name: string): string {
  const label = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return label === '' ? 'vigil' : label;
}

function hostAddresses(host: string): { ipv4: string[]; ipv6: string[] } {
  if (isIP(host) === 4 && host !== '0.0.0.0') return { ipv4: [host], ipv6: [] };
  if (isIP(host) === 6 && host !== '::') return { ipv4: [], ipv6: [host] };
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4' && ipv4.length < 8) ipv4.push(a.address);
      if (a.family === 'IPv6' && !a.address.startsWith('fe80') && ipv6.length < 8 && host === '::') ipv6.push(a.address);
    }
  }
  return { ipv4, ipv6 };
}

export class DiscoveryResponders {
  readonly #facts: DiscoveryDeviceFacts;
  readonly #logger: Logger;
  readonly #running = new Map<DiscoveryProtocol, { responder: UdpResponder; close?: () => void }>();
  #network: DiscoveryNetwork | undefined;
  #wsdMessages = 0;

  constructor(facts: DiscoveryDeviceFacts, logger: Logger) {
    this.#facts = facts;
    this.#logger = logger;
  }

  get uuid(): string {
    return deviceUuid(this.#facts.deviceId);
  }

  attach(network: DiscoveryNetwork): void {
    this.#network = network;
  }

  get attached(): boolean {
    return this.#network !== undefined;
  }

  port(protocol: DiscoveryProtocol): number | undefined {
    return this.#running.get(protocol)?.responder.port;
  }

  counters(protocol: DiscoveryProtocol): UdpResponder['counters'] | undefined {
    return this.#running.get(protocol)?.responder.counters;
  }

  /** Starts the protocol's responder (idempotent). Throws VIGIL_DISCOVERY_BIND_FAILED. */
  async start(protocol: DiscoveryProtocol, snmpUser?: SnmpV3User): Promise<void> {
    const network = this.#network;
    if (network === undefined || this.#running.has(protocol)) return;
    const f = this.#facts;
    const base = { host: f.host, port: f.ports[protocol], answersPerSourcePerMinute: f.answersPerSourcePerMinute, logger: this.#logger };
    if (protocol === 'ws-discovery') {
      const target = (): WsdTarget => ({
        endpoint: `urn:uuid:${this.uuid}`,
        types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
        scopes: [
          'onvif://www.onvif.org/type/video_encoder',
          'onvif://www.onvif.org/Profile/Streaming',
          `onvif://www.onvif.org/name/${encodeURIComponent(f.deviceName)}`,
          `onvif://www.onvif.org/hardware/${encodeURIComponent(f.model)}`,
        ],
        xaddrs: [`${network.origin()}/onvif/device_service`],
        metadataVersion: 1,
      });
      const instanceId = Math.floor(f.startedAt / 1000) % 2 ** 32;
      const responder = await UdpResponder.start({
        ...base, name: 'ws-discovery', maxDatagramBytes: WSD_MAX_BYTES, multicastGroup: WSD_MULTICAST_GROUP,
        handle: (datagram, _source, respond) => {
          const probe = parseProbe(datagram);
          const t = target();
          if (probe === undefined || !probeMatches(probe, t)) return;
          this.#wsdMessages = (this.#wsdMessages % 2 ** 31) + 1;
          respond({ datagrams: [probeMatchesXml(probe, t, { messageId: `urn:uuid:${crypto.randomUUID()}`, instanceId, messageNumber: this.#wsdMessages })] });
        },
      });
      this.#running.set(protocol, { responder });
    } else if (protocol === 'ssdp') {
      const device = (): SsdpDevice => ({
        udn: `uuid:${this.uuid}`,
        location: `${network.origin()}/upnp/device.xml`,
        server: `${f.manufacturer} UPnP/2.0 ${f.manufacturer}/${f.version}`,
        bootId: Math.floor(f.startedAt / 1000) % 2 ** 31,
        configId: 1,
        maxAgeSeconds: 1800,
      });
      const responder = await UdpResponder.start({
        ...base, name: 'ssdp', maxDatagramBytes: SSDP_MAX_BYTES, multicastGroup: SSDP_MULTICAST_GROUP,
        handle: (datagram, source, respond) => {
          const search = parseMSearch(datagram);
          if (search === undefined) return;
          const datagrams = searchResponses(search, device());
          // UDA 2.0 §1.3.3: a multicast search is answered at a random time within MX seconds
          // (bounded to 5 s by the parser); a unicast search at once.
          const spread = source.multicast && search.mx > 0;
          respond({ datagrams, delayMs: spread ? Math.floor(Math.random() * search.mx * 1000) : 0 });
        },
      });
      this.#running.set(protocol, { responder });
    } else if (protocol === 'mdns') {
      const addresses = hostAddresses(f.host);
      const device = (): MdnsDevice => {
        const rtsps = network.rtspsPort();
        const httpsPort = Number(new URL(network.origin()).port || 443);
        return {
          instance: f.deviceName.slice(0, 63),
          host: `${hostLabel(f.deviceName)}.local`,
          ...addresses,
          services: [
            { type: '_https._tcp', port: httpsPort, txt: ['path=/'] },
            ...(f.cameraRole && rtsps !== undefined ? [{ type: '_rtsps._tcp', port: rtsps, txt: ['path=/stream'] }] : []),
          ],
        };
      };
      const responder = await UdpResponder.start({
        ...base, name: 'mdns', maxDatagramBytes: MDNS_MAX_BYTES, multicastGroup: MDNS_MULTICAST_GROUP,
        handle: (datagram, source, respond) => {
          const answer = answerQuery(datagram, device(), source.port);
          if (answer !== undefined) respond({ datagrams: [answer] });
        },
      });
      this.#running.set(protocol, { responder });
    } else {
      if (snmpUser === undefined) return;
      let responder: UdpResponder | undefined;
      const agent = createSnmpAgent({
        user: snmpUser,
        engineId: snmpEngineId(f.deviceId),
        system: {
          sysDescr: `${f.model} ${f.version}`,
          sysName: f.deviceName,
          sysContact: '',
          sysLocation: '',
          uptimeMs: () => Date.now() - f.startedAt,
        },
        onRefused: () => responder?.countMalformed(),
        send: (datagram, port, address) => responder?.sendTo(datagram, port, address),
      });
      try {
        responder = await UdpResponder.start({ ...base, name: 'snmp', maxDatagramBytes: SNMP_MAX_BYTES, handle: (datagram, source) => agent.handle(datagram, source) });
      } catch (err) {
        agent.close();
        throw err;
      }
      this.#running.set(protocol, { responder, close: () => agent.close() });
    }
  }

  async stop(protocol: DiscoveryProtocol): Promise<void> {
    const r = this.#running.get(protocol);
    if (r === undefined) return;
    this.#running.delete(protocol);
    r.close?.();
    await r.responder.close();
  }

  async close(): Promise<void> {
    for (const p of [...this.#running.keys()]) await this.stop(p);
  }
}
