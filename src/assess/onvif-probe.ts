// The lab's side of ONVIF (ONVIF Core §5.9.4, §5.11): a SOAP 1.2 request with an optional
// WS-Security UsernameToken PasswordDigest (Base64(SHA-1(nonce + created + password)), WSS
// UsernameToken Profile 1.0 §3.1), posted with the bounded HTTP probe, and a few bounded
// readings of the answer (untrusted text: regular expressions over a capped body, no parser).
// The token itself is the shared wire format of src/onvif/ (a pure protocol folder, no product).
import { usernameToken } from '../onvif/wss-username-token.ts';
import { NS_DEVICE, soapRequest } from '../onvif/client-messages.ts';
import { httpProbe, type ProbeResponse, type WebEndpoint } from './http-probe.ts';

export const ONVIF_DEVICE_PATH = '/onvif/device_service';
const MAX_ANSWER_BYTES = 64 * 1024;

export { usernameToken };

/** A device service request: `<Operation xmlns=tds/>` with an optional security header. */
export function deviceRequest(operation: string, security = ''): string {
  return soapRequest(`<${operation} xmlns="${NS_DEVICE}"/>`, security);
}

export function postSoap(web: WebEndpoint, path: string, body: string): Promise<ProbeResponse> {
  return httpProbe(web, { method: 'POST', path, body, headers: { 'content-type': 'application/soap+xml; charset=utf-8', accept: 'application/soap+xml' }, timeoutMs: 10_000, maxBytes: MAX_ANSWER_BYTES });
}

export function isSoap(r: ProbeResponse): boolean {
  return /<(?:[\w-]+:)?Envelope[\s>]/.test(r.body);
}

/** HTTP 200 carrying `<OperationResponse>`: the operation was performed. */
export function answered(r: ProbeResponse, operation: string): boolean {
  return r.status === 200 && new RegExp(`<(?:[\\w-]+:)?${operation}Response[\\s>/]`).test(r.body);
}

/** "HTTP 400 ter:NotAuthorized" and the like, for evidence. */
export function describeAnswer(r: ProbeResponse): string {
  const codes = [...r.body.matchAll(/<(?:[\w-]+:)?Value>\s*([\w-]+:[\w.-]{1,64})\s*</g)].map((m) => m[1]).slice(0, 3);
  return `HTTP ${r.status}${codes.length > 0 ? ` ${codes.join('/')}` : ''}`;
}

/** The device clock from a GetSystemDateAndTime answer (UTCDateTime), in ms; undefined if absent. */
export function deviceTime(r: ProbeResponse): number | undefined {
  const utc = /<(?:[\w-]+:)?UTCDateTime>([\s\S]{0,2000}?)<\/(?:[\w-]+:)?UTCDateTime>/.exec(r.body)?.[1];
  if (utc === undefined) return undefined;
  const field = (name: string): number => Number(new RegExp(`<(?:[\\w-]+:)?${name}>\\s*(\\d{1,4})\\s*<`).exec(utc)?.[1] ?? Number.NaN);
  const ms = Date.UTC(field('Year'), field('Month') - 1, field('Day'), field('Hour'), field('Minute'), field('Second'));
  return Number.isFinite(ms) ? ms : undefined;
}
