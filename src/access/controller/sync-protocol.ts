// The controller ⇄ platform sync protocol over mutually authenticated TLS (design §6). Messages
// are JSON documents in length-prefixed frames; parse and serialise are pure, every length is
// checked against a hard maximum before anything is buffered.
//
//   0               1               2               3
//   +---------------+---------------+---------------+---------------+
//   |            payload length (uint32, big-endian, ≥ 1)           |
//   +---------------+---------------+---------------+---------------+
//   |            payload: UTF-8 JSON object, `t` names the message  |
//
// Flow: platform → hello{nonce}; controller → attest{measurement, signature} (ACS-5.1.1.6);
// platform → attested | error. Then the controller asks: pull{have} → set{set} | current{version};
// push{prevHash, events} → ack{seq} (ACS-5.4.2.3).
import { VigilError } from '../../core/errors.ts';
import type { EdgeEvent } from '../edge-event-log.ts';
import type { SignedCredentialSet } from './credential-set.ts';

export const FRAME_HEADER_BYTES = 4;
/** Controller → platform: attestation and event batches. */
export const MAX_CONTROLLER_FRAME_BYTES = 2 * 1024 * 1024;
/** Platform → controller: a full set of 2M credentials is ~300 MB of JSON. */
export const MAX_PLATFORM_FRAME_BYTES = 512 * 1024 * 1024;
export const MAX_EVENTS_PER_BATCH = 1000;
const MAX_FIELD_CHARS = 256;
const HEX64 = /^[0-9a-f]{64}$/;

export type PlatformMessage =
  | { t: 'hello'; nonce: string }
  | { t: 'attested' }
  | { t: 'set'; set: SignedCredentialSet }
  | { t: 'current'; version: number }
  | { t: 'ack'; seq: number }
  | { t: 'error'; code: string };

export type ControllerMessage =
  | { t: 'attest'; measurement: string; signature: string }
  | { t: 'pull'; have: number }
  | { t: 'push'; prevHash: string; events: EdgeEvent[] };

function bad(message: string): VigilError {
  return new VigilError('VIGIL_DEVICE_PROTOCOL', message);
}

export function encodeFrame(message: PlatformMessage | ControllerMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Incremental frame parser: push bytes, get whole JSON values; never buffers past `maxBytes`. */
export class FrameReader {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the frame being received, once its header is in. */
  #expected: number | null = null;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.#expected === null) {
        if (this.#buffered < FRAME_HEADER_BYTES) return out;
        const length = this.#header();
        if (length === 0 || length > this.#max) throw bad(`frame of ${length} bytes (maximum ${this.#max})`);
        this.#expected = length;
      }
      const total = FRAME_HEADER_BYTES + this.#expected;
      if (this.#buffered < total) return out;
      // Joined once per whole frame, not per chunk: no quadratic copying of large sets.
      const all = this.#chunks.length === 1 ? (this.#chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#chunks, this.#buffered);
      const body = all.subarray(FRAME_HEADER_BYTES, total);
      const rest = all.subarray(total);
      this.#chunks = rest.length === 0 ? [] : [rest];
      this.#buffered = rest.length;
      this.#expected = null;
      try {
        out.push(JSON.parse(body.toString('utf8')));
      } catch {
        throw bad('a frame is not JSON');
      }
    }
  }

  #header(): number {
    const head = Buffer.alloc(FRAME_HEADER_BYTES);
    let filled = 0;
    for (const c of this.#chunks) {
      filled += c.copy(head, filled, 0, Math.min(c.length, FRAME_HEADER_BYTES - filled));
      if (filled === FRAME_HEADER_BYTES) break;
    }
    return head.readUInt32BE(0);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown, what: string, max = MAX_FIELD_CHARS): string {
  if (typeof v !== 'string' || v.length > max) throw bad(`${what} must be a string of at most ${max} characters`);
  return v;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`);
  return v;
}

/** ACS-5.2.1.5: a controller message, checked field by field; anything else is refused. */
export function parseControllerMessage(v: unknown): ControllerMessage {
  if (!isRecord(v)) throw bad('a message is a JSON object');
  switch (v['t']) {
    case 'attest': {
      const measurement = text(v['measurement'], 'measurement', 64);
      if (!HEX64.test(measurement)) throw bad('a measurement is 64 lower-case hex digits');
      return { t: 'attest', measurement, signature: text(v['signature'], 'signature', 200) };
    }
    case 'pull':
      return { t: 'pull', have: count(v['have'], 'have') };
    case 'push': {
      const prevHash = text(v['prevHash'], 'prevHash', 64);
      if (!HEX64.test(prevHash)) throw bad('prevHash is 64 lower-case hex digits');
      const events = v['events'];
      if (!Array.isArray(events) || events.length > MAX_EVENTS_PER_BATCH) throw bad(`events is an array of at most ${MAX_EVENTS_PER_BATCH}`);
      return { t: 'push', prevHash, events: events.map(parseEdgeEvent) };
    }
    default:
      throw bad('unknown message');
  }
}

function parseEdgeEvent(v: unknown): EdgeEvent {
  if (!isRecord(v)) throw bad('an event is a JSON object');
  const at = text(v['at'], 'at', 40);
  if (Number.isNaN(Date.parse(at))) throw bad('at is an ISO 8601 time');
  return { seq: count(v['seq'], 'seq'), at, type: text(v['type'], 'type', 64), doorId: text(v['doorId'], 'doorId', 128), subject: text(v['subject'], 'subject'), reason: text(v['reason'], 'reason') };
}

/** A platform message as the controller reads it. */
export function parsePlatformMessage(v: unknown): PlatformMessage {
  if (!isRecord(v)) throw bad('a message is a JSON object');
  switch (v['t']) {
    case 'hello':
      return { t: 'hello', nonce: text(v['nonce'], 'nonce', 64) };
    case 'attested':
      return { t: 'attested' };
    case 'set': {
      const set = v['set'];
      if (!isRecord(set) || typeof set['payload'] !== 'string' || typeof set['signature'] !== 'string') throw bad('set is {payload, signature}');
      return { t: 'set', set: { payload: set['payload'], signature: set['signature'] } };
    }
    case 'current':
      return { t: 'current', version: count(v['version'], 'version') };
    case 'ack':
      return { t: 'ack', seq: count(v['seq'], 'seq') };
    case 'error':
      return { t: 'error', code: text(v['code'], 'code', 64) };
    default:
      throw bad('unknown message');
  }
}
