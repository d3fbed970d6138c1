// The ONVIF client's answer parsing with real-shaped answers (the camera role's own builders and
// a third-party style answer with other prefixes) and hostile ones: DOCTYPE/entities, oversize,
// deep nesting, too many profiles, credentials in the stream URI, faults, non-SOAP pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnvifAnswerError, MAX_PROFILES, parseAnswer, parseDeviceInformation, parseMediaPath, parseProfiles, parseStreamUri, streamUriRequest } from './client-messages.ts';
import { SOAP_MAX_BYTES } from './xml.ts';
import * as media from '../camera/onvif/media-responses.ts';
import { SoapFault, soapEnvelope, soapFaultXml } from '../camera/onvif/soap.ts';

const ENCODER = { width: 320, height: 240, fps: 15, bitrateKbps: 600, gop: 15 };

function env(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

function refused(run: () => unknown, kind: OnvifAnswerError['kind'], message?: RegExp): void {
  assert.throws(run, (err: unknown) => err instanceof OnvifAnswerError && err.kind === kind && (message === undefined || message.test(err.message)));
}

test('profiles and stream URI of the camera role parse to what it serves', () => {
  assert.deepEqual(parseProfiles(soapEnvelope(media.profiles(ENCODER))), [{ token: media.PROFILE_TOKEN, name: media.PROFILE_TOKEN, encoding: 'H264', width: 320, height: 240 }]);
  assert.equal(parseStreamUri(soapEnvelope(media.streamUri('rtsps://127.0.0.71:3220/live', true))).toString(), 'rtsps://127.0.0.71:3220/live');
});

test('a third-party style answer: other prefixes, several profiles, a JPEG one, attributes on text', () => {
  const profile = (token: string, enc: string, w: number, h: number): string =>
    `<trt:Profiles token="${token}" fixed="true"><tt:Name>${token} stream</tt:Name><tt:VideoEncoderConfiguration token="v${token}"><tt:Name>x</tt:Name><tt:Encoding>${enc}</tt:Encoding><tt:Resolution><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>`;
  const list = parseProfiles(env(`<trt:GetProfilesResponse>${profile('Profile_1', 'H264', 1920, 1080)}${profile('Profile_2', 'JPEG', 640, 480)}<trt:Profiles token="audio_only"><tt:Name>audio</tt:Name></trt:Profiles></trt:GetProfilesResponse>`));
  assert.deepEqual(list.map((p) => [p.token, p.encoding, p.width, p.height]), [['Profile_1', 'H264', 1920, 1080], ['Profile_2', 'JPEG', 640, 480], ['audio_only', '', null, null]]);
  const info = parseDeviceInformation(env('<tds:GetDeviceInformationResponse><tds:Manufacturer>ACME</tds:Manufacturer><tds:Model>Cam &amp; Co</tds:Model><tds:FirmwareVersion>1.2</tds:FirmwareVersion><tds:SerialNumber>S1</tds:SerialNumber><tds:HardwareId>H</tds:HardwareId></tds:GetDeviceInformationResponse>'));
  assert.deepEqual(info, { manufacturer: 'ACME', model: 'Cam & Co', firmwareVersion: '1.2', serialNumber: 'S1', hardwareId: 'H' });
  assert.equal(parseMediaPath(env('<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>https://10.0.0.9/onvif/Media</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>')), '/onvif/Media');
  assert.equal(parseMediaPath(env('<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>https://x/a/../../etc</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>')), '/etc', 'URL normalisation removes dot segments; only the path is used, on the pinned connection');
});

test('faults: NotAuthorized is recognised (plain and nested subcode); other faults carry their subcode', () => {
  const auth = (() => { try { parseAnswer(soapFaultXml(new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized')), 'GetProfiles'); } catch (err) { return err; } return undefined; })();
  assert.ok(auth instanceof OnvifAnswerError && auth.kind === 'fault' && auth.notAuthorized);
  const nested = (() => { try { parseAnswer(soapFaultXml(new SoapFault('Sender', 'ter:InvalidArgVal', 'no such profile', 'ter:NoProfile')), 'GetStreamUri'); } catch (err) { return err; } return undefined; })();
  assert.ok(nested instanceof OnvifAnswerError && nested.kind === 'fault' && !nested.notAuthorized);
  assert.equal(nested.subcode, 'ter:InvalidArgVal/ter:NoProfile');
  assert.equal(nested.message, 'no such profile');
});

test('hostile answers are refused without expanding anything', () => {
  const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Envelope><Body><GetProfilesResponse>&lol2;</GetProfilesResponse></Body></Envelope>`;
  refused(() => parseProfiles(lol), 'malformed', /DOCTYPE/);
  refused(() => parseProfiles(`<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><Envelope/>`), 'malformed', /DOCTYPE/);
  refused(() => parseProfiles(`<?xml-stylesheet href="x"?>${soapEnvelope(media.profiles(ENCODER))}`), 'malformed', /processing/);
  refused(() => parseProfiles(soapEnvelope(`<trt:GetProfilesResponse>${'<a>'.repeat(10)}${'x'.repeat(SOAP_MAX_BYTES)}${'</a>'.repeat(10)}</trt:GetProfilesResponse>`)), 'malformed', /larger/);
  refused(() => parseProfiles(soapEnvelope(`<trt:GetProfilesResponse>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</trt:GetProfilesResponse>`)), 'malformed');
  const many = Array.from({ length: MAX_PROFILES + 1 }, (_, i) => `<trt:Profiles token="p${i}"/>`).join('');
  refused(() => parseProfiles(env(`<trt:GetProfilesResponse>${many}</trt:GetProfilesResponse>`)), 'malformed', /more than/);
  refused(() => parseProfiles(env('<trt:GetProfilesResponse><trt:Profiles token="a b&lt;script&gt;"/></trt:GetProfilesResponse>')), 'malformed', /token/);
  refused(() => parseProfiles(env('<trt:GetProfilesResponse><trt:Profiles/></trt:GetProfilesResponse>')), 'malformed', /token/);
  refused(() => parseProfiles('<html><body>Login</body></html>'), 'not-soap');
  refused(() => parseProfiles('HTTP/1.1 garbage \u0000\u0001'), 'not-soap');
  refused(() => parseProfiles(env('<tds:GetDeviceInformationResponse/>')), 'malformed', /GetProfilesResponse/);
  refused(() => parseProfiles(env('<trt:GetProfilesResponse/>').replace('</SOAP-ENV:Body>', '</SOAP-ENV:Body><SOAP-ENV:Body><trt:GetProfilesResponse/></SOAP-ENV:Body>')), 'malformed', /repeated/);
  // Answers in several Body elements, or repeated fields, are ambiguous: refused, not guessed.
  refused(() => parseDeviceInformation(env('<tds:GetDeviceInformationResponse><tds:Model>a</tds:Model><tds:Model>b</tds:Model></tds:GetDeviceInformationResponse>')), 'malformed', /repeated/);
});

test('the stream URI: credentials stripped, other schemes and junk refused, control characters refused', () => {
  const answer = (uri: string): string => env(`<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${uri}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`);
  assert.equal(parseStreamUri(answer('rtsp://admin:secret@10.0.0.9:554/Streaming/101#x')).toString(), 'rtsp://10.0.0.9:554/Streaming/101');
  refused(() => parseStreamUri(answer('http://10.0.0.9/live')), 'malformed', /rtsp/);
  refused(() => parseStreamUri(answer('javascript:alert(1)')), 'malformed');
  refused(() => parseStreamUri(answer('not a url')), 'malformed', /not a URL/);
  refused(() => parseStreamUri(answer('')), 'malformed', /no stream URI/);
  refused(() => parseStreamUri(answer(`rtsps://h/${'a'.repeat(2000)}`)), 'malformed', /no stream URI/);
  refused(() => parseStreamUri(answer('rtsps://h/\u0001x')), 'malformed');
});

test('the stream URI request escapes the profile token and asks for RTP unicast over RTSP', () => {
  const xml = streamUriRequest('a<b&"', '');
  assert.match(xml, /<ProfileToken>a&#60;b&#38;&#34;<\/ProfileToken>/);
  assert.match(xml, /<Stream xmlns="[^"]+">RTP-Unicast<\/Stream>/);
  assert.match(xml, /<Protocol>RTSP<\/Protocol>/);
});
