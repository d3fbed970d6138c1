// Reads a segment file back: every record authenticated as it is opened (a changed byte fails
// there and then — NVR-5.2.8.1b on read), lengths checked before anything is allocated.
import { createHash } from 'node:crypto';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { SEAL_OVERHEAD, open as openSealed } from '../../crypto/aead.ts';
import { isVigilError, VigilError } from '../../core/errors.ts';
import { checkFileHeader, decodeRecordHeader, FILE_HEADER_BYTES, RECORD_HEADER_BYTES, recordAad, type RecordKind } from './segment-format.ts';

export interface SegmentRecord {
  kind: RecordKind;
  index: number;
  /** Relative to the segment start. */
  startMs: number;
  durationMs: number;
  payload: Buffer;
}

/** Where a read stopped: a clean end of file, or the first record that did not check out. */
export interface ScanResult {
  /** Bytes from the start of the file up to the end of the last good record. */
  goodBytes: number;
  records: number;
  fragments: number;
  /** End of the last good fragment, relative to the segment start. */
  endMs: number;
  problem: string | null;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer | undefined> {
  const buffer = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, got, length - got, position + got);
    if (bytesRead === 0) return undefined;
    got += bytesRead;
  }
  return buffer;
}

export interface ReadOptions {
  /** Skip fragments that end at or before this (ms from the segment start); the init is always read. */
  fromMs?: number;
  /** The segment is still being written: a record not yet complete ends the read instead of failing it. */
  open?: boolean;
}

/**
 * The records of a segment file in order. Throws VIGIL_VIDEO_SEGMENT_TAMPERED when a record fails
 * authentication and VIGIL_VIDEO_SEGMENT_MALFORMED when the structure is broken.
 */
export async function* readSegmentFile(file: string, segmentId: string, dek: Buffer, options: ReadOptions = {}): AsyncGenerator<SegmentRecord> {
  const handle = await openFile(file, 'r');
  try {
    const header = await readExactly(handle, FILE_HEADER_BYTES, 0);
    if (header === undefined) throw new VigilError('VIGIL_VIDEO_SEGMENT_MALFORMED', 'segment file is shorter than its header');
    checkFileHeader(header, segmentId);
    let at = FILE_HEADER_BYTES;
    for (let expected = 0; ; expected++) {
      const rawHeader = await readExactly(handle, RECORD_HEADER_BYTES, at);
      if (rawHeader === undefined) return;
      const h = decodeRecordHeader(rawHeader);
      if (h.index !== expected) throw new VigilError('VIGIL_VIDEO_SEGMENT_TAMPERED', `record ${expected} carries index ${h.index}`);
      const sealed = await readExactly(handle, h.sealedLength, at + RECORD_HEADER_BYTES);
      if (sealed === undefined) {
        if (options.open === true) return; // the writer is still appending it
        throw new VigilError('VIGIL_VIDEO_SEGMENT_MALFORMED', `record ${expected} is truncated`);
      }
      at += RECORD_HEADER_BYTES + h.sealedLength;
      // Fragments wholly before the requested start are skipped unopened; the init never is.
      if (h.kind === 'fragment' && options.fromMs !== undefined && h.startMs + h.durationMs <= options.fromMs) continue;
      let payload: Buffer;
      try {
        payload = openSealed(dek, sealed, recordAad(segmentId, rawHeader));
      } catch (err) {
        throw new VigilError('VIGIL_VIDEO_SEGMENT_TAMPERED', `record ${expected} of segment ${segmentId} failed authentication`, { cause: err });
      }
      yield { kind: h.kind, index: h.index, startMs: h.startMs, durationMs: h.durationMs, payload };
    }
  } finally {
    await handle.close();
  }
}

/** Walks a (possibly torn) file and reports how much of it is good: crash recovery. */
export async function scanSegmentFile(file: string, segmentId: string, dek: Buffer): Promise<ScanResult> {
  const result: ScanResult = { goodBytes: 0, records: 0, fragments: 0, endMs: 0, problem: null };
  try {
    for await (const r of readSegmentFile(file, segmentId, dek)) {
      result.records++;
      if (r.kind === 'fragment') {
        result.fragments++;
        result.endMs = Math.max(result.endMs, r.startMs + r.durationMs);
      }
      result.goodBytes += RECORD_HEADER_BYTES + r.payload.length + SEAL_OVERHEAD;
    }
  } catch (err) {
    if (!isVigilError(err)) throw err;
    result.problem = err.message;
  }
  if (result.records > 0) result.goodBytes += FILE_HEADER_BYTES;
  return result;
}

export async function sha256File(file: string): Promise<string> {
  const handle = await openFile(file, 'r');
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}
