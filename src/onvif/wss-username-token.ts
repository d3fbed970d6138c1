// WS-Security UsernameToken PasswordDigest (ONVIF Core §5.9.4; OASIS WSS UsernameToken Profile
// 1.0 §3.1): Base64(SHA-1(nonce + created + password)). The camera verifies it, the NVR and the
// lab send it: one definition.
import { createHash, randomBytes } from 'node:crypto';
import { xmlEscape } from './xml.ts';

export const WSSE_PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
export const WSSE_PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/** Base64(SHA-1(nonce + created + password)) (WSS UsernameToken Profile 1.0 §3.1). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(nonce).update(created, 'utf8').update(password, 'utf8').digest('base64');
}

/** The `<wsse:Security>` header with a fresh 16-byte nonce (§4: a nonce per message). */
export function usernameToken(username: string, password: string, created: string, nonce: Buffer = randomBytes(16)): string {
  return (
    '<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${xmlEscape(username)}</wsse:Username>` +
    `<wsse:Password Type="${WSSE_PASSWORD_DIGEST}">${passwordDigest(nonce, created, password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${xmlEscape(created)}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}
