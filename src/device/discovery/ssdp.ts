// SSDP search (UPnP Device Architecture 2.0 §1.3): pure parse(datagram) → M-SEARCH and
// serialize(answers) → datagrams, no I/O; and the device description document (§2.3) that
// LOCATION points to, served over HTTPS only while SSDP is on. Only search is answered: the
// device never advertises itself with NOTIFY (no unsolicited multicast), and offers no UPnP
// actions (no port mapping, no control URLs): the description lists no services.
import { xmlEscape } from '../../camera/onvif/soap.ts';
import { MalformedDatagram } from './udp-responder.ts';

/** An M-SEARCH is a short HTTPU request; anything larger is not one. */
export const SSDP_MAX_BYTES = 2048;
export const SSDP_MULTICAST_GROUP = '239.255.255.250';
/** UDA 2.0 §1.3.2: MX above 5 is treated as 5. */
const MX_CAP_SECONDS = 5;
const MAX_HEADERS = 32;
export const DEVICE_TYPE = 'urn:schemas-upnp-org:device:Basic:1';

export interface MSearch {
  st: string;
  /** Seconds to spread the answer over (0 for a unicast search without MX). */
  mx: number;
}

export interface SsdpDevice {
  /** uuid:… */
  udn: string;
  /** https://host:port/upnp/device.xml */
  location: string;
  server: string;
  bootId: number;
  configId: number;
  maxAgeSeconds: number;
}

/** An M-SEARCH, or undefined for other SSDP traffic (NOTIFY, other devices' answers). */
export function parseMSearch(datagram: Buffer): MSearch | undefined {
  if (datagram.length > SSDP_MAX_BYTES) throw new MalformedDatagram('datagram too large');
  const textValue = datagram.toString('latin1');
  const end = textValue.indexOf('\r\n\r\n');
  if (end < 0) throw new MalformedDatagram('no end of headers');
  const lines = textValue.slice(0, end).split('\r\n');
  const requestLine = lines[0] ?? '';
  if (requestLine.startsWith('NOTIFY ') || requestLine.startsWith('HTTP/1.1 ')) return undefined;
  if (requestLine !== 'M-SEARCH * HTTP/1.1') throw new MalformedDatagram('not an M-SEARCH');
  if (lines.length - 1 > MAX_HEADERS) throw new MalformedDatagram('too many headers');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MalformedDatagram('bad header line');
    const name = line.slice(0, colon).trim().toUpperCase();
    if (headers.has(name)) throw new MalformedDatagram(`header ${name} repeated`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  if (headers.get('MAN') !== '"ssdp:discover"') throw new MalformedDatagram('MAN is not "ssdp:discover"');
  const st = headers.get('ST') ?? '';
  if (st === '' || st.length > 256 || !/^[\x21-\x7e]+$/.test(st)) throw new MalformedDatagram('bad ST');
  const mxText = headers.get('MX');
  let mx = 0;
  if (mxText !== undefined) {
    if (!/^\d{1,3}$/.test(mxText)) throw new MalformedDatagram('bad MX');
    mx = Math.min(Number(mxText), MX_CAP_SECONDS);
  }
  return { st, mx };
}

/** The (ST, USN) pairs a search target asks for (UDA 2.0 §1.3.3). */
export function searchTargets(st: string, udn: string): Array<{ st: string; usn: string }> {
  const root = { st: 'upnp:rootdevice', usn: `${udn}::upnp:rootdevice` };
  const self = { st: udn, usn: udn };
  const type = { st: DEVICE_TYPE, usn: `${udn}::${DEVICE_TYPE}` };
  if (st === 'ssdp:all') return [root, self, type];
  if (st === 'upnp:rootdevice') return [root];
  if (st === udn) return [self];
  // A search for our type at the same or a lower version (UDA 2.0 §1.3.2).
  const m = /^urn:schemas-upnp-org:device:Basic:(\d{1,4})$/.exec(st);
  if (m !== null && Number(m[1]) >= 1) return [{ st, usn: `${udn}::${st}` }];
  return [];
}

/** One HTTPU 200 answer per search target (UDA 2.0 §1.3.3). */
export function searchResponses(search: MSearch, device: SsdpDevice): Buffer[] {
  return searchTargets(search.st, device.udn).map(({ st, usn }) =>
    Buffer.from(
      'HTTP/1.1 200 OK\r\n' +
        `CACHE-CONTROL: max-age=${device.maxAgeSeconds}\r\n` +
        'EXT:\r\n' +
        `LOCATION: ${device.location}\r\n` +
        `SERVER: ${device.server}\r\n` +
        `ST: ${st}\r\n` +
        `USN: ${usn}\r\n` +
        `BOOTID.UPNP.ORG: ${device.bootId}\r\n` +
        `CONFIGID.UPNP.ORG: ${device.configId}\r\n` +
        '\r\n',
      'latin1',
    ),
  );
}

export interface DeviceDescription {
  udn: string;
  friendlyName: string;
  manufacturer: string;
  modelName: string;
  modelNumber: string;
  presentationUrl: string;
  configId: number;
}

/** UDA 2.0 §2.3: a root device with no services; presentationURL is the HTTPS web UI. */
export function deviceDescriptionXml(d: DeviceDescription): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<root xmlns="urn:schemas-upnp-org:device-1-0" configId="${d.configId}">` +
    '<specVersion><major>2</major><minor>0</minor></specVersion>' +
    '<device>' +
    `<deviceType>${DEVICE_TYPE}</deviceType>` +
    `<friendlyName>${xmlEscape(d.friendlyName)}</friendlyName>` +
    `<manufacturer>${xmlEscape(d.manufacturer)}</manufacturer>` +
    `<modelName>${xmlEscape(d.modelName)}</modelName>` +
    `<modelNumber>${xmlEscape(d.modelNumber)}</modelNumber>` +
    `<UDN>${xmlEscape(d.udn)}</UDN>` +
    `<presentationURL>${xmlEscape(d.presentationUrl)}</presentationURL>` +
    '</device></root>\n'
  );
}
