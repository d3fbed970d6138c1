// Opening the client's TCP or TLS socket (RTSPS, design §4: port 322, the TLS profile of
// src/crypto/tls.ts, certificate always validated against a CA, optionally pinned too —
// NVR-5.4.1.1c, CAM-T-auth-3). Credentials in the URL are split off and never sent in it.
import { X509Certificate } from 'node:crypto';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { VigilError } from '../../core/errors.ts';
import { tlsClientOptions } from '../../crypto/tls.ts';
import { displayFingerprint } from '../../crypto/tls-trust.ts';

export interface RtspTarget {
  secure: boolean;
  host: string;
  port: number;
  /** The URL without user info: what goes on the wire. */
  url: string;
  username: string | undefined;
  password: string | undefined;
}

export interface RtspClientTls {
  /** Trusted CA certificate(s), PEM; for a self-signed camera, its own certificate. */
  ca?: string;
  /** SHA-256 fingerprint the camera's certificate must also have. */
  pinnedFingerprint256?: string;
  servername?: string;
}

export function parseRtspUrl(text: string): RtspTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VigilError('VIGIL_RTSP_MALFORMED', 'not a valid RTSP URL');
  }
  const secure = url.protocol === 'rtsps:';
  if (!secure && url.protocol !== 'rtsp:') throw new VigilError('VIGIL_RTSP_UNSUPPORTED', 'the URL scheme must be rtsp or rtsps');
  if (url.hostname === '') throw new VigilError('VIGIL_RTSP_MALFORMED', 'the RTSP URL has no host');
  const port = url.port === '' ? (secure ? 322 : 554) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const bare = `${url.protocol}//${url.host}${url.pathname === '' ? '/' : url.pathname}${url.search}`;
  return {
    secure, host, port, url: bare,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}

/**
 * A refused certificate names what was expected and what was seen (fingerprints only), so the
 * recorder's alarm can tell a swapped device from an expired certificate (CAM-T-auth-3).
 */
function tlsFailure(err: unknown, seen: string | undefined, tlsOptions: RtspClientTls | undefined): VigilError {
  const expected = tlsOptions?.pinnedFingerprint256 === undefined ? null : displayFingerprint(tlsOptions.pinnedFingerprint256);
  const code = err instanceof VigilError ? err.code : typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (seen !== undefined && (code === 'VIGIL_TLS_CERT_INVALID' || /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO|ISSUER/.test(code))) {
    const reason = expected !== null && expected !== seen ? 'PIN_MISMATCH' : code;
    return new VigilError('VIGIL_TLS_CERT_INVALID', 'the RTSPS server certificate was rejected', { details: { reason, expected, seen }, cause: err });
  }
  if (err instanceof VigilError) return err;
  return new VigilError('VIGIL_RTSP_CLOSED', 'could not connect to the RTSP server', { cause: err });
}

/** Connects (TCP, or TLS with validation), failing with VIGIL_RTSP_TIMEOUT after timeoutMs. */
export function openRtspSocket(target: RtspTarget, tlsOptions: RtspClientTls | undefined, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // A pinned camera is identified by its pin, the host name then adds nothing (tls.ts, TOFU).
    const identity = tlsOptions?.pinnedFingerprint256 === undefined ? 'hostname' : 'pin';
    const socket: Socket = target.secure
      ? tls.connect({ ...tlsClientOptions({ ...tlsOptions, servername: tlsOptions?.servername ?? target.host, identity }), host: target.host, port: target.port })
      : net.connect({ host: target.host, port: target.port });
    let seen: string | undefined;
    if (socket instanceof tls.TLSSocket) {
      const secure = socket;
      secure.prependListener('secure', () => {
        const raw = secure.getPeerCertificate(false).raw;
        if (raw !== undefined) seen = displayFingerprint(new X509Certificate(raw).fingerprint256);
      });
    }
    const timer = setTimeout(() => fail(new VigilError('VIGIL_RTSP_TIMEOUT', 'connecting to the RTSP server timed out')), timeoutMs);
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // the socket is destroyed below; late errors are moot
      socket.destroy();
      reject(tlsFailure(err, seen, tlsOptions));
    };
    socket.once('error', fail);
    socket.once(target.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}
