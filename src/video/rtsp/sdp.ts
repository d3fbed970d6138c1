// SDP (RFC 8866, formerly RFC 4566) — only what RTSP needs (RFC 2326 App. C): media lines,
// a=rtpmap, a=fmtp (RFC 6184 §8.1 sprop-parameter-sets, RFC 7798 §7.1 sprop-vps/sps/pps,
// RFC 3640 §4.1 AAC parameters), a=control URLs (RFC 2326 C.1.1). Bounded in lines, media and
// parameters; anything malformed is VIGIL_SDP_MALFORMED.
import { VigilError } from '../../core/errors.ts';

export const SDP_LIMITS = Object.freeze({ maxBytes: 64 * 1024, maxLines: 512, maxLineBytes: 4096, maxMedia: 16, maxFmtpParams: 64, maxParameterSetBytes: 4096 });

export interface SdpRtpMap {
  encoding: string;
  clockRate: number;
  channels: number | undefined;
}

export interface SdpMedia {
  type: string;
  port: number;
  protocol: string;
  formats: number[];
  control: string | undefined;
  rtpmap: Map<number, SdpRtpMap>;
  /** fmtp parameters per payload type; names lower-cased. */
  fmtp: Map<number, Map<string, string>>;
}

export interface SessionDescription {
  sessionName: string;
  control: string | undefined;
  media: SdpMedia[];
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_SDP_MALFORMED', message);
}

function payloadType(text: string): number {
  if (!/^\d{1,3}$/.test(text)) throw malformed('payload type is not a number');
  const n = Number(text);
  if (n > 127) throw malformed('payload type out of range');
  return n;
}

export function parseSdp(text: string): SessionDescription {
  if (Buffer.byteLength(text, 'utf8') > SDP_LIMITS.maxBytes) throw malformed('SDP larger than the limit');
  const lines = text.split(/\r?\n/);
  if (lines.length > SDP_LIMITS.maxLines) throw malformed('SDP has too many lines');
  const result: SessionDescription = { sessionName: '', control: undefined, media: [] };
  let media: SdpMedia | undefined;
  for (const raw of lines) {
    if (raw.length === 0) continue;
    if (raw.length > SDP_LIMITS.maxLineBytes) throw malformed('SDP line longer than the limit');
    if (!/^[a-z]=/.test(raw)) throw malformed('SDP line is not <type>=<value>');
    const type = raw[0];
    const value = raw.slice(2);
    if (type === 'v' && value !== '0') throw malformed('SDP version is not 0');
    if (type === 's' && media === undefined) result.sessionName = value;
    if (type === 'm') {
      if (result.media.length >= SDP_LIMITS.maxMedia) throw malformed('SDP has too many media');
      media = parseMediaLine(value);
      result.media.push(media);
    }
    if (type === 'a') parseAttribute(value, result, media);
  }
  if (!text.startsWith('v=')) throw malformed('SDP does not start with v=');
  return result;
}

function parseMediaLine(value: string): SdpMedia {
  const parts = value.split(' ');
  if (parts.length < 4) throw malformed('m= line needs media, port, protocol and formats');
  const [type = '', portText = '', protocol = ''] = parts;
  const port = Number(portText.split('/')[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw malformed('m= port is invalid');
  const formats = parts.slice(3).filter((f) => f.length > 0);
  return {
    type, port, protocol, control: undefined, rtpmap: new Map(), fmtp: new Map(),
    formats: protocol.includes('RTP') ? formats.map(payloadType) : [],
  };
}

function parseAttribute(value: string, session: SessionDescription, media: SdpMedia | undefined): void {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const arg = colon < 0 ? '' : value.slice(colon + 1);
  if (name === 'control') {
    if (media === undefined) session.control = arg;
    else media.control = arg;
    return;
  }
  if (media === undefined) return;
  if (name === 'rtpmap') {
    const m = /^(\d{1,3}) ([^/\s]+)\/(\d{1,9})(?:\/(\d{1,2}))?$/.exec(arg.trim());
    if (m === null) throw malformed('a=rtpmap is malformed');
    media.rtpmap.set(payloadType(m[1] ?? ''), { encoding: (m[2] ?? '').toUpperCase(), clockRate: Number(m[3]), channels: m[4] === undefined ? undefined : Number(m[4]) });
  } else if (name === 'fmtp') {
    const m = /^(\d{1,3}) (.*)$/.exec(arg);
    if (m === null) throw malformed('a=fmtp is malformed');
    media.fmtp.set(payloadType(m[1] ?? ''), parseFmtp(m[2] ?? ''));
  }
}

/** `key=value;key=value` (RFC 6184 §8.1); names lower-cased, values trimmed. */
export function parseFmtp(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of text.split(';')) {
    const item = part.trim();
    if (item.length === 0) continue;
    if (params.size >= SDP_LIMITS.maxFmtpParams) throw malformed('a=fmtp has too many parameters');
    const eq = item.indexOf('=');
    if (eq <= 0) params.set(item.toLowerCase(), '');
    else params.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  return params;
}

/** Comma-separated base64 NAL units (sprop-parameter-sets, sprop-vps/sps/pps). */
export function parseParameterSets(value: string | undefined): Buffer[] {
  if (value === undefined || value.length === 0) return [];
  return value.split(',').map((b64) => {
    const text = b64.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw malformed('parameter set is not base64');
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 0 || bytes.length > SDP_LIMITS.maxParameterSetBytes) throw malformed('parameter set size is invalid');
    return bytes;
  });
}

/** Resolves a=control against the base URL (RFC 2326 C.1.1: absolute, "*", or relative). */
export function resolveControl(base: string, control: string | undefined): string {
  if (control === undefined || control === '' || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  const withSlash = base.endsWith('/') ? base : `${base}/`;
  return withSlash + control.replace(/^\/+/, '');
}

export interface SdpMediaDescription {
  type: 'video' | 'audio';
  payloadType: number;
  encoding: string;
  clockRate: number;
  fmtp: ReadonlyArray<readonly [string, string]>;
  control: string;
}

/** A minimal SDP for an RTSP server's DESCRIBE answer (RFC 2326 App. C). */
export function serializeSdp(sessionId: string, address: string, media: readonly SdpMediaDescription[]): string {
  const lines = ['v=0', `o=- ${sessionId} 1 IN ${address.includes(':') ? 'IP6' : 'IP4'} ${address}`, 's=Vigil', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*', 'a=range:npt=now-'];
  for (const m of media) {
    lines.push(`m=${m.type} 0 RTP/AVP ${m.payloadType}`, `a=rtpmap:${m.payloadType} ${m.encoding}/${m.clockRate}`);
    if (m.fmtp.length > 0) lines.push(`a=fmtp:${m.payloadType} ${m.fmtp.map(([k, v]) => `${k}=${v}`).join(';')}`);
    lines.push(`a=control:${m.control}`);
  }
  return lines.join('\r\n') + '\r\n';
}
