// The lab's side of ONVIF (ONVIF Core §5.9.4, §5.11): a SOAP 1.2 request with an optional
// WS-Security UsernameToken PasswordDigest (Base64(SHA-1(nonce + created + password)), WSS
// UsernameToken Profile 1.0 §3.1), posted with the bounded HTTP probe, and a few bounded
// readings of the answer (untrusted text: regular expressions over a capped body, no parser).
import { createHash, randomBytes } from 'node:crypto';
import { httpProbe, type ProbeResponse, type WebEndpoint } from './http-probe.ts';

export const ONVIF_DEVICE_PATH = '/onvif/device_service';
const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';
const MAX_ANSWER_BYTES = 64 * 1024;

export function usernameToken(username: string, password: string, created: string, nonce: Buffer = randomBytes(16)): string {
  const digest = createHash('sha1').update(nonce).update(created, 'utf8').update(password, 'utf8').digest('base64');
  return (
    '<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${xmlText(username)}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

function xmlText(value: string): string {
  return value.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A device service request: `<Operation xmlns=tds/>` with an optional security header. */
export function deviceRequest(operation: string, security = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${security}</s:Header><s:Body><${operation} xmlns="${DEVICE_NS}"/></s:Body></s:Envelope>`;
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
