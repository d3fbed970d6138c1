// Packet handling of the discovery responders: byte-level inputs from the specs' examples,
// malformed and hostile input, the per-source bound, and the SNMPv3 user rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { dnsQuery, wsDiscoveryProbe } from '../../assess/udp-payloads.ts';
import { parseProbe, probeMatches, probeMatchesXml, type WsdTarget } from './ws-discovery.ts';
import { parseMSearch, searchResponses, searchTargets, deviceDescriptionXml } from './ssdp.ts';
import { answerQuery, type MdnsDevice } from './mdns.ts';
import { MalformedDatagram, SourceRateLimit } from './udp-responder.ts';
import { deviceUuid, snmpEngineId } from './discovery-responders.ts';
import { snmpUserProblems } from './discovery-service.ts';

const TARGET: WsdTarget = {
  endpoint: 'urn:uuid:00000000-0000-5000-8000-000000000001',
  types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
  scopes: ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/name/lobby'],
  xaddrs: ['https://192.0.2.10:8443/onvif/device_service'],
  metadataVersion: 1,
};

test('WS-Discovery: a Probe for NetworkVideoTransmitter gets ProbeMatches relating to its MessageID', () => {
  const probe = parseProbe(wsDiscoveryProbe('11111111-2222-4333-8444-555555555555'));
  assert.ok(probe !== undefined);
  assert.equal(probe.messageId, 'uuid:11111111-2222-4333-8444-555555555555');
  assert.deepEqual(probe.types, ['NetworkVideoTransmitter']);
  assert.ok(probeMatches(probe, TARGET));
  const xml = probeMatchesXml(probe, TARGET, { messageId: 'urn:uuid:reply', instanceId: 7, messageNumber: 1 }).toString('utf8');
  assert.match(xml, /<wsa:RelatesTo>uuid:11111111-2222-4333-8444-555555555555<\/wsa:RelatesTo>/);
  assert.match(xml, /<wsa:Action>http:\/\/schemas.xmlsoap.org\/ws\/2005\/04\/discovery\/ProbeMatches<\/wsa:Action>/);
  assert.match(xml, /<d:XAddrs>https:\/\/192\.0\.2\.10:8443\/onvif\/device_service<\/d:XAddrs>/);
  // The answer itself passes our own hardened parser (and is not a Probe).
  assert.equal(parseProbe(Buffer.from(xml)), undefined);
});

test('WS-Discovery: types and scopes that are not ours do not match; other messages are ignored', () => {
  const probe = parseProbe(wsDiscoveryProbe('11111111-2222-4333-8444-555555555555'));
  assert.ok(probe !== undefined);
  assert.equal(probeMatches({ ...probe, types: ['Printer'] }, TARGET), false);
  assert.equal(probeMatches({ ...probe, types: [] }, TARGET), true, 'no Types: any device matches');
  assert.equal(probeMatches({ ...probe, scopes: ['onvif://www.onvif.org/name'] }, TARGET), true, 'segment prefix (RFC 3986 rule)');
  assert.equal(probeMatches({ ...probe, scopes: ['onvif://www.onvif.org/name/lob'] }, TARGET), false, 'not a whole segment');
  assert.equal(probeMatches({ ...probe, scopes: ['onvif://www.onvif.org/name/lobby'], matchBy: 'http://example.com/custom' }, TARGET), false);
  const hello = wsDiscoveryProbe('x').toString('utf8').replace('/discovery/Probe<', '/discovery/Hello<');
  assert.equal(parseProbe(Buffer.from(hello)), undefined);
});

test('WS-Discovery: hostile or malformed XML is dropped as malformed, never parsed with entities', () => {
  const base = wsDiscoveryProbe('11111111-2222-4333-8444-555555555555').toString('utf8');
  const cases = [
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "y">]>' + base.slice(base.indexOf('<e:Envelope')),
    base.replace('</e:Envelope>', ''),
    base.replace(/<w:MessageID>[^<]*<\/w:MessageID>/, '<w:MessageID>not a uri</w:MessageID>'),
    base.replace(/<w:MessageID>[^<]*<\/w:MessageID>/, ''),
    base.replace('<e:Body>', '<e:Body><x/>').replace('<d:Probe>', '<d:Nope>').replace('</d:Probe>', '</d:Nope>'),
    'x'.repeat(9000),
    '',
  ];
  for (const c of cases) assert.throws(() => parseProbe(Buffer.from(c)), MalformedDatagram, c.slice(0, 60));
});

const DEVICE = { udn: 'uuid:abc', location: 'https://192.0.2.10:8443/upnp/device.xml', server: 'Vigil UPnP/2.0 Vigil/0.1.0', bootId: 1, configId: 1, maxAgeSeconds: 1800 };

test('SSDP: M-SEARCH (UDA 2.0 §1.3.2) is answered per search target with LOCATION on HTTPS', () => {
  const search = parseMSearch(Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n'));
  assert.deepEqual(search, { st: 'ssdp:all', mx: 2 });
  const answers = searchResponses(search, DEVICE).map((b) => b.toString('latin1'));
  assert.equal(answers.length, 3);
  for (const a of answers) {
    assert.match(a, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(a, /\r\nLOCATION: https:\/\/192\.0\.2\.10:8443\/upnp\/device\.xml\r\n/);
    assert.match(a, /\r\nEXT:\r\n/);
    assert.ok(a.endsWith('\r\n\r\n'));
  }
  assert.deepEqual(searchTargets('upnp:rootdevice', 'uuid:abc'), [{ st: 'upnp:rootdevice', usn: 'uuid:abc::upnp:rootdevice' }]);
  assert.deepEqual(searchTargets('uuid:abc', 'uuid:abc'), [{ st: 'uuid:abc', usn: 'uuid:abc' }]);
  assert.equal(searchTargets('urn:schemas-upnp-org:service:WANIPConnection:1', 'uuid:abc').length, 0, 'no IGD, no port mapping');
  assert.equal(parseMSearch(Buffer.from('M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nMX: 120\r\nST: ssdp:all\r\n\r\n'))?.mx, 5, 'MX capped at 5 s');
});

test('SSDP: NOTIFY and answers are ignored; malformed searches are dropped', () => {
  assert.equal(parseMSearch(Buffer.from('NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n')), undefined);
  assert.equal(parseMSearch(Buffer.from('HTTP/1.1 200 OK\r\nST: x\r\n\r\n')), undefined);
  for (const bad of [
    'M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n', // no MAN
    'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\n\r\n', // no ST
    'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\nST: ssdp:all\r\n\r\n',
    'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nMX: -1\r\nST: ssdp:all\r\n\r\n',
    'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\n', // unterminated
    `M-SEARCH * HTTP/1.1\r\n${'X-A: b\r\n'.repeat(40)}MAN: "ssdp:discover"\r\nST: ssdp:all\r\n\r\n`,
    'GET / HTTP/1.1\r\n\r\n',
  ]) assert.throws(() => parseMSearch(Buffer.from(bad)), MalformedDatagram, bad.slice(0, 40));
  assert.match(deviceDescriptionXml({ udn: 'uuid:abc', friendlyName: 'a<b', manufacturer: 'Vigil', modelName: 'm', modelNumber: '1', presentationUrl: 'https://h/', configId: 1 }), /<friendlyName>a&#60;b<\/friendlyName>/);
});

const MDNS: MdnsDevice = { instance: 'Lobby cam', host: 'lobby-cam.local', ipv4: ['192.0.2.10'], ipv6: [], services: [{ type: '_https._tcp', port: 8443, txt: ['path=/'] }, { type: '_rtsps._tcp', port: 322, txt: ['path=/stream'] }] };

test('mDNS: a PTR query for _https._tcp gets our instance with SRV/TXT/A additionals (RFC 6763 §12.1)', () => {
  const reply = answerQuery(dnsQuery('_https._tcp.local', 12, { id: 0x1234 }), MDNS, 40000);
  assert.ok(reply !== undefined);
  const p = dnsPacket.decode(reply);
  assert.equal(p.id, 0x1234, 'legacy unicast: id echoed');
  assert.equal(p.questions?.length, 1, 'legacy unicast: question echoed');
  assert.deepEqual((p.answers ?? []).map((a) => [a.type, a.name, 'data' in a ? a.data : null]), [['PTR', '_https._tcp.local', 'Lobby cam._https._tcp.local']]);
  const extra = p.additionals ?? [];
  const srv = extra.find((a) => a.type === 'SRV');
  assert.deepEqual(srv?.type === 'SRV' ? [srv.data.port, srv.data.target] : [], [8443, 'lobby-cam.local']);
  assert.ok(extra.some((a) => a.type === 'A' && a.data === '192.0.2.10'));
  assert.ok([...(p.answers ?? []), ...extra].every((a) => a.type === 'OPT' || a.ttl === 10), 'legacy unicast TTL ≤ 10 s');
});

test('mDNS: service enumeration, host A, multicast-port querier, and silence for other names', () => {
  const types = dnsPacket.decode(answerQuery(dnsQuery('_services._dns-sd._udp.local', 12), MDNS, 40000) ?? Buffer.alloc(0));
  assert.deepEqual((types.answers ?? []).map((a) => ('data' in a ? a.data : null)).sort(), ['_https._tcp.local', '_rtsps._tcp.local']);
  const a = dnsPacket.decode(answerQuery(dnsQuery('LOBBY-CAM.local', 1), MDNS, 5353) ?? Buffer.alloc(0));
  assert.equal(a.id, 0, 'an mDNS querier (port 5353) gets id 0');
  assert.equal(a.questions?.length, 0);
  assert.deepEqual((a.answers ?? []).map((r) => ('data' in r ? r.data : null)), ['192.0.2.10']);
  assert.equal(answerQuery(dnsQuery('_printer._tcp.local', 12), MDNS, 40000), undefined);
  assert.equal(answerQuery(dnsQuery('lobby-cam.local', 28), MDNS, 40000), undefined, 'no AAAA: no answer, no negative');
});

test('mDNS: responses, truncated and oversized packets are dropped', () => {
  const response = dnsQuery('_https._tcp.local', 12);
  response.writeUInt16BE(0x8400, 2);
  assert.equal(answerQuery(response, MDNS, 40000), undefined);
  assert.throws(() => answerQuery(Buffer.alloc(5), MDNS, 40000), MalformedDatagram);
  const q = dnsQuery('_https._tcp.local', 12);
  assert.throws(() => answerQuery(q.subarray(0, q.length - 3), MDNS, 40000), MalformedDatagram);
  const many = Buffer.from(q);
  many.writeUInt16BE(500, 4);
  assert.throws(() => answerQuery(many, MDNS, 40000), MalformedDatagram);
  assert.throws(() => answerQuery(Buffer.alloc(9001), MDNS, 40000), MalformedDatagram);
  // A bounded fuzz loop with a fixed seed: never anything but an answer, silence or MalformedDatagram.
  let seed = 0x5647;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(q);
    for (let j = 0; j < 3; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    try {
      answerQuery(b, MDNS, 40000);
    } catch (err) {
      assert.ok(err instanceof MalformedDatagram, String(err));
    }
  }
});

test('rate limit: per source, fixed window, and a hard bound on remembered sources', () => {
  let now = 0;
  const limit = new SourceRateLimit({ perMinute: 3, capacity: 100, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => limit.allow('192.0.2.1')), [true, true, true, false]);
  assert.equal(limit.allow('192.0.2.2'), true, 'another source has its own budget');
  now = 60_000;
  assert.equal(limit.allow('192.0.2.1'), true, 'a new window');
  for (let i = 0; i < 1000; i++) limit.allow(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(limit.size <= 100);
});

test('stable identifiers: UUID (RFC 4122 layout) and SNMP engine id derive from the device, not a MAC', () => {
  assert.match(deviceUuid('k1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(deviceUuid('k1'), deviceUuid('k1'));
  assert.notEqual(deviceUuid('k1'), deviceUuid('k2'));
  assert.match(snmpEngineId('k1'), /^8000000005[0-9a-f]{32}$/);
});

test('SNMPv3 user: policy-checked passphrases, distinct, printable; only SHA-2 and AES', () => {
  const good = { username: 'monitor', authProtocol: 'sha512' as const, privProtocol: 'aes128' as const, authPassphrase: 'Auth-Passphrase-8812', privPassphrase: 'Priv-Passphrase-9923' };
  assert.deepEqual(snmpUserProblems(good), []);
  assert.ok(snmpUserProblems({ ...good, authPassphrase: 'short1A!' }).some((p) => p.startsWith('authPassphrase')));
  assert.ok(snmpUserProblems({ ...good, privPassphrase: good.authPassphrase }).some((p) => p.includes('differ')));
  assert.ok(snmpUserProblems({ ...good, privPassphrase: 'Monitor-Passphrase-1' }).some((p) => p.startsWith('privPassphrase')), 'contains the username');
  assert.ok(snmpUserProblems({ ...good, username: 'bad user' }).some((p) => p.startsWith('username')));
  assert.ok(snmpUserProblems({ ...good, authPassphrase: 'Auth-Passphrase-8812\u00e9' }).some((p) => p.includes('ASCII')));
  assert.ok(snmpUserProblems({ ...good, authProtocol: 'md5' as never }).some((p) => p.startsWith('authProtocol')));
});
