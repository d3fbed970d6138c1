// The NVR's ONVIF client transport: SOAP 1.2 over HTTPS on a connection pinned to the certificate
// the admin confirmed (crypto/tls-trust.ts). The TLS socket is handed to the HTTP client only
// after validation and the pin passed, so a UsernameToken is never written to another device.
// Answers are bounded (src/onvif/xml.ts SOAP_MAX_BYTES) and timed out.
import http from 'node:http';
import { VigilError } from '../../core/errors.ts';
import { connectPinned, type PinnedEndpoint } from '../../crypto/tls-trust.ts';
import { SOAP_MAX_BYTES } from '../../onvif/xml.ts';

export interface SoapAnswer {
  status: number;
  text: string;
}

export interface OnvifAddress {
  host: string;
  port: number;
  /** Path of the device service. */
  path: string;
}

/** "https://host[:port][/path]" or "host[:port]" → where the device service is; HTTPS only. */
export function parseOnvifAddress(text: string, defaultPath: string): OnvifAddress {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new VigilError('VIGIL_VALIDATION', 'address: an https:// URL or host[:port]', { details: { field: 'address' } });
  }
  if (url.protocol !== 'https:') throw new VigilError('VIGIL_VALIDATION', 'address: ONVIF is spoken over https only (the credentials and the answers need TLS)', { details: { field: 'address' } });
  if (url.username !== '' || url.password !== '') throw new VigilError('VIGIL_VALIDATION', 'address: no credentials in the address; give them separately', { details: { field: 'address' } });
  if (url.hostname === '') throw new VigilError('VIGIL_VALIDATION', 'address: no host', { details: { field: 'address' } });
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 443 : Number(url.port), path: url.pathname === '/' || url.pathname === '' ? defaultPath : url.pathname };
}

export function addressUrl(a: OnvifAddress): string {
  return `https://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}${a.path}`;
}

/** POSTs one SOAP request on a fresh pinned connection; the connection is closed afterwards. */
export async function postPinnedSoap(endpoint: PinnedEndpoint, path: string, body: string): Promise<SoapAnswer> {
  const socket = await connectPinned(endpoint);
  return new Promise<SoapAnswer>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, answer?: SoapAnswer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      socket.destroy();
      if (err !== undefined || answer === undefined) reject(err ?? new VigilError('VIGIL_ONVIF_UNREACHABLE', 'no answer'));
      else resolve(answer);
    };
    const request = http.request({
      createConnection: () => socket,
      method: 'POST',
      host: endpoint.host,
      port: endpoint.port,
      path,
      headers: { host: `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`, 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' },
    }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > SOAP_MAX_BYTES) {
          finish(new VigilError('VIGIL_ONVIF_PROTOCOL', `the device answered more than ${SOAP_MAX_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.once('end', () => finish(undefined, { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.once('error', (err) => finish(new VigilError('VIGIL_ONVIF_UNREACHABLE', 'the device closed the connection', { cause: err })));
    });
    const timer = setTimeout(() => finish(new VigilError('VIGIL_ONVIF_UNREACHABLE', `the device did not answer within ${endpoint.timeoutMs} ms`)), endpoint.timeoutMs);
    request.once('error', (err) => finish(new VigilError('VIGIL_ONVIF_UNREACHABLE', 'the device closed the connection', { cause: err })));
    request.end(body);
  });
}
