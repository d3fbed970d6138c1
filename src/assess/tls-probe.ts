// TLS handshake probes with node:tls: which protocol versions, suites and groups the server
// accepts, and its certificate. The probe trusts nothing and sends nothing: certificate
// validation stays on (Node rejects the unknown certificate after the handshake), and the
// probe reads what the server offered in between, from the socket's internal 'secure' event,
// which Node emits when the handshake completes and before it checks the certificate. No
// application byte is ever written on an unverified connection.
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface HandshakeObservation {
  ok: boolean;
  protocol?: string;
  cipher?: string;
  group?: string;
  certificate?: X509Certificate;
  /** Certificate chain validation against the given CA or the system store. */
  authorized?: boolean;
  authorizationError?: string;
  error?: string;
}

export interface HandshakeOptions {
  host: string;
  port: number;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** OpenSSL cipher string; '@SECLEVEL=0' is appended so the probe can offer legacy suites. */
  ciphers?: string;
  /** TLS 1.3 suites (colon-separated). */
  ciphersuites?: string;
  ecdhCurve?: string;
  ca?: string;
  servername?: string;
  timeoutMs: number;
}

/** The probe's client may offer legacy algorithms (SECLEVEL=0): it is a measuring instrument. */
function probeCiphers(ciphers: string | undefined): string {
  return `${ciphers ?? 'ALL:COMPLEMENTOFALL'}:@SECLEVEL=0`;
}

export function observeHandshake(o: HandshakeOptions): Promise<HandshakeObservation> {
  return new Promise((resolve) => {
    const seen: HandshakeObservation = { ok: false };
    let settled = false;
    const connectOptions: tls.ConnectionOptions = {
      host: o.host,
      port: o.port,
      minVersion: o.minVersion ?? 'TLSv1',
      maxVersion: o.maxVersion ?? 'TLSv1.3',
      ciphers: probeCiphers(o.ciphers),
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ...(o.servername === undefined ? {} : { servername: o.servername }),
      ...(o.ecdhCurve === undefined ? {} : { ecdhCurve: o.ecdhCurve }),
    };
    // Node has no 'ciphersuites' client option: TLS 1.3 suites go in the same cipher string.
    if (o.ciphersuites !== undefined) connectOptions.ciphers = `${o.ciphersuites}:${probeCiphers(o.ciphers ?? 'ALL')}`;
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect(connectOptions);
    } catch (err) {
      // An option this client's OpenSSL does not know (a group, a suite): nothing was sent.
      resolve({ ok: false, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    const finish = (extra: Partial<HandshakeObservation>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...seen, ...extra });
    };
    const timer = setTimeout(() => finish({ error: seen.ok ? undefined : `no handshake within ${o.timeoutMs} ms` }), o.timeoutMs);
    socket.prependListener('secure', () => {
      seen.ok = true;
      seen.protocol = socket.getProtocol() ?? undefined;
      seen.cipher = socket.getCipher()?.name;
      const eph = socket.getEphemeralKeyInfo();
      if (eph !== null && typeof eph === 'object' && 'name' in eph && typeof eph.name === 'string') seen.group = eph.name;
      // getPeerCertificate, not getPeerX509Certificate: the latter, called before Node's own
      // identity check, makes that check see an empty altname list (Node 24).
      const raw = socket.getPeerCertificate(false).raw;
      if (raw !== undefined && raw.length > 0) seen.certificate = new X509Certificate(raw);
    });
    socket.once('secureConnect', () => finish({ authorized: socket.authorized, ...(socket.authorizationError === null ? {} : { authorizationError: String(socket.authorizationError) }) }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // After a completed handshake, the only error is the certificate verdict.
      if (seen.ok) finish({ authorized: false, authorizationError: err.code ?? err.message });
      else finish({ error: err.code ?? err.message });
    });
  });
}
