// The client's side of ONVIF Profile S (ONVIF Core §5.1, §5.11, §8.1.2 GetDeviceInformation,
// §8.1.2.2 GetCapabilities; ONVIF Media WSDL ver10 GetProfiles, GetStreamUri): pure
// serialize(request) → SOAP text and parse(answer text) → value, no I/O. Answers are untrusted:
// parsed with the hardened XML of xml.ts, every string bounded and checked, every list capped.
import { XmlRefused, attribute, child, children, isRecord, parseXml, text, xmlEscape } from './xml.ts';

export const NS_DEVICE = 'http://www.onvif.org/ver10/device/wsdl';
export const NS_MEDIA = 'http://www.onvif.org/ver10/media/wsdl';
export const NS_SCHEMA = 'http://www.onvif.org/ver10/schema';
export const DEFAULT_DEVICE_PATH = '/onvif/device_service';
export const DEFAULT_MEDIA_PATH = '/onvif/media_service';
/** A camera with more profiles than this is refused rather than listed partly. */
export const MAX_PROFILES = 32;
const MAX_FIELD = 256;
const MAX_URI = 1024;

/** Why an answer could not be used. `fault` carries the SOAP fault (SOAP 1.2 §5.4.6). */
export class OnvifAnswerError extends Error {
  readonly kind: 'not-soap' | 'fault' | 'malformed';
  readonly subcode: string | undefined;
  constructor(kind: 'not-soap' | 'fault' | 'malformed', message: string, subcode?: string) {
    super(message);
    this.name = 'OnvifAnswerError';
    this.kind = kind;
    this.subcode = subcode;
  }
  /** ter:NotAuthorized (ONVIF Core §5.11.2.2) — the credentials were refused. */
  get notAuthorized(): boolean {
    return this.kind === 'fault' && /(^|[:/])NotAuthorized(\/|$)/.test(this.subcode ?? '');
  }
}

// --- requests ------------------------------------------------------------------------------

/** A SOAP 1.2 envelope with an optional WS-Security header around one operation element. */
export function soapRequest(operationXml: string, security = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${security}</s:Header><s:Body>${operationXml}</s:Body></s:Envelope>`;
}

export function deviceInformationRequest(security: string): string {
  return soapRequest(`<GetDeviceInformation xmlns="${NS_DEVICE}"/>`, security);
}

export function capabilitiesRequest(security: string): string {
  return soapRequest(`<GetCapabilities xmlns="${NS_DEVICE}"><Category>Media</Category></GetCapabilities>`, security);
}

export function profilesRequest(security: string): string {
  return soapRequest(`<GetProfiles xmlns="${NS_MEDIA}"/>`, security);
}

/** RTP unicast over RTSP (TCP interleaved): the only transport the recorder speaks. */
export function streamUriRequest(profileToken: string, security: string): string {
  return soapRequest(
    `<GetStreamUri xmlns="${NS_MEDIA}"><StreamSetup><Stream xmlns="${NS_SCHEMA}">RTP-Unicast</Stream><Transport xmlns="${NS_SCHEMA}"><Protocol>RTSP</Protocol></Transport></StreamSetup><ProfileToken>${xmlEscape(profileToken)}</ProfileToken></GetStreamUri>`,
    security,
  );
}

// --- answers -------------------------------------------------------------------------------

function malformed(message: string): OnvifAnswerError {
  return new OnvifAnswerError('malformed', message);
}

function guarded<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof XmlRefused) throw malformed(err.message);
    throw err;
  }
}

/** Printable text of at most `max` characters, or undefined. */
function field(node: unknown, max = MAX_FIELD): string | undefined {
  const value = text(node);
  if (value === undefined || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
  return value;
}

/**
 * The body of `<{operation}Response>`, or an OnvifAnswerError: `not-soap` for anything that is
 * not a SOAP envelope (a web page, garbage), `fault` for a SOAP fault with its subcode.
 */
export function parseAnswer(raw: string, operation: string): Record<string, unknown> {
  return guarded(() => {
    let doc: unknown;
    try {
      doc = parseXml(raw);
    } catch (err) {
      if (err instanceof XmlRefused && err.message === 'not well-formed XML' && !/<(?:[\w-]+:)?Envelope[\s>/]/.test(raw.slice(0, 4096))) throw new OnvifAnswerError('not-soap', 'the answer is not SOAP');
      throw err;
    }
    const envelope = child(doc, 'Envelope');
    if (!isRecord(envelope)) throw new OnvifAnswerError('not-soap', 'the answer is not SOAP');
    const body = child(envelope, 'Body');
    if (!isRecord(body)) throw malformed('no SOAP Body');
    const fault = child(body, 'Fault');
    if (fault !== undefined) {
      const sub = child(child(fault, 'Code'), 'Subcode');
      // ter:NotAuthorized, ter:InvalidArgVal…; the nested subcode refines it (ter:NoProfile…).
      const subcodes = [field(child(sub, 'Value'), 128), field(child(child(sub, 'Subcode'), 'Value'), 128)].filter((v) => v !== undefined);
      const reason = field(child(child(fault, 'Reason'), 'Text'), 512) ?? 'SOAP fault';
      throw new OnvifAnswerError('fault', reason, subcodes.join('/'));
    }
    const answer = child(body, `${operation}Response`);
    if (answer === undefined) throw malformed(`no ${operation}Response in the answer`);
    return isRecord(answer) ? answer : {};
  });
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export function parseDeviceInformation(raw: string): DeviceInformation {
  const r = parseAnswer(raw, 'GetDeviceInformation');
  return guarded(() => ({
    manufacturer: field(child(r, 'Manufacturer')) ?? '',
    model: field(child(r, 'Model')) ?? '',
    firmwareVersion: field(child(r, 'FirmwareVersion')) ?? '',
    serialNumber: field(child(r, 'SerialNumber')) ?? '',
    hardwareId: field(child(r, 'HardwareId')) ?? '',
  }));
}

/** The path of the media service XAddr (the host is never taken from the answer: see the caller). */
export function parseMediaPath(raw: string): string | undefined {
  const r = parseAnswer(raw, 'GetCapabilities');
  return guarded(() => {
    const xaddr = field(child(child(child(r, 'Capabilities'), 'Media'), 'XAddr'), MAX_URI);
    if (xaddr === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(xaddr);
    } catch {
      return undefined;
    }
    return /^\/[\w./-]{0,255}$/.test(url.pathname) && !url.pathname.includes('..') ? url.pathname : undefined;
  });
}

export interface MediaProfile {
  token: string;
  name: string;
  /** 'H264', 'H265' (Media2 names), 'JPEG', 'MPEG4', or '' when the profile has no video encoder. */
  encoding: string;
  width: number | null;
  height: number | null;
}

function dimension(node: unknown): number | null {
  const t = field(node, 6);
  return t !== undefined && /^\d{1,5}$/.test(t) ? Number(t) : null;
}

export function parseProfiles(raw: string): MediaProfile[] {
  const r = parseAnswer(raw, 'GetProfiles');
  return guarded(() =>
    children(r, 'Profiles', MAX_PROFILES).map((p) => {
      const token = attribute(p, 'token');
      if (token === undefined || !/^[\w.:-]{1,64}$/.test(token)) throw malformed('a profile token is missing or not a plain name');
      const encoder = child(p, 'VideoEncoderConfiguration');
      const resolution = child(encoder, 'Resolution');
      return {
        token,
        name: field(child(p, 'Name'), 64) ?? token,
        encoding: field(child(encoder, 'Encoding'), 16) ?? '',
        width: dimension(child(resolution, 'Width')),
        height: dimension(child(resolution, 'Height')),
      };
    }),
  );
}

/** The stream URI: rtsp:// or rtsps://, no user info, no fragment. */
export function parseStreamUri(raw: string): URL {
  const r = parseAnswer(raw, 'GetStreamUri');
  return guarded(() => {
    const value = field(child(child(r, 'MediaUri'), 'Uri'), MAX_URI);
    if (value === undefined || value === '') throw malformed('no stream URI in the answer');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw malformed('the stream URI is not a URL');
    }
    if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') throw malformed('the stream URI is not rtsp:// or rtsps://');
    if (url.hostname === '') throw malformed('the stream URI has no host');
    // Credentials never travel in a URL we store or log (NVR-5.2.4.1a).
    url.username = '';
    url.password = '';
    url.hash = '';
    return url;
  });
}
