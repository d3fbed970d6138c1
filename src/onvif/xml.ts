// Hardened XML for ONVIF SOAP 1.2, both directions (ONVIF Core §5.1; the camera parses requests,
// the NVR parses answers): pure parse(text) → tree, no I/O.
//
// Hardening before the parser ever runs: a hard size bound, and no DOCTYPE, entity declaration,
// or other markup declaration at all (`<!` other than a comment or CDATA), no processing
// instruction but the XML declaration. So no entity can be declared, expanded or fetched (XXE,
// "billion laughs"); fast-xml-parser then only decodes the five predefined entities, and its
// nesting bound (maxNestedTags) caps the depth. Names are matched by local name (namespace
// prefixes removed).
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Largest SOAP message accepted: ONVIF Profile S messages are a few kilobytes. */
export const SOAP_MAX_BYTES = 64 * 1024;
const MAX_DEPTH = 32;

export type XmlNode = string | { readonly [name: string]: XmlNode | readonly XmlNode[] };

/** Why a text was refused before or by the parser; the caller maps it to its own error. */
export class XmlRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'XmlRefused';
  }
}

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
export function screenXml(text: string, maxBytes = SOAP_MAX_BYTES): void {
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw new XmlRefused(`message larger than ${maxBytes} bytes`);
  if (/<!(?!--|\[CDATA\[)/.test(text)) throw new XmlRefused('DOCTYPE and entity declarations are not accepted');
  const pi = /<\?/g;
  for (let m = pi.exec(text); m !== null; m = pi.exec(text)) {
    const declaration = m.index === text.search(/\S/) && /^<\?xml\s/.test(text.slice(m.index, m.index + 6));
    if (!declaration) throw new XmlRefused('processing instructions are not accepted');
  }
}

/** Screens, validates and parses; every defect is an XmlRefused, never an exception of the parser. */
export function parseXml(text: string, maxBytes = SOAP_MAX_BYTES): unknown {
  screenXml(text, maxBytes);
  if (XMLValidator.validate(text) !== true) throw new XmlRefused('not well-formed XML');
  try {
    return parser.parse(text) as unknown;
  } catch {
    throw new XmlRefused('not well-formed XML');
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The one child of `node` named `name`; a repeated element is refused. */
export function child(node: unknown, name: string): unknown {
  if (!isRecord(node)) return undefined;
  const value = node[name];
  if (Array.isArray(value)) throw new XmlRefused(`element ${name} repeated`);
  return value;
}

/** Every child named `name` (zero, one or many), at most `max`. */
export function children(node: unknown, name: string, max: number): unknown[] {
  if (!isRecord(node)) return [];
  const value = node[name];
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length > max) throw new XmlRefused(`more than ${max} ${name} elements`);
  return list;
}

/** Text content of an element (plain or with attributes). */
export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (isRecord(node)) {
    const t = node['#text'];
    return typeof t === 'string' ? t : t === undefined ? '' : undefined;
  }
  return undefined;
}

export function attribute(node: unknown, name: string): string | undefined {
  if (!isRecord(node)) return undefined;
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** Escapes character data and attribute values (XML 1.0 §2.4, §3.3.3). */
export function xmlEscape(value: string | number | boolean): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
