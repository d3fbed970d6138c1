// SOAP 1.2 for the ONVIF endpoints (ONVIF Core §5.1, §5.11; SOAP 1.2 Part 1 §5.4): pure
// parse(text) → request and serialize(value) → text, no I/O.
//
// The hardening (size bound, no DOCTYPE/entities/PIs, depth bound) is the shared one of
// src/onvif/xml.ts; here a refusal becomes a sender fault.
import { XmlRefused, attribute, child as xmlChild, isRecord, parseXml, screenXml as screen, text, xmlEscape, type XmlNode } from '../../onvif/xml.ts';
import { WSSE_PASSWORD_TEXT } from '../../onvif/wss-username-token.ts';

export { SOAP_MAX_BYTES, xmlEscape, type XmlNode } from '../../onvif/xml.ts';
export { WSSE_PASSWORD_DIGEST, WSSE_PASSWORD_TEXT } from '../../onvif/wss-username-token.ts';

export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  ter: 'http://www.onvif.org/ver10/error',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
} as const;


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


/** Refuses what must never reach the parser (see src/onvif/xml.ts), as a sender fault. */
export function screenXml(raw: string): void {
  try {
    screen(raw);
  } catch (err) {
    throw err instanceof XmlRefused ? malformed(err.message) : err;
  }
}

/** The one child named `name`; a repeated element is malformed. */
function child(node: unknown, name: string): unknown {
  try {
    return xmlChild(node, name);
  } catch (err) {
    throw err instanceof XmlRefused ? malformed(err.message) : err;
  }
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
 * The one hardened way to turn untrusted XML into a tree here (also WS-Discovery over UDP):
 * src/onvif/xml.ts screens and parses; every defect becomes a sender fault.
 */
export function parseScreenedXml(raw: string): unknown {
  try {
    return parseXml(raw);
  } catch (err) {
    throw err instanceof XmlRefused ? malformed(/larger|DOCTYPE|processing/.test(err.message) ? err.message.replace('message', 'request') : 'request is not well-formed XML') : err;
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
