// Raw ONVIF SOAP for end-to-end tests: an envelope with a WS-Security UsernameToken computed here
// independently of the product (Base64(SHA-1(nonce + created + password))), posted over HTTPS
// with the device certificate as the only trusted CA.
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';

export interface SoapReply {
  status: number;
  contentType: string;
  text: string;
}

export function usernameTokenXml(username: string, password: string, options: { nonce?: Buffer; created?: string } = {}): string {
  const nonce = options.nonce ?? randomBytes(16);
  const created = options.created ?? new Date().toISOString();
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
  return (
    '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${username}</Username>` +
    `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security>'
  );
}

export function envelope(operationXml: string, securityXml = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${securityXml}</s:Header><s:Body>${operationXml}</s:Body></s:Envelope>`;
}

export const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';
export const MEDIA_NS = 'http://www.onvif.org/ver10/media/wsdl';

export function soapPost(baseUrl: string, caPem: string, path: string, body: string, contentType = 'application/soap+xml; charset=utf-8'): Promise<SoapReply> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca: caPem, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
