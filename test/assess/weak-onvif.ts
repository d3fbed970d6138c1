// A deliberately weak ONVIF device for the negative controls: plain HTTP, a device service that
// checks the UsernameToken digest but keeps no nonce and ignores Created (so a captured request
// replays), and optionally answers GetDeviceInformation to anyone.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { listen, type Closable } from './weak-targets.ts';

const ENV = '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>';
const END = '</s:Body></s:Envelope>';
const NOT_AUTHORIZED = `${ENV}<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault>${END}`;

function tag(xml: string, name: string): string {
  return new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([^<]*)<`).exec(xml)?.[1] ?? '';
}

export async function weakOnvifDevice(host: string, user: { username: string; password: string }, options: { anonymous: boolean }): Promise<Closable> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      if (body.length < 65_536) body += c.toString('utf8');
    });
    req.on('end', () => {
      const send = (status: number, xml: string): void => {
        res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(xml);
      };
      if (req.method !== 'POST' || req.url !== '/onvif/device_service') return void res.writeHead(404).end();
      if (body.includes('GetSystemDateAndTime')) {
        const d = new Date();
        return send(200, `${ENV}<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>${END}`);
      }
      const digest = createHash('sha1').update(Buffer.from(tag(body, 'Nonce'), 'base64')).update(tag(body, 'Created')).update(user.password).digest('base64');
      const authenticated = tag(body, 'Username') === user.username && tag(body, 'Password') === digest;
      if (!authenticated && !options.anonymous) return send(400, NOT_AUTHORIZED);
      send(200, `${ENV}<tds:GetDeviceInformationResponse><tds:Manufacturer>Weak</tds:Manufacturer><tds:Model>W1</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>1</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>${END}`);
    });
  });
  return listen(server, host);
}
