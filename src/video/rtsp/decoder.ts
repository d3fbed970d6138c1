// Streaming RTSP decoder (RFC 2326 §4, §10.12): RTSP messages and `$`-framed interleaved binary
// data mixed on one TCP stream, fed chunk by chunk. Memory is bounded: the buffer never holds
// more than one message head + body or one interleaved frame (NVR-5.3.3.1a, CAM-T-com-4). Any
// violation throws a coded VigilError and the decoder stays failed: the caller drops the
// connection. Interleaved payloads are views valid only during the callback (no copy per packet).
import { VigilError } from '../../core/errors.ts';
import { DEFAULT_RTSP_LIMITS, RTSP_VERSION, TOKEN, type RtspLimits, type RtspMessage } from './message.ts';

export interface RtspDecoderSink {
  onMessage(message: RtspMessage): void;
  onInterleaved(channel: number, payload: Buffer): void;
}

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const INITIAL_CAPACITY = 4096;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s\x00-\x1f\x7f]+) RTSP\/1\.0$/;
const STATUS_LINE = /^RTSP\/1\.0 ([1-9]\d\d) ([^\x00-\x08\x0a-\x1f\x7f]*)$/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function limit(message: string): VigilError {
  return new VigilError('VIGIL_RTSP_LIMIT_EXCEEDED', message);
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTSP_MALFORMED', message);
}

export class RtspDecoder {
  private readonly sink: RtspDecoderSink;
  private readonly limits: RtspLimits;
  private readonly capacity: number;
  private buffer: Buffer = Buffer.alloc(0);
  private length = 0;
  /** Bytes of the current message head already searched for its end. */
  private headScanned = 0;
  private failure: VigilError | undefined;

  constructor(sink: RtspDecoderSink, limits: Partial<RtspLimits> = {}) {
    this.sink = sink;
    this.limits = { ...DEFAULT_RTSP_LIMITS, ...limits };
    const l = this.limits;
    if (l.maxInterleavedBytes > 65_535 || l.maxLineBytes > l.maxHeaderBytes) throw malformed('inconsistent RTSP limits');
    this.capacity = Math.max(l.maxHeaderBytes + l.maxBodyBytes, 4 + l.maxInterleavedBytes);
  }

  get bufferedBytes(): number {
    return this.length;
  }

  /** Decodes a chunk; throws (and stays failed) on malformed or oversized input. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.pushChunk(chunk);
    } catch (err) {
      this.failure = err instanceof VigilError ? err : malformed('RTSP decoding failed');
      this.buffer = Buffer.alloc(0);
      this.length = 0;
      throw this.failure;
    }
  }

  private pushChunk(chunk: Uint8Array): void {
    let offset = 0;
    if (this.length === 0) {
      // Fast path: decode straight from the chunk, keep only the incomplete tail.
      const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      offset = this.decode(view, 0, view.length);
      if (offset === view.length) return;
      this.store(view, offset, view.length);
      return;
    }
    while (offset < chunk.length) {
      const room = this.capacity - this.length;
      if (room === 0) throw limit('RTSP frame larger than the decoder limits');
      const n = Math.min(room, chunk.length - offset);
      this.store(chunk, offset, offset + n);
      offset += n;
      const used = this.decode(this.buffer, 0, this.length);
      if (used > 0) {
        this.buffer.copyWithin(0, used, this.length);
        this.length -= used;
      }
    }
  }

  private store(src: Uint8Array, start: number, end: number): void {
    const needed = this.length + end - start;
    if (needed > this.capacity) throw limit('RTSP frame larger than the decoder limits');
    if (needed > this.buffer.length) {
      let size = Math.max(INITIAL_CAPACITY, this.buffer.length * 2);
      while (size < needed) size *= 2;
      const next = Buffer.allocUnsafe(Math.min(size, this.capacity));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    this.buffer.set(src.subarray(start, end), this.length);
    this.length = needed;
  }

  /** Decodes whole frames in [start, end); returns the offset of the first undecoded byte. */
  private decode(buf: Buffer, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      const first = buf[pos];
      if (first === CR || first === LF) {
        pos += 1; // stray line ends between messages are tolerated (and bounded by the buffer)
        continue;
      }
      if (first === DOLLAR) {
        if (end - pos < 4) return pos;
        const size = ((buf[pos + 2] ?? 0) << 8) | (buf[pos + 3] ?? 0);
        if (size > this.limits.maxInterleavedBytes) throw limit('interleaved frame larger than the limit');
        if (end - pos < 4 + size) return pos;
        this.sink.onInterleaved(buf[pos + 1] ?? 0, buf.subarray(pos + 4, pos + 4 + size));
        pos += 4 + size;
        continue;
      }
      const used = this.decodeMessage(buf, pos, end);
      if (used === 0) return pos;
      pos += used;
    }
    return pos;
  }

  /** One message at `pos`, or 0 when it is not complete yet. */
  private decodeMessage(buf: Buffer, pos: number, end: number): number {
    const headEnd = this.findHeadEnd(buf, pos, end);
    if (headEnd < 0) {
      if (end - pos > this.limits.maxHeaderBytes) throw limit('RTSP message head larger than the limit');
      return 0;
    }
    if (headEnd - pos > this.limits.maxHeaderBytes) throw limit('RTSP message head larger than the limit');
    const head = parseHead(buf, pos, headEnd, this.limits);
    if (end - headEnd < head.contentLength) {
      if (head.contentLength > this.limits.maxBodyBytes) throw limit('RTSP body larger than the limit');
      return 0;
    }
    this.headScanned = 0;
    const body = Buffer.from(buf.subarray(headEnd, headEnd + head.contentLength));
    this.sink.onMessage(head.kind === 'request'
      ? { kind: 'request', method: head.method, uri: head.uri, headers: head.headers, body }
      : { kind: 'response', status: head.status, reason: head.reason, headers: head.headers, body });
    return headEnd + head.contentLength - pos;
  }

  /** Offset just after the empty line ending the head, or -1. Resumes where it stopped. */
  private findHeadEnd(buf: Buffer, pos: number, end: number): number {
    let i = pos + Math.max(0, this.headScanned - 2);
    while (i < end) {
      const lf = buf.indexOf(LF, i);
      if (lf < 0 || lf >= end) break;
      if (buf[lf + 1] === LF && lf + 1 < end) return lf + 2;
      if (buf[lf + 1] === CR && buf[lf + 2] === LF && lf + 2 < end) return lf + 3;
      i = lf + 1;
    }
    this.headScanned = end - pos;
    return -1;
  }
}

interface ParsedHead {
  kind: 'request' | 'response';
  method: string;
  uri: string;
  status: number;
  reason: string;
  headers: Array<readonly [string, string]>;
  contentLength: number;
}

function parseHead(buf: Buffer, start: number, end: number, limits: RtspLimits): ParsedHead {
  const lines = splitLines(buf, start, end, limits.maxLineBytes);
  const startLine = lines[0] ?? '';
  const head: ParsedHead = { kind: 'request', method: '', uri: '', status: 0, reason: '', headers: [], contentLength: 0 };
  const request = REQUEST_LINE.exec(startLine);
  const status = request === null ? STATUS_LINE.exec(startLine) : null;
  if (request !== null) {
    head.method = request[1] ?? '';
    head.uri = request[2] ?? '';
  } else if (status !== null) {
    head.kind = 'response';
    head.status = Number(status[1]);
    head.reason = status[2] ?? '';
  } else {
    throw malformed(startLine.includes('RTSP/') && !startLine.includes(RTSP_VERSION) ? 'unsupported RTSP version' : 'malformed RTSP start line');
  }
  if (lines.length - 1 > limits.maxHeaderCount) throw limit('too many RTSP headers');
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line.startsWith(' ') || line.startsWith('\t')) throw malformed('folded RTSP header lines are not accepted');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw malformed('malformed RTSP header line');
    const value = line.slice(colon + 1).trim();
    if (CONTROL.test(value)) throw malformed('control character in an RTSP header');
    if (name.toLowerCase() === 'content-length') head.contentLength = contentLength(value, head.contentLength, i, limits);
    head.headers.push([name, value]);
  }
  return head;
}

function contentLength(value: string, previous: number, index: number, limits: RtspLimits): number {
  if (!/^\d{1,10}$/.test(value)) throw malformed('Content-Length is not a number');
  const n = Number(value);
  if (index > 0 && previous !== 0 && previous !== n) throw malformed('conflicting Content-Length headers');
  if (n > limits.maxBodyBytes) throw limit('RTSP body larger than the limit');
  return n;
}

/** Lines of the head (without the final empty line), CRLF or bare LF. */
function splitLines(buf: Buffer, start: number, end: number, maxLineBytes: number): string[] {
  const lines: string[] = [];
  let at = start;
  while (at < end) {
    let lf = buf.indexOf(LF, at);
    if (lf < 0 || lf >= end) lf = end;
    let lineEnd = lf;
    if (lineEnd > at && buf[lineEnd - 1] === CR) lineEnd -= 1;
    if (lineEnd - at > maxLineBytes) throw limit('RTSP line longer than the limit');
    if (lineEnd === at) break;
    lines.push(buf.toString('utf8', at, lineEnd));
    at = lf + 1;
  }
  return lines;
}
