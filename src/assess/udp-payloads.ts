// Request datagrams for the UDP probes: pure builders, no I/O. Each is the smallest valid
// request its protocol answers, so a listening service replies and a closed port draws an ICMP
// port-unreachable.

/** RFC 1035 §4.1: header (id, flags, qdcount=1) + one question. */
export function dnsQuery(name: string, type: number, options: { id?: number; recursion?: boolean; qclass?: number } = {}): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x5647, 0);
  header.writeUInt16BE(options.recursion === true ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length > 63) throw new RangeError('DNS label longer than 63 bytes');
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(options.qclass ?? 1, 3);
  parts.push(tail);
  return Buffer.concat(parts);
}

function berLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(value.length), value]);
}

/**
 * RFC 1157 / RFC 3416: SNMP GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0).
 * Message ::= SEQUENCE { version INTEGER, community OCTET STRING, GetRequest-PDU [0] {
 *   request-id INTEGER, error-status INTEGER, error-index INTEGER, varbinds SEQUENCE OF ... } }
 */
export function snmpGetSysDescr(community: string, version: 'v1' | 'v2c', requestId = 0x5647): Buffer {
  const oid = Buffer.from([0x2b, 6, 1, 2, 1, 1, 1, 0]);
  const varbind = tlv(0x30, Buffer.concat([tlv(0x06, oid), Buffer.from([0x05, 0x00])]));
  const pdu = tlv(
    0xa0,
    Buffer.concat([tlv(0x02, Buffer.from([(requestId >> 8) & 0x7f, requestId & 0xff])), Buffer.from([0x02, 0x01, 0x00, 0x02, 0x01, 0x00]), tlv(0x30, varbind)]),
  );
  return tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, version === 'v1' ? 0 : 1]), tlv(0x04, Buffer.from(community, 'latin1')), pdu]));
}

/**
 * RFC 3414 §4: SNMPv3 engine-ID discovery — a reportable, noAuthNoPriv GetRequest with an empty
 * user and engine id. Any SNMPv3 agent answers it with a Report (usmStatsUnknownEngineIDs),
 * whatever its users: it shows an agent is on even where no community answers.
 */
export function snmpV3Discovery(messageId = 0x5647): Buffer {
  const int = (n: number): Buffer => tlv(0x02, n < 0x80 ? Buffer.from([n]) : Buffer.from([0, (n >> 8) & 0xff, n & 0xff]).subarray(n < 0x8000 ? 1 : 0));
  const octets = (b: Buffer): Buffer => tlv(0x04, b);
  const globalData = tlv(0x30, Buffer.concat([int(messageId & 0x7fff), tlv(0x02, Buffer.from([0x00, 0xff, 0xe3])), octets(Buffer.from([0x04])), int(3)]));
  const usm = octets(tlv(0x30, Buffer.concat([octets(Buffer.alloc(0)), int(0), int(0), octets(Buffer.alloc(0)), octets(Buffer.alloc(0)), octets(Buffer.alloc(0))])));
  const pdu = tlv(0xa0, Buffer.concat([int(messageId & 0x7fff), int(0), int(0), tlv(0x30, Buffer.alloc(0))]));
  const scoped = tlv(0x30, Buffer.concat([octets(Buffer.alloc(0)), octets(Buffer.alloc(0)), pdu]));
  return tlv(0x30, Buffer.concat([int(3), globalData, usm, scoped]));
}

/** UPnP Device Architecture 2.0 §1.3.2: a unicast M-SEARCH (sent to the named device only). */
export function ssdpSearch(host: string): Buffer {
  return Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: ${host}:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n`, 'ascii');
}

/** WS-Discovery 1.1 §5.2: a Probe for any ONVIF NetworkVideoTransmitter. */
export function wsDiscoveryProbe(messageId: string): Buffer {
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>' +
      '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
      'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
      `<e:Header><w:MessageID>uuid:${messageId}</w:MessageID><w:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>` +
      '<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header>' +
      '<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>',
    'utf8',
  );
}

/** RFC 5905 §7.3: a client-mode (3), version 4 request. */
export function ntpRequest(): Buffer {
  const b = Buffer.alloc(48);
  b[0] = 0x23;
  return b;
}

/** RFC 1350: a read request for a file that should not exist. */
export function tftpReadRequest(): Buffer {
  return Buffer.concat([Buffer.from([0, 1]), Buffer.from('vigil-assess-probe\0octet\0', 'ascii')]);
}

/** RFC 1002 §4.2.17: NBSTAT query for "*". */
export function netbiosStatusQuery(): Buffer {
  const name = Buffer.alloc(34);
  name[0] = 32;
  const raw = Buffer.alloc(16, 0);
  raw[0] = 0x2a; // '*'
  for (let i = 0; i < 16; i++) {
    const c = raw[i] ?? 0;
    name[1 + i * 2] = 0x41 + (c >> 4);
    name[2 + i * 2] = 0x41 + (c & 0x0f);
  }
  const header = Buffer.from([0x56, 0x47, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, name, Buffer.from([0x00, 0x21, 0x00, 0x01])]);
}

/** The UDP ports probed by default (the lab's "UDP top ports" for cameras, recorders, door gear). */
export const UDP_TOP_PORTS: readonly number[] = [
  53, 67, 69, 111, 123, 137, 161, 162, 500, 514, 520, 623, 1194, 1434, 1812, 1900, 3478, 3702, 4500, 5060, 5353, 5683,
  8000, 10001, 11211, 20000, 34567, 37020, 47808, 49152,
];

/** The request sent to a UDP port: its protocol's request, or a short generic datagram. */
export function udpPayloadFor(port: number, host: string): Buffer {
  switch (port) {
    case 53:
      return dnsQuery('version.bind', 16, { qclass: 3 });
    case 123:
      return ntpRequest();
    case 69:
      return tftpReadRequest();
    case 137:
      return netbiosStatusQuery();
    case 161:
      return snmpGetSysDescr('public', 'v2c');
    case 1900:
      return ssdpSearch(host);
    case 3702:
      return wsDiscoveryProbe('5647696c-0000-4000-8000-000000000001');
    case 5353:
      return dnsQuery('_services._dns-sd._udp.local', 12, { id: 0 });
    default:
      return Buffer.from('\r\n\r\n', 'ascii');
  }
}
