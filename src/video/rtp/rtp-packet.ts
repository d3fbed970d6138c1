// RTP fixed header, RFC 3550 §5.1 (CSRC list §5.1, header extension §5.3.1, padding §5.1 "P").
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//  |                           timestamp                           |
//  |           synchronization source (SSRC) identifier            |
//  |            contributing source (CSRC) identifiers (CC × 32)   |
//  |  defined by profile           |           length (words)      |  (X = 1)
//  |                        header extension ...                   |
//
// Parsing fills a caller-owned RtpPacket (no allocation per packet): the payload is the range
// [payloadStart, payloadEnd) of `data`. Every length is checked against the buffer first
// (NVR-5.3.3.1a, CAM-T-com-4: malformed lengths never crash the receiver).
import { VigilError } from '../../core/errors.ts';

export const RTP_HEADER_BYTES = 12;
/** An RTP packet never exceeds what a 16-bit interleaved length can carry (RFC 2326 §10.12). */
export const RTP_MAX_PACKET_BYTES = 65_535;

export interface RtpPacket {
  data: Uint8Array;
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcCount: number;
  /** Header extension profile (the 16 bits "defined by profile"), -1 when X = 0. */
  extensionProfile: number;
  /** Offset and length in bytes of the extension data (after its 4-byte header). */
  extensionStart: number;
  extensionLength: number;
  payloadStart: number;
  payloadEnd: number;
}

export function emptyRtpPacket(): RtpPacket {
  return {
    data: new Uint8Array(0), padding: false, marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0,
    csrcCount: 0, extensionProfile: -1, extensionStart: 0, extensionLength: 0, payloadStart: 0, payloadEnd: 0,
  };
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_RTP_MALFORMED', message);
}

function u16(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

function u32(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
}

/** Parses `data` into `out` (reused by the caller); VIGIL_RTP_MALFORMED on any bad length or field. */
export function parseRtpPacket(data: Uint8Array, out: RtpPacket): RtpPacket {
  const length = data.length;
  if (length > RTP_MAX_PACKET_BYTES) throw new VigilError('VIGIL_RTP_LIMIT_EXCEEDED', 'RTP packet larger than 65535 bytes');
  if (length < RTP_HEADER_BYTES) throw malformed('RTP packet shorter than its fixed header');
  const b0 = data[0] ?? 0;
  if (b0 >> 6 !== 2) throw malformed('RTP version is not 2');
  const b1 = data[1] ?? 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + csrcCount * 4;
  if (offset > length) throw malformed('RTP CSRC list runs past the packet');
  let extensionProfile = -1;
  let extensionStart = 0;
  let extensionLength = 0;
  if ((b0 & 0x10) !== 0) {
    if (offset + 4 > length) throw malformed('RTP header extension runs past the packet');
    extensionProfile = u16(data, offset);
    extensionLength = u16(data, offset + 2) * 4;
    extensionStart = offset + 4;
    offset = extensionStart + extensionLength;
    if (offset > length) throw malformed('RTP header extension runs past the packet');
  }
  let end = length;
  const padding = (b0 & 0x20) !== 0;
  if (padding) {
    // §5.1: the last octet counts the padding octets, itself included.
    const count = data[length - 1] ?? 0;
    if (count === 0 || offset + count > length) throw malformed('RTP padding count is invalid');
    end = length - count;
  }
  out.data = data;
  out.padding = padding;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequenceNumber = u16(data, 2);
  out.timestamp = u32(data, 4);
  out.ssrc = u32(data, 8);
  out.csrcCount = csrcCount;
  out.extensionProfile = extensionProfile;
  out.extensionStart = extensionStart;
  out.extensionLength = extensionLength;
  out.payloadStart = offset;
  out.payloadEnd = end;
  return out;
}

/** The i-th CSRC of a parsed packet. */
export function rtpCsrc(packet: RtpPacket, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= packet.csrcCount) throw malformed('CSRC index out of range');
  return u32(packet.data, RTP_HEADER_BYTES + index * 4);
}

export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  extension?: { profile: number; data: Uint8Array };
  /** Padding octets to append (0 = none, 1..255). */
  paddingBytes?: number;
}

/** Bytes the header (fixed + CSRC + extension) of these fields takes. */
export function rtpHeaderLength(fields: RtpHeaderFields): number {
  const csrcs = fields.csrcs?.length ?? 0;
  const ext = fields.extension === undefined ? 0 : 4 + fields.extension.data.length;
  return RTP_HEADER_BYTES + csrcs * 4 + ext;
}

/** Writes the header at `offset` of `target`; returns the bytes written. Validates every field. */
export function writeRtpHeader(target: Uint8Array, offset: number, fields: RtpHeaderFields): number {
  const csrcs = fields.csrcs ?? [];
  const padding = fields.paddingBytes ?? 0;
  if (csrcs.length > 15) throw malformed('at most 15 CSRCs');
  if (!Number.isInteger(fields.payloadType) || fields.payloadType < 0 || fields.payloadType > 127) throw malformed('payload type is 7 bits');
  if (!Number.isInteger(padding) || padding < 0 || padding > 255) throw malformed('padding is 0..255 octets');
  const ext = fields.extension;
  if (ext !== undefined && (ext.data.length % 4 !== 0 || ext.data.length > 0xffff * 4)) throw malformed('extension data is whole 32-bit words');
  const total = rtpHeaderLength(fields);
  if (offset < 0 || offset + total > target.length) throw malformed('RTP header does not fit the target buffer');
  const view = new DataView(target.buffer, target.byteOffset + offset, total);
  view.setUint8(0, 0x80 | (padding > 0 ? 0x20 : 0) | (ext === undefined ? 0 : 0x10) | csrcs.length);
  view.setUint8(1, (fields.marker ? 0x80 : 0) | fields.payloadType);
  view.setUint16(2, fields.sequenceNumber & 0xffff);
  view.setUint32(4, fields.timestamp >>> 0);
  view.setUint32(8, fields.ssrc >>> 0);
  let at = RTP_HEADER_BYTES;
  for (const csrc of csrcs) {
    view.setUint32(at, csrc >>> 0);
    at += 4;
  }
  if (ext !== undefined) {
    view.setUint16(at, ext.profile & 0xffff);
    view.setUint16(at + 2, ext.data.length / 4);
    target.set(ext.data, offset + at + 4);
    at += 4 + ext.data.length;
  }
  return at;
}

/** A whole packet: header, payload, padding (RFC 3550 §5.1). Allocates the result once. */
export function serializeRtpPacket(fields: RtpHeaderFields, payload: Uint8Array): Buffer {
  const padding = fields.paddingBytes ?? 0;
  const header = rtpHeaderLength(fields);
  const total = header + payload.length + padding;
  if (total > RTP_MAX_PACKET_BYTES) throw new VigilError('VIGIL_RTP_LIMIT_EXCEEDED', 'RTP packet larger than 65535 bytes');
  const out = Buffer.alloc(total);
  writeRtpHeader(out, 0, fields);
  out.set(payload, header);
  if (padding > 0) out[total - 1] = padding;
  return out;
}

/** Signed distance from a to b in 16-bit sequence space (RFC 3550 App. A.1). */
export function sequenceDelta(from: number, to: number): number {
  const d = (to - from) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
