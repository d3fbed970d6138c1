// WS-Discovery (OASIS/MS 2005/04, as profiled by ONVIF Core §7.3) for the camera role: pure
// parse(datagram) → probe and serialize(match) → datagram, no I/O. SOAP-over-UDP (2004/09):
// one envelope per datagram; a ProbeMatches answer goes unicast to the prober, with RelatesTo
// set to the Probe's MessageID (WS-Discovery §5.3). The XML goes through the same hardened
// parser as the ONVIF endpoints (no DOCTYPE/entities, size- and depth-bounded). Types are
// matched by local name, as the ONVIF SOAP endpoints do: the namespace prefixes of a probe are
// not reliable across clients, and our two types have distinct local names.
import { parseScreenedXml, xmlEscape } from '../../camera/onvif/soap.ts';
import { MalformedDatagram } from './udp-responder.ts';

/** SOAP-over-UDP §3: a datagram holds one envelope; Probes are a few hundred bytes. */
export const WSD_MAX_BYTES = 8 * 1024;
export const WSD_MULTICAST_GROUP = '239.255.255.250';

const NS_ADDRESSING = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const NS_DISCOVERY = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
const ACTION_PROBE = `${NS_DISCOVERY}/Probe`;
const ACTION_PROBE_MATCHES = `${NS_DISCOVERY}/ProbeMatches`;
/** WS-Discovery §5.1: the default (and only supported) scope matching rule. */
const MATCH_BY_RFC3986 = `${NS_DISCOVERY}/rfc3986`;

export interface WsdProbe {
  messageId: string;
  /** Requested types by local name (empty: any). */
  types: string[];
  scopes: string[];
  matchBy: string | undefined;
}

export interface WsdTarget {
  /** urn:uuid:… stable for the device (WS-Discovery §2.5 endpoint reference). */
  endpoint: string;
  /** QNames with the prefixes bound in our envelope: dn (network) and tds (device). */
  types: readonly string[];
  scopes: readonly string[];
  /** The HTTPS ONVIF device service URL(s). */
  xaddrs: readonly string[];
  metadataVersion: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(node: unknown, name: string): unknown {
  if (!isRecord(node)) return undefined;
  const v = node[name];
  if (Array.isArray(v)) throw new MalformedDatagram(`element ${name} repeated`);
  return v;
}

function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (isRecord(node)) {
    const t = node['#text'];
    return typeof t === 'string' ? t : t === undefined ? '' : undefined;
  }
  return undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((v) => v !== '').slice(0, 32);
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/**
 * A Probe, or undefined for any other WS-Discovery message (Hello, Bye, other devices'
 * ProbeMatches on the group): those are not for a target service to answer.
 */
export function parseProbe(datagram: Buffer): WsdProbe | undefined {
  if (datagram.length > WSD_MAX_BYTES) throw new MalformedDatagram('datagram too large');
  let doc: unknown;
  try {
    doc = parseScreenedXml(datagram.toString('utf8'));
  } catch {
    throw new MalformedDatagram('not well-formed or refused XML');
  }
  const envelope = child(doc, 'Envelope');
  const header = child(envelope, 'Header');
  const body = child(envelope, 'Body');
  if (!isRecord(header) || !isRecord(body)) throw new MalformedDatagram('no SOAP Header/Body');
  const action = text(child(header, 'Action'))?.trim();
  if (action !== ACTION_PROBE) return undefined;
  const messageId = text(child(header, 'MessageID'))?.trim() ?? '';
  // WS-Addressing: MessageID is an absolute URI; we echo it, so it is bounded and plain.
  if (messageId === '' || messageId.length > 256 || !/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(messageId)) throw new MalformedDatagram('bad MessageID');
  const probe = child(body, 'Probe');
  if (probe === undefined) throw new MalformedDatagram('Probe action without a Probe body');
  const scopesNode = child(probe, 'Scopes');
  const matchBy = isRecord(scopesNode) && typeof scopesNode['@_MatchBy'] === 'string' ? scopesNode['@_MatchBy'] : undefined;
  return { messageId, types: list(text(child(probe, 'Types'))).map(localName), scopes: list(text(scopesNode)), matchBy };
}

/** RFC 3986 matching (WS-Discovery §5.1): the probe scope's path segments prefix ours. */
function scopeMatches(wanted: string, offered: string): boolean {
  let w: URL;
  let o: URL;
  try {
    w = new URL(wanted);
    o = new URL(offered);
  } catch {
    return wanted === offered;
  }
  if (w.protocol !== o.protocol || w.host.toLowerCase() !== o.host.toLowerCase()) return false;
  const ws = w.pathname.split('/').filter((s) => s !== '');
  const os = o.pathname.split('/').filter((s) => s !== '');
  return ws.length <= os.length && ws.every((s, i) => s === os[i]);
}

/** WS-Discovery §5.3: does the target match every requested type and scope? */
export function probeMatches(probe: WsdProbe, target: WsdTarget): boolean {
  const ours = new Set(target.types.map(localName));
  if (!probe.types.every((t) => ours.has(t))) return false;
  if (probe.scopes.length === 0) return true;
  if (probe.matchBy !== undefined && probe.matchBy !== MATCH_BY_RFC3986) return false;
  return probe.scopes.every((s) => target.scopes.some((o) => scopeMatches(s, o)));
}

/** The ProbeMatches envelope answering `probe` (WS-Discovery §5.3, ONVIF Core §7.3.2). */
export function probeMatchesXml(probe: WsdProbe, target: WsdTarget, message: { messageId: string; instanceId: number; messageNumber: number }): Buffer {
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>' +
      `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="${NS_ADDRESSING}" xmlns:d="${NS_DISCOVERY}" ` +
      'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
      '<env:Header>' +
      `<wsa:MessageID>${xmlEscape(message.messageId)}</wsa:MessageID>` +
      `<wsa:RelatesTo>${xmlEscape(probe.messageId)}</wsa:RelatesTo>` +
      `<wsa:To>${NS_ADDRESSING}/role/anonymous</wsa:To>` +
      `<wsa:Action>${ACTION_PROBE_MATCHES}</wsa:Action>` +
      `<d:AppSequence InstanceId="${message.instanceId}" MessageNumber="${message.messageNumber}"/>` +
      '</env:Header><env:Body><d:ProbeMatches><d:ProbeMatch>' +
      `<wsa:EndpointReference><wsa:Address>${xmlEscape(target.endpoint)}</wsa:Address></wsa:EndpointReference>` +
      `<d:Types>${xmlEscape(target.types.join(' '))}</d:Types>` +
      `<d:Scopes>${xmlEscape(target.scopes.join(' '))}</d:Scopes>` +
      `<d:XAddrs>${xmlEscape(target.xaddrs.join(' '))}</d:XAddrs>` +
      `<d:MetadataVersion>${target.metadataVersion}</d:MetadataVersion>` +
      '</d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>',
    'utf8',
  );
}
