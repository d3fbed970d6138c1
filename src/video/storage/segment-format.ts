// The segment file: what a recording volume holds, sealed record by record so playback can seek
// without decrypting a whole segment, and so a copied volume shows no video (NVR-5.1.2.1b).
//
// File header (32 bytes):
//   +----------------+---------+--------+------------------+
//   | "VIGILSEG" (8) | ver (2) | 0 (6)  | segment id (16)  |
//   +----------------+---------+--------+------------------+
// Record header (20 bytes), then `sealedLength` bytes of AES-256-GCM output (src/crypto/aead):
//   +----------+-------+-----------+---------------+----------------+------------------+
//   | kind (1) | 0 (3) | index (4) | startMs (4)   | durationMs (4) | sealedLength (4) |
//   +----------+-------+-----------+---------------+----------------+------------------+
// Integers are big-endian. `startMs` is relative to the segment start. The record is sealed with
// the segment's key and AAD = segment id + record header, so a record cannot be altered, moved
// to another position or into another segment without failing authentication.
import { VigilError } from '../../core/errors.ts';

export const FILE_MAGIC = Buffer.from('VIGILSEG', 'ascii');
export const FILE_VERSION = 1;
export const FILE_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 20;
/** No record (an init segment or one fMP4 fragment, sealed) is larger than this. */
export const MAX_SEALED_RECORD_BYTES = 64 * 1024 * 1024;

export const RECORD_KINDS = { init: 1, fragment: 2 } as const;
export type RecordKind = keyof typeof RECORD_KINDS;

export interface RecordHeader {
  kind: RecordKind;
  index: number;
  startMs: number;
  durationMs: number;
  sealedLength: number;
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_VIDEO_SEGMENT_MALFORMED', message);
}

/** 16 bytes of a UUID, the binding of every record to its segment. */
export function segmentIdBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw malformed('segment id is not a UUID');
  return Buffer.from(hex, 'hex');
}

export function encodeFileHeader(segmentId: string): Buffer {
  const out = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(out, 0);
  out.writeUInt16BE(FILE_VERSION, 8);
  segmentIdBytes(segmentId).copy(out, 16);
  return out;
}

/** Checks the header against the segment it must belong to. */
export function checkFileHeader(bytes: Buffer, segmentId: string): void {
  if (bytes.length < FILE_HEADER_BYTES) throw malformed('segment file is shorter than its header');
  if (!bytes.subarray(0, 8).equals(FILE_MAGIC)) throw malformed('not a Vigil segment file');
  if (bytes.readUInt16BE(8) !== FILE_VERSION) throw malformed(`unknown segment file version ${bytes.readUInt16BE(8)}`);
  if (!bytes.subarray(16, 32).equals(segmentIdBytes(segmentId))) throw malformed('segment file belongs to another segment');
}

export function encodeRecordHeader(h: RecordHeader): Buffer {
  checkRecordFields(h);
  const out = Buffer.alloc(RECORD_HEADER_BYTES);
  out.writeUInt8(RECORD_KINDS[h.kind], 0);
  out.writeUInt32BE(h.index, 4);
  out.writeUInt32BE(h.startMs, 8);
  out.writeUInt32BE(h.durationMs, 12);
  out.writeUInt32BE(h.sealedLength, 16);
  return out;
}

export function decodeRecordHeader(bytes: Buffer): RecordHeader {
  if (bytes.length < RECORD_HEADER_BYTES) throw malformed('truncated record header');
  const code = bytes.readUInt8(0);
  const kind = code === RECORD_KINDS.init ? 'init' : code === RECORD_KINDS.fragment ? 'fragment' : undefined;
  if (kind === undefined) throw malformed(`unknown record kind ${code}`);
  if (bytes.readUInt8(1) !== 0 || bytes.readUInt16BE(2) !== 0) throw malformed('reserved record bytes are not zero');
  const h: RecordHeader = { kind, index: bytes.readUInt32BE(4), startMs: bytes.readUInt32BE(8), durationMs: bytes.readUInt32BE(12), sealedLength: bytes.readUInt32BE(16) };
  checkRecordFields(h);
  return h;
}

function checkRecordFields(h: RecordHeader): void {
  if (h.sealedLength < 1 || h.sealedLength > MAX_SEALED_RECORD_BYTES) throw malformed(`record length ${h.sealedLength} outside 1..${MAX_SEALED_RECORD_BYTES}`);
  for (const [name, v] of [['index', h.index], ['startMs', h.startMs], ['durationMs', h.durationMs]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw malformed(`record ${name} ${v} out of range`);
  }
}

/** The additional authenticated data of a record: its segment and its own header. */
export function recordAad(segmentId: string, header: Buffer): Buffer {
  return Buffer.concat([segmentIdBytes(segmentId), header]);
}
