// The on-disk form of an edge event log (ACS-5.4.2.3, ACS-5.4.1.2): an append-only file of JSON
// lines, the first naming where the log stands (the seq and hash of the last event forgotten),
// then one line per stored event, sealed as in memory (AES-256-GCM under the device storage key,
// so the file says nothing without the device-bound key). Each append is written and fdatasync'd
// before the decision is acted on, so a power cut loses no decided event; acknowledgements and
// drops rewrite the file atomically (temp, fsync, rename), which keeps it bounded by the log's
// capacity. A torn last line (power lost mid-write) is the one thing forgiven at load.
//
//   {"head":{"seq":41,"hash":"<hex64>","dropped":0}}
//   {"seq":42,"prevHash":"<hex64>","hash":"<hex64>","sealed":"<base64>"}
//   ...
import { closeSync, constants, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { VigilError } from '../core/errors.ts';
import { writeFileAtomic } from '../crypto/private-file.ts';
import { GENESIS, type EdgeEventSink, type EdgeLogHead, type StoredEvent } from './edge-event-log.ts';

const HEX64 = /^[0-9a-f]{64}$/;
/** A sealed event is ~200-600 bytes; a line longer than this is not one of ours. */
const MAX_LINE_CHARS = 16 * 1024;

function tampered(message: string): VigilError {
  return new VigilError('VIGIL_EDGE_LOG_TAMPERED', `edge event journal: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw tampered(`${what} is not a count`);
  return v;
}

function hex64(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX64.test(v)) throw tampered(`${what} is not a SHA-256`);
  return v;
}

/** Pure: the head and events of a journal's text; throws VIGIL_EDGE_LOG_TAMPERED on anything else. */
export function parseJournal(text: string, maxEvents: number): { head: EdgeLogHead; events: StoredEvent[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const torn = text.length > 0 && !text.endsWith('\n');
  const first = lines.shift();
  if (first === undefined) return { head: { seq: 0, hash: GENESIS, dropped: 0 }, events: [] };
  let head: EdgeLogHead;
  try {
    const h = (JSON.parse(first) as Record<string, unknown>)['head'];
    if (!isRecord(h)) throw tampered('no head line');
    head = { seq: count(h['seq'], 'head seq'), hash: hex64(h['hash'], 'head hash'), dropped: count(h['dropped'], 'dropped') };
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw tampered('the head line is not JSON');
  }
  if (lines.length > maxEvents + 1) throw tampered(`more than ${maxEvents} events`);
  const events: StoredEvent[] = [];
  for (const [i, line] of lines.entries()) {
    let v: unknown;
    try {
      if (line.length > MAX_LINE_CHARS) throw tampered(`line ${i + 2} is too long`);
      v = JSON.parse(line);
    } catch (err) {
      // Power lost in the middle of the last append: that event was never acted on.
      if (torn && i === lines.length - 1) break;
      if (err instanceof VigilError) throw err;
      throw tampered(`line ${i + 2} is not JSON`);
    }
    if (!isRecord(v) || typeof v['sealed'] !== 'string') throw tampered(`line ${i + 2} is not an event`);
    events.push({ seq: count(v['seq'], 'seq'), prevHash: hex64(v['prevHash'], 'prevHash'), hash: hex64(v['hash'], 'hash'), sealed: Buffer.from(v['sealed'], 'base64') });
  }
  return { head, events };
}

function line(event: StoredEvent): string {
  return `${JSON.stringify({ seq: event.seq, prevHash: event.prevHash, hash: event.hash, sealed: event.sealed.toString('base64') })}\n`;
}

export class EdgeEventJournal implements EdgeEventSink {
  readonly #file: string;
  #fd: number;

  private constructor(file: string) {
    this.#file = file;
    this.#fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  }

  /** Opens (or creates) the journal at `file`; returns it with what it held. */
  static open(file: string, maxEvents: number): { journal: EdgeEventJournal; restored: { head: EdgeLogHead; events: StoredEvent[] } } {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new VigilError('VIGIL_EDGE_LOG_TAMPERED', `edge event journal ${file} cannot be read`, { cause: err });
    }
    const restored = parseJournal(text, maxEvents);
    // Start from a clean file: a torn line is dropped, a missing file created.
    writeFileAtomic(file, Buffer.from(JSON.stringify({ head: restored.head }) + '\n' + restored.events.map(line).join(''), 'utf8'), 0o600);
    return { journal: new EdgeEventJournal(file), restored };
  }

  append(event: StoredEvent): void {
    const bytes = Buffer.from(line(event), 'utf8');
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    fdatasyncSync(this.#fd);
  }

  rewrite(head: EdgeLogHead, events: readonly StoredEvent[]): void {
    writeFileAtomic(this.#file, Buffer.from(JSON.stringify({ head }) + '\n' + events.map(line).join(''), 'utf8'), 0o600);
    closeSync(this.#fd);
    this.#fd = openSync(this.#file, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  }

  /** Bytes on disk (tests, status). */
  get size(): number {
    return fstatSync(this.#fd).size;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
