// RTSP 1.0 messages, RFC 2326 §4, §6 (request), §7 (response), §12 (headers), §10.12
// (interleaved binary data). Pure serialisers; the streaming parser is in decoder.ts.
//
//   Request-Line  = Method SP Request-URI SP RTSP-Version CRLF
//   Status-Line   = RTSP-Version SP Status-Code SP Reason-Phrase CRLF
//   header        = field-name ":" [ field-value ] CRLF     (folded lines are refused)
//   interleaved   = "$" channel(1 byte) length(2 bytes, big-endian) data(length bytes)
import { VigilError } from '../../core/errors.ts';

export type RtspHeaders = ReadonlyArray<readonly [string, string]>;

export interface RtspRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
}

export interface RtspResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
}

export type RtspMessage = RtspRequest | RtspResponse;

/** Hard caps of the parser (NVR-5.3.3.1a, ACS-5.4.1.1: bounded resources for hostile input). */
export interface RtspLimits {
  maxLineBytes: number;
  maxHeaderCount: number;
  /** Bytes of the start line and all header lines together. */
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxInterleavedBytes: number;
}

export const DEFAULT_RTSP_LIMITS: Readonly<RtspLimits> = Object.freeze({
  maxLineBytes: 4096,
  maxHeaderCount: 64,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  maxInterleavedBytes: 65_535,
});

export const RTSP_VERSION = 'RTSP/1.0';
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Any CTL except HTAB; also DEL.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export const STATUS_REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 413: 'Request Entity Too Large', 453: 'Not Enough Bandwidth', 454: 'Session Not Found',
  455: 'Method Not Valid in This State', 459: 'Aggregate Operation Not Allowed', 461: 'Unsupported Transport',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'RTSP Version Not Supported',
};

/** The first value of a header (names are case-insensitive, RFC 2326 §4.2). */
export function getHeader(headers: RtspHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

export function getHeaders(headers: RtspHeaders, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === lower) out.push(v);
  return out;
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTSP_MALFORMED', message);
}

/** A header block, refusing CR/LF/CTL in names and values (no header injection). */
function headerBlock(headers: RtspHeaders, body: Uint8Array): string {
  let text = '';
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw malformed('header name is not a token');
    if (name.toLowerCase() === 'content-length') continue;
    if (CONTROL.test(value)) throw malformed(`header ${name} contains a control character`);
    text += `${name}: ${value}\r\n`;
  }
  if (body.length > 0) text += `Content-Length: ${body.length}\r\n`;
  return text + '\r\n';
}

export function serializeRequest(method: string, uri: string, headers: RtspHeaders, body: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!TOKEN.test(method)) throw malformed('method is not a token');
  if (uri.length === 0 || /[\s\x00-\x1f\x7f]/.test(uri)) throw malformed('request URI is empty or contains whitespace');
  const head = `${method} ${uri} ${RTSP_VERSION}\r\n${headerBlock(headers, body)}`;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

export function serializeResponse(status: number, headers: RtspHeaders, body: Uint8Array = Buffer.alloc(0), reason?: string): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw malformed('status code is three digits');
  const phrase = reason ?? STATUS_REASONS[status] ?? 'Status';
  if (CONTROL.test(phrase)) throw malformed('reason phrase contains a control character');
  const head = `${RTSP_VERSION} ${status} ${phrase}\r\n${headerBlock(headers, body)}`;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Writes the 4-byte interleaved header (RFC 2326 §10.12) at `offset` of `target`. */
export function writeInterleavedHeader(target: Uint8Array, offset: number, channel: number, length: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw malformed('interleaved channel is one byte');
  if (!Number.isInteger(length) || length < 0 || length > 65_535) throw new VigilError('VIGIL_RTSP_LIMIT_EXCEEDED', 'interleaved frame larger than 65535 bytes');
  if (offset < 0 || offset + 4 > target.length) throw malformed('interleaved header does not fit');
  target[offset] = 0x24;
  target[offset + 1] = channel;
  target[offset + 2] = length >> 8;
  target[offset + 3] = length & 0xff;
}

export function serializeInterleaved(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  writeInterleavedHeader(out, 0, channel, payload.length);
  out.set(payload, 4);
  return out;
}
