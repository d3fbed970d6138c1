// The declared network services: one table for every port Vigil can open. The generated
// document (docs/generated/network-services.md), `vigil assess`'s port scan and the
// listening-sockets test all read this table, so the declaration is the reality
// (NVR-5.2.2.1a, CAM-T-sys-2, ACS-5.2.2.3). Discovery protocols are off by default
// (NVR-5.3.2.1a, CAM-5.3.2.2).
import type { Config } from '../core/config.ts';

export interface DeclaredService {
  id: string;
  /** Vigil role that opens it. */
  role: 'nvr' | 'access' | 'camera' | 'controller' | 'lock' | 'web';
  protocol: 'tcp' | 'udp';
  /** Application protocol and its security. */
  application: string;
  purpose: string;
  authentication: string;
  defaultState: 'on' | 'off';
  /** Port and address it listens on for a given configuration; null when off. */
  listen(config: Config): { host: string; port: number } | null;
}

export const DECLARED_SERVICES: readonly DeclaredService[] = [
  {
    id: 'https-api',
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
    role: 'camera',
    protocol: 'tcp',
    application: 'RTSP 1.0 in clear, RTP interleaved (video is not encrypted on this port)',
    purpose: 'Live stream for recorders that cannot do RTSPS',
    authentication: 'RTSP Digest only (no Basic in clear), Vigil accounts holding camera.view',
    defaultState: 'off',
    listen: (c) => (c.camera.enabled && c.camera.rtspPort !== 0 ? { host: c.http.host, port: c.camera.rtspPort } : null),
  },
];

export interface ActiveService {
  id: string;
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
}

/** The services a configuration opens. A port 0 means "any free port", resolved at start. */
export function activeServices(config: Config): ActiveService[] {
  const out: ActiveService[] = [];
  for (const s of DECLARED_SERVICES) {
    const l = s.listen(config);
    if (l !== null) out.push({ id: s.id, protocol: s.protocol, host: l.host, port: l.port });
  }
  return out;
}
