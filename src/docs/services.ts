// The declared network services: one table for every port Vigil can open. The generated
// document (docs/generated/network-services.md), `vigil assess`'s port scan and the
// listening-sockets test all read this table, so the declaration is the reality
// (NVR-5.2.2.1a, CAM-T-sys-2, ACS-5.2.2.3). Discovery protocols are off by default
// (NVR-5.3.2.1a, CAM-5.3.2.2).
import type { Config } from '../core/config.ts';
import { DISCOVERY_OFF, type DiscoveryToggles } from '../device/discovery/protocols.ts';

export interface DeclaredService {
  id: string;
  /** Vigil role that opens it ('web': any role, with the HTTPS service). */
  role: 'nvr' | 'access' | 'camera' | 'controller' | 'lock' | 'web';
  /** The configuration option holding its port. */
  portOption: string;
  protocol: 'tcp' | 'udp';
  /** Application protocol and its security. */
  application: string;
  purpose: string;
  authentication: string;
  defaultState: 'on' | 'off';
  /**
   * Port and address it listens on; null when off. What is on is decided by the configuration
   * and, for discovery, by the administrator's runtime toggles (DISCOVERY_OFF on a fresh install).
   */
  listen(config: Config, discovery: DiscoveryToggles): { host: string; port: number } | null;
}

export const DECLARED_SERVICES: readonly DeclaredService[] = [
  {
    id: 'https-api',
    portOption: 'http.port',
    role: 'web',
    protocol: 'tcp',
    application: 'HTTPS (TLS 1.2/1.3, AES-256-GCM, ECDHE only): REST API, web UI, WebSocket live view; with the camera role also ONVIF Profile S SOAP 1.2 (/onvif/device_service, /onvif/media_service) and the JPEG snapshot URI (/onvif/snapshot)',
    purpose: 'Management, operation, live view and playback; ONVIF device and media services of the software camera',
    authentication: 'Session cookie after password (+ TOTP/WebAuthn) login, or API token; setup token before the first administrator exists. ONVIF: WS-Security UsernameToken (PasswordDigest, each nonce once, Created within ±5 min; PasswordText only over TLS) with Vigil accounts, lockout shared with the web login; only GetSystemDateAndTime before authentication. Snapshot: HTTP Digest (RFC 7616) with the camera\'s RTSP accounts',
    defaultState: 'on',
    listen: (c) => ({ host: c.http.host, port: c.http.port }),
  },
  {
    id: 'http-redirect',
    portOption: 'http.plainHttpPort',
    role: 'web',
    protocol: 'tcp',
    application: 'HTTP, redirect to HTTPS only (serves no content)',
    purpose: 'Send browsers that type http:// to the HTTPS address',
    authentication: 'None (carries no data)',
    defaultState: 'off',
    listen: (c) => (c.http.plainHttp === 'redirect' ? { host: c.http.host, port: c.http.plainHttpPort } : null),
  },
  {
    id: 'device-mtls',
    portOption: 'devices.mtlsPort',
    role: 'access',
    protocol: 'tcp',
    application: 'Vigil device sync: length-prefixed JSON over mutually authenticated TLS 1.2/1.3 (AES-256-GCM, ECDHE); only certificates of the device CA',
    purpose: 'Door controllers attest their software, pull their signed credential set (full or delta) and forward their hash-chained event log',
    authentication: 'Device certificate from the device CA (chain, revocation and device identity checked on every connection and request), then remote attestation on a fresh nonce (ACS-5.1.1.4, ACS-5.1.1.6)',
    defaultState: 'off',
    listen: (c) => (c.devices.mtlsEnabled ? { host: c.http.host, port: c.devices.mtlsPort } : null),
  },
  {
    id: 'camera-rtsps',
    portOption: 'camera.rtspsPort',
    role: 'camera',
    protocol: 'tcp',
    application: 'RTSPS: RTSP 1.0 over TLS 1.2/1.3 (device certificate), RTP interleaved on the same connection',
    purpose: 'Live H.264 stream of the software camera to recorders and viewers',
    authentication: 'RTSP Digest (SHA-256; MD5 only when configured) with Vigil accounts holding camera.view; lockout shared with the web login',
    defaultState: 'off',
    listen: (c) => (c.camera.enabled ? { host: c.http.host, port: c.camera.rtspsPort } : null),
  },
  {
    id: 'camera-rtsp',
    portOption: 'camera.rtspPort',
    role: 'camera',
    protocol: 'tcp',
    application: 'RTSP 1.0 in clear, RTP interleaved (video is not encrypted on this port)',
    purpose: 'Live stream for recorders that cannot do RTSPS',
    authentication: 'RTSP Digest only (no Basic in clear), Vigil accounts holding camera.view',
    defaultState: 'off',
    listen: (c) => (c.camera.enabled && c.camera.rtspPort !== 0 ? { host: c.http.host, port: c.camera.rtspPort } : null),
  },
  {
    id: 'ws-discovery',
    portOption: 'discovery.wsDiscoveryPort',
    role: 'camera',
    protocol: 'udp',
    application: 'ONVIF WS-Discovery (SOAP-over-UDP 2005/04): answers Probe with ProbeMatches by unicast to the prober; never sends Hello/Bye. Joins 239.255.255.250 only when bound to a non-loopback address',
    purpose: 'Lets ONVIF clients find the software camera (types dn:NetworkVideoTransmitter, tds:Device; XAddrs = the HTTPS device service)',
    authentication: 'None (discovery reveals the device service URL, name and model only). Off by default; an administrator turns it on (PUT /api/v1/system/discovery, audited). Camera role only (NVR-5.3.2.1a, CAM-5.3.2.2)',
    defaultState: 'off',
    listen: (c, d) => (d['ws-discovery'] && c.camera.enabled ? { host: c.http.host, port: c.discovery.wsDiscoveryPort } : null),
  },
  {
    id: 'ssdp',
    portOption: 'discovery.ssdpPort',
    role: 'web',
    protocol: 'udp',
    application: 'SSDP (UPnP Device Architecture 2.0): answers M-SEARCH (ssdp:all, upnp:rootdevice, our UUID and device type) by unicast, MX honoured up to 5 s; no NOTIFY, no UPnP actions or port mapping. LOCATION is the HTTPS description /upnp/device.xml, served only while SSDP is on',
    purpose: 'Lets UPnP tools and video management software find the device and its web interface',
    authentication: 'None (reveals name, model and the HTTPS URL only). Off by default; administrator toggle, audited (NVR-5.3.2.1a, CAM-5.3.2.2)',
    defaultState: 'off',
    listen: (c, d) => (d.ssdp ? { host: c.http.host, port: c.discovery.ssdpPort } : null),
  },
  {
    id: 'mdns',
    portOption: 'discovery.mdnsPort',
    role: 'web',
    protocol: 'udp',
    application: 'mDNS / DNS-SD (RFC 6762, RFC 6763): answers queries for _https._tcp (and _rtsps._tcp with the camera role), service enumeration, SRV/TXT/A/AAAA, by unicast to the querier; never probes, announces or answers negatively',
    purpose: 'Bonjour discovery of the web interface and the camera stream',
    authentication: 'None (reveals name, host name, addresses and ports only). Off by default; administrator toggle, audited (NVR-5.3.2.1a, CAM-5.3.2.2)',
    defaultState: 'off',
    listen: (c, d) => (d.mdns ? { host: c.http.host, port: c.discovery.mdnsPort } : null),
  },
  {
    id: 'snmp',
    portOption: 'discovery.snmpPort',
    role: 'web',
    protocol: 'udp',
    application: 'SNMPv3 only (USM authPriv: HMAC-SHA-256/512 RFC 7860, AES-128 RFC 3826), read-only system group (RFC 3418). SNMPv1/v2c community requests are dropped unanswered',
    purpose: 'Read-only monitoring: sysDescr, sysObjectID, sysUpTime, sysContact, sysName, sysLocation, sysServices',
    authentication: 'One administrator-set SNMPv3 user (passphrases policy-checked, sealed at rest); no community strings ever. Off by default; administrator toggle, audited (NVR-5.3.2.1a, CAM-T-com-2)',
    defaultState: 'off',
    listen: (c, d) => (d.snmp ? { host: c.http.host, port: c.discovery.snmpPort } : null),
  },
];

export interface ActiveService {
  id: string;
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
}

/** The services a configuration (and the discovery toggles) open. A port 0 means "any free port", resolved at start. */
export function activeServices(config: Config, discovery: DiscoveryToggles = DISCOVERY_OFF): ActiveService[] {
  const out: ActiveService[] = [];
  for (const s of DECLARED_SERVICES) {
    const l = s.listen(config, discovery);
    if (l !== null) out.push({ id: s.id, protocol: s.protocol, host: l.host, port: l.port });
  }
  return out;
}
