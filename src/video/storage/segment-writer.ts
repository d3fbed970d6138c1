// Writes one segment to every volume of the mirror set at once: each record sealed with the
// segment's own key, the same bytes to each copy, the running SHA-256 kept for the catalog.
// A copy that fails to write is dropped and its volume marked failed; recording goes on as long
// as one copy is left (NVR-5.1.5.2a/b). Appends are serialised; none is lost silently.
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SEAL_OVERHEAD, sealParts } from '../../crypto/aead.ts';
import { VigilError } from '../../core/errors.ts';
import { encodeFileHeader, encodeRecordHeader, recordAad, type RecordKind } from './segment-format.ts';
import { segmentPath, type VolumeSet, type VolumeStatus } from './volumes.ts';

export interface SegmentTotals {
  fragments: number;
  bytes: number;
  hash: string;
  /** Epoch ms at which the last fragment ends. */
  endedAt: number;
  volumes: string[];
}

interface Copy {
  volume: VolumeStatus;
  file: string;
  handle: FileHandle;
}

export class SegmentWriter {
  readonly id: string;
  readonly cameraId: string;
  readonly startedAt: number;
  readonly #dek: Buffer;
  readonly #volumes: VolumeSet;
  readonly #sync: boolean;
  readonly #copies: Copy[] = [];
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #records = 0;
  #fragments = 0;
  #endedAt: number;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(o: { id: string; cameraId: string; startedAt: number; dek: Buffer; volumes: VolumeSet; sync: boolean }) {
    this.id = o.id;
    this.cameraId = o.cameraId;
    this.startedAt = o.startedAt;
    this.#endedAt = o.startedAt;
    this.#dek = o.dek;
    this.#volumes = o.volumes;
    this.#sync = o.sync;
  }

  /** Creates the file on each target volume and writes the header and the sealed init segment. */
  static async create(o: { id: string; cameraId: string; startedAt: number; dek: Buffer; volumes: VolumeSet; targets: VolumeStatus[]; sync: boolean; init: Buffer }): Promise<SegmentWriter> {
    const writer = new SegmentWriter(o);
    for (const volume of o.targets) {
      try {
        await writer.#openCopy(volume);
      } catch (err) {
        o.volumes.fail(volume.id, `cannot create segment file: ${(err as Error).message}`);
      }
    }
    if (writer.#copies.length === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'no recording volume could take a new segment');
    await writer.#write([encodeFileHeader(o.id)]);
    await writer.#append('init', o.init, 0, 0);
    return writer;
  }

  get volumeIds(): string[] {
    return this.#copies.map((c) => c.volume.id);
  }

  get fragments(): number {
    return this.#fragments;
  }

  /** Appends one fMP4 fragment that starts at `startedAt` (epoch ms). */
  appendFragment(payload: Buffer, startedAt: number, durationMs: number): Promise<void> {
    return this.#enqueue(async () => {
      await this.#append('fragment', payload, Math.max(0, startedAt - this.startedAt), durationMs);
      this.#fragments++;
      this.#endedAt = Math.max(this.#endedAt, startedAt + durationMs);
    });
  }

  /** A spare joins: the bytes written so far are copied from a surviving copy, then it follows. */
  addCopy(volume: VolumeStatus): Promise<void> {
    return this.#enqueue(async () => {
      const source = this.#copies.find((c) => c.volume.state === 'online');
      if (source === undefined) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'no surviving copy to rebuild from');
      const copy = await this.#openCopy(volume);
      const buffer = Buffer.alloc(1024 * 1024);
      for (let at = 0; at < this.#bytes; ) {
        const { bytesRead } = await source.handle.read(buffer, 0, Math.min(buffer.length, this.#bytes - at), at);
        if (bytesRead === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', 'surviving copy is shorter than written');
        await copy.handle.write(buffer.subarray(0, bytesRead), 0, bytesRead, at);
        at += bytesRead;
      }
      await copy.handle.datasync();
    });
  }

  /** A volume left the mirror set (probe failure): stop writing to it. */
  dropVolume(volumeId: string): Promise<void> {
    return this.#enqueue(async () => {
      const at = this.#copies.findIndex((c) => c.volume.id === volumeId);
      if (at < 0) return;
      const [copy] = this.#copies.splice(at, 1);
      await copy?.handle.close().catch(() => undefined);
    });
  }

  /** Finishes the segment; the caller signs the totals into the catalog. */
  close(): Promise<SegmentTotals> {
    return this.#enqueue(async () => {
      const volumes = this.volumeIds;
      this.#closed = true;
      for (const c of this.#copies.splice(0)) await c.handle.close().catch(() => undefined);
      this.#dek.fill(0);
      return { fragments: this.#fragments, bytes: this.#bytes, hash: this.#hash.digest('hex'), endedAt: this.#endedAt, volumes };
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => {
      if (this.#closed) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', `segment ${this.id} is closed`);
      return task();
    });
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #openCopy(volume: VolumeStatus): Promise<Copy> {
    const file = segmentPath(volume, this.cameraId, this.id);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Read and write: a joining spare is filled from a surviving copy.
    const handle = await open(file, 'wx+', 0o600);
    const copy = { volume, file, handle };
    this.#copies.push(copy);
    return copy;
  }

  async #append(kind: RecordKind, payload: Buffer, startMs: number, durationMs: number): Promise<void> {
    const header = encodeRecordHeader({ kind, index: this.#records, startMs, durationMs, sealedLength: payload.length + SEAL_OVERHEAD });
    // The record is [header][version ‖ iv][ciphertext][tag], written with one gathered write: a
    // fragment (~0.5 MB a GOP) is not copied twice more into a record buffer (bench/record.ts).
    await this.#write([header, ...sealParts(this.#dek, payload, recordAad(this.id, header))]);
    this.#records++;
  }

  /** The same bytes at the same offset on every copy; a failing copy leaves the set. */
  async #write(parts: readonly Buffer[]): Promise<void> {
    const length = parts.reduce((n, p) => n + p.length, 0);
    const at = this.#bytes;
    const results = await Promise.allSettled(
      this.#copies.map(async (c) => {
        await writeFully(c.handle, parts, length, at);
        if (this.#sync) await c.handle.datasync();
      }),
    );
    const failed = this.#copies.filter((_, i) => results[i]?.status === 'rejected');
    for (const c of failed) {
      const result = results[this.#copies.indexOf(c)];
      const reason = result?.status === 'rejected' ? (result.reason as Error).message : 'write failed';
      this.#copies.splice(this.#copies.indexOf(c), 1);
      await c.handle.close().catch(() => undefined);
      this.#volumes.fail(c.volume.id, `write to ${path.basename(c.file)} failed: ${reason}`);
    }
    if (this.#copies.length === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', `segment ${this.id}: every copy failed to write`);
    for (const p of parts) this.#hash.update(p);
    this.#bytes += length;
  }
}

/** Short writes are legal (pwritev(2)); the rest is written until all of it is, or it fails. */
async function writeFully(handle: FileHandle, parts: readonly Buffer[], length: number, at: number): Promise<void> {
  let done = (await handle.writev([...parts], at)).bytesWritten;
  if (done === length) return;
  const rest = Buffer.concat(parts, length);
  for (let attempt = 0; done < length; attempt++) {
    if (attempt >= 16) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', `short writes: ${done} of ${length} bytes written`);
    const { bytesWritten } = await handle.write(rest, done, length - done, at + done);
    if (bytesWritten === 0) throw new VigilError('VIGIL_VIDEO_STORAGE_UNAVAILABLE', `write made no progress at ${done} of ${length} bytes`);
    done += bytesWritten;
  }
}
