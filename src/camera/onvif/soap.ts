// SOAP 1.2 for the ONVIF endpoints (ONVIF Core §5.1, §5.11; SOAP 1.2 Part 1 §5.4): pure
// parse(text) → request and serialize(value) → text, no I/O.
//
// Hardening before the parser ever runs: a hard size bound, and no DOCTYPE, entity declaration,
// or other markup declaration at all (`<!` other than a comment or CDATA), no processing
// instruction but the XML declaration. So no entity can be declared, expanded or fetched (XXE,
// "billion laughs"); fast-xml-parser then only decodes the five predefined entities, and its
// nesting bound (maxNestedTags) caps the depth. Names are matched by local name (namespace
// prefixes removed): the endpoint path already tells the device from the media service.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Largest request accepted: ONVIF Profile S requests are a few kilobytes. */
export const SOAP_MAX_BYTES = 64 * 1024;
const MAX_DEPTH = 32;

export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  ter: 'http://www.onvif.org/ver10/error',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
} as const;

export const WSSE_PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
export const WSSE_PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/** A SOAP fault (SOAP 1.2 §5.4.6) with an ONVIF subcode (ONVIF Core §5.11.2). */
export class SoapFault extends Error {
  readonly code: 'Sender' | 'Receiver';
  readonly subcode: string;
  readonly subsubcode: string | undefined;
  constructor(code: 'Sender' | 'Receiver', subcode: string, reason: string, subsubcode?: string) {
    super(reason);
    this.name = 'SoapFault';
    this.code = code;
    this.subcode = subcode;
    this.subsubcode = subsubcode;
  }
  /** SOAP 1.2 HTTP binding: a sender fault is 400, a receiver fault 500 (ONVIF Core §5.11.2.1). */
  get httpStatus(): number {
    return this.code === 'Sender' ? 400 : 500;
  }
}

export function malformed(reason: string): SoapFault {
  return new SoapFault('Sender', 'ter:WellFormed', reason);
}

/** The WS-Security UsernameToken as sent, unverified (OASIS WSS UsernameToken Profile 1.0 §3). */
export interface RawUsernameToken {
  username: string;
  password: string;
  passwordType: string;
  nonce: string | undefined;
  created: string | undefined;
}

export interface SoapRequest {
  /** Local name of the first Body child: the operation, e.g. "GetProfiles". */
  operation: string;
  /** The operation element's children by local name (strings or nested objects). */
  body: XmlNode;
  token: RawUsernameToken | undefined;
}

export type XmlNode = string | { readonly [name: string]: XmlNode | readonly XmlNode[] };

const parser = new XMLParser({
  ignoreAttributes: false,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  trimValues: true,
  maxNestedTags: MAX_DEPTH,
});

/** Refuses what must never reach the parser: oversize, DOCTYPE/ENTITY and other declarations, stray PIs. */
export function screenXml(text: string): void {
  if (Buffer.byteLength(text, 'utf8') > SOAP_MAX_BYTES) throw malformed(`request larger than ${SOAP_MAX_BYTES} bytes`);
  if (/<!(?!--|\[CDATA\[)/.test(text)) throw malformed('DOCTYPE and entity declarations are not accepted');
  const pi = /<\?/g;
  for (let m = pi.exec(text); m !== null; m = pi.exec(text)) {
    const declaration = m.index === text.search(/\S/) && /^<\?xml\s/.test(text.slice(m.index, m.index + 6));
    if (!declaration) throw malformed('processing instructions are not accepted');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The one child of `node` named `name`; a repeated element is malformed. */
function child(node: unknown, name: string): unknown {
  if (!isRecord(node)) return undefined;
  const value = node[name];
  if (Array.isArray(value)) throw malformed(`element ${name} repeated`);
  return value;
}

/** Text content of an element (plain or with attributes). */
function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (isRecord(node)) {
    const t = node['#text'];
    return typeof t === 'string' ? t : t === undefined ? '' : undefined;
  }
  return undefined;
}

function attribute(node: unknown, name: string): string | undefined {
  if (!isRecord(node)) return undefined;
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

function usernameToken(header: unknown): RawUsernameToken | undefined {
  const security = child(header, 'Security');
  if (security === undefined) return undefined;
  const token = child(security, 'UsernameToken');
  if (token === undefined) throw new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized');
  const username = text(child(token, 'Username'));
  const passwordNode = child(token, 'Password');
  const password = text(passwordNode);
  if (username === undefined || password === undefined || username === '' || username.length > 256 || password.length > 1024) {
    throw new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized');
  }
  return {
    username,
    password,
    // WSS UsernameToken Profile 1.0 §3.1: PasswordText is the default type.
    passwordType: attribute(passwordNode, 'Type') ?? WSSE_PASSWORD_TEXT,
    nonce: text(child(token, 'Nonce')),
    created: text(child(token, 'Created')),
  };
}

/**
 * The one hardened way to turn untrusted XML into a tree (also WS-Discovery over UDP): screened,
 * validated, parsed with local names; every defect is a SoapFault, never a parser exception.
 */
export function parseScreenedXml(raw: string): unknown {
  screenXml(raw);
  const valid = XMLValidator.validate(raw);
  if (valid !== true) throw malformed('request is not well-formed XML');
  try {
    return parser.parse(raw);
  } catch {
    throw malformed('request is not well-formed XML');
  }
}

/** Parses one SOAP 1.2 request; every defect is a sender fault, never an exception of the parser. */
export function parseSoapRequest(raw: string): SoapRequest {
  const doc = parseScreenedXml(raw);
  const envelope = child(doc, 'Envelope');
  if (!isRecord(envelope)) throw malformed('no SOAP Envelope');
  const body = child(envelope, 'Body');
  if (!isRecord(body)) throw malformed('no SOAP Body');
  const names = Object.keys(body).filter((k) => !k.startsWith('@_') && k !== '#text');
  const operation = names[0];
  if (operation === undefined || names.length !== 1) throw malformed('the SOAP Body must hold exactly one operation');
  const op = child(body, operation);
  return { operation, body: isRecord(op) ? (op as XmlNode) : '', token: usernameToken(child(envelope, 'Header')) };
}

/** A named child element of an operation, e.g. StreamSetup. */
export function operationChild(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const value = child(node, name);
  return typeof value === 'string' || isRecord(value) ? (value as XmlNode) : undefined;
}

/** Text of a named child element of an operation, e.g. ProfileToken. */
export function operationText(body: XmlNode | undefined, name: string): string | undefined {
  return text(child(body, name));
}

/** Escapes character data and attribute values (XML 1.0 §2.4, §3.3.3). */
export function xmlEscape(value: string | number | boolean): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function soapEnvelope(bodyXml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${NS.env}" xmlns:ter="${NS.ter}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tt="${NS.tt}"><env:Body>${bodyXml}</env:Body></env:Envelope>`;
}

export function soapFaultXml(fault: SoapFault): string {
  const inner = fault.subsubcode === undefined ? '' : `<env:Subcode><env:Value>${xmlEscape(fault.subsubcode)}</env:Value></env:Subcode>`;
  return soapEnvelope(
    `<env:Fault><env:Code><env:Value>env:${fault.code}</env:Value><env:Subcode><env:Value>${xmlEscape(fault.subcode)}</env:Value>${inner}</env:Subcode></env:Code>` +
      `<env:Reason><env:Text xml:lang="en">${xmlEscape(fault.message)}</env:Text></env:Reason></env:Fault>`,
  );
}
