// A bounded, seeded RTSP fuzz campaign in the manner of the lab's RTSPFuzzer/Doona (seed 001,
// CAM-T-com-4, NVR-5.3.3.1a): malformed request lines, huge headers, bad CSeq, bad Content-Length,
// broken Authorization, bad interleaved `$` frames (RFC 2326 §10.12) and byte-mutated requests.
// Each case goes on its own connection; after every batch a fresh OPTIONS must be answered.
// Counted, timed and seeded, so a finding can be reproduced with the same seed.
import { seededRandom } from '../core/random.ts';
import { mapBounded } from './bounded.ts';
import { rtspExchange, rtspRequest, rtspUri, type RtspEndpoint, type RtspExchange } from './rtsp-probe.ts';

export interface FuzzCase {
  kind: string;
  payload: Buffer;
}

const KINDS = ['request-line', 'huge-header', 'header-count', 'cseq', 'content-length', 'authorization', 'interleaved', 'mutation'] as const;

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

function randomBytesFrom(random: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

function interleaved(channel: number, declared: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x24;
  head[1] = channel & 0xff;
  head.writeUInt16BE(declared & 0xffff, 2);
  return Buffer.concat([head, payload]);
}

/** Case `index` of the campaign for `seed`: the same seed and index always give the same bytes. */
export function fuzzCase(seed: number, index: number, uri: string): FuzzCase {
  const random = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const kind = KINDS[index % KINDS.length] ?? 'mutation';
  const valid = rtspRequest('DESCRIBE', uri, 2, [['Accept', 'application/sdp']]);
  const s = (text: string): Buffer => Buffer.from(text, 'latin1');
  switch (kind) {
    case 'request-line': {
      const lines = [
        `DESCRIBE ${uri}\r\nCSeq: 1\r\n\r\n`,
        `DESCRIBE ${uri} RTSP/9.9\r\nCSeq: 1\r\n\r\n`,
        `${'A'.repeat(1 + Math.floor(random() * 8192))} ${uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `DESCRIBE ${uri}/${'%'.repeat(1 + Math.floor(random() * 60_000))} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `DESCRIBE\0${uri}\0RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `\r\n\r\n\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `describe ${uri} rtsp/1.0\r\nCSeq: 1\r\n\r\n`,
        `DESCRIBE ${uri}\tRTSP/1.0\nCSeq: 1\n\n`,
        `GET_PARAMETER ../../../../etc/passwd RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `DESCRIBE rtsp://[::1:${uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      ];
      return { kind, payload: random() < 0.2 ? Buffer.concat([randomBytesFrom(random, 1 + Math.floor(random() * 512)), s('\r\n\r\n')]) : s(pick(random, lines)) };
    }
    case 'huge-header': {
      const size = pick(random, [4097, 16 * 1024, 65 * 1024, 256 * 1024]);
      const forms = [`X-Fuzz: ${'B'.repeat(size)}`, `${'N'.repeat(size)}: v`, `Accept: ${'application/sdp, '.repeat(Math.ceil(size / 17))}`, `Session: ${'9'.repeat(size)}`];
      return { kind, payload: s(`DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 3\r\n${pick(random, forms)}\r\n\r\n`) };
    }
    case 'header-count': {
      const n = pick(random, [65, 200, 2000]);
      const lines = Array.from({ length: n }, (_, i) => (random() < 0.1 ? `NoColonHeader${i}` : `X-H${i}: ${i}`));
      return { kind, payload: s(`DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 4\r\n${lines.join('\r\n')}\r\n\r\n`) };
    }
    case 'cseq': {
      const value = pick(random, ['', '-1', '99999999999999999999999', 'abc', '1\r\nCSeq: 2', '0x10', ' 5 ', '1.5', '%n%n%n%n', '\u00ff\u00fe']);
      return { kind, payload: random() < 0.2 ? s(`OPTIONS ${uri} RTSP/1.0\r\n\r\n`) : s(`${pick(random, ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY'])} ${uri} RTSP/1.0\r\nCSeq: ${value}\r\n\r\n`) };
    }
    case 'content-length': {
      const value = pick(random, ['-1', '4294967296', '99999999', 'ten', '10, 20', '65537']);
      const body = randomBytesFrom(random, Math.floor(random() * 2048));
      return { kind, payload: Buffer.concat([s(`SET_PARAMETER ${uri} RTSP/1.0\r\nCSeq: 5\r\nContent-Type: text/parameters\r\nContent-Length: ${value}\r\n\r\n`), body]) };
    }
    case 'authorization': {
      const forms = [
        `Digest username="fuzz-${index}", realm="${'r'.repeat(5000)}", nonce="x", uri="${uri}", response="00"`,
        `Digest username="fuzz-${index}", nonce="${'\\"'.repeat(2000)}`,
        `Digest ${'a=b, '.repeat(3000)}`,
        `Basic ${'%%%'.repeat(100)}`,
        `Basic ${Buffer.from(`fuzz-${index}:${'p'.repeat(10_000)}`).toString('base64')}`,
        `Digest username="fuzz-${index}", realm="x", nonce="${randomBytesFrom(random, 40).toString('base64url')}", uri="${uri}", response="${'f'.repeat(64)}", algorithm=SHA-256, qop=auth, nc=ffffffff, cnonce="c"`,
        `Bearer ${'A'.repeat(20_000)}`,
        'Digest',
      ];
      return { kind, payload: s(`DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 6\r\nAuthorization: ${pick(random, forms)}\r\n\r\n`) };
    }
    case 'interleaved': {
      const frames = [
        interleaved(0, 0xffff, randomBytesFrom(random, 16)),
        interleaved(255, 0, Buffer.alloc(0)),
        interleaved(Math.floor(random() * 256), 1400, randomBytesFrom(random, 1400)),
        s('$'),
        Buffer.concat(Array.from({ length: 200 }, () => interleaved(1, 8, randomBytesFrom(random, 8)))),
        Buffer.concat([interleaved(0, 12, randomBytesFrom(random, 12)), valid]),
      ];
      return { kind, payload: pick(random, frames) };
    }
    default: {
      const out = Buffer.from(valid);
      const edits = 1 + Math.floor(random() * 12);
      for (let i = 0; i < edits; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return { kind: 'mutation', payload: random() < 0.3 ? Buffer.concat([out, out.subarray(0, Math.floor(random() * out.length))]) : out };
    }
  }
}

export interface FuzzOptions {
  target: RtspEndpoint;
  path: string;
  seed: number;
  cases: number;
  batchSize: number;
  caseTimeoutMs: number;
  budgetMs: number;
  /** How long the target may take to answer again after a batch before it counts as down. */
  recoveryMs: number;
  signal: AbortSignal;
}

export interface FuzzResult {
  sent: number;
  batches: number;
  answered: number;
  closed: number;
  silent: number;
  /** Status codes seen, e.g. {400: 120, 401: 30}. */
  statuses: Record<string, number>;
  /** Batches after which a fresh OPTIONS was not answered at once, and how it ended. */
  outages: Array<{ batch: number; firstCase: number; lastCase: number; kinds: string[]; recoveredAfterMs: number | null }>;
  /** Cases that got 5xx (the server admits an internal error). */
  serverErrors: Array<{ index: number; kind: string; status: number }>;
  stoppedBy: 'count' | 'time' | 'outage';
  elapsedMs: number;
}

/** A fresh connection's OPTIONS gets an RTSP answer (any status): the service is alive. */
export async function rtspAlive(target: RtspEndpoint, path: string, timeoutMs: number): Promise<boolean> {
  const r = await rtspExchange(target, rtspRequest('OPTIONS', rtspUri(target, path), 1), timeoutMs);
  return r.answer !== undefined;
}

async function waitAlive(o: FuzzOptions): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < o.recoveryMs) {
    if (await rtspAlive(o.target, o.path, 3000)) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}

export async function runRtspFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const uri = rtspUri(o.target, o.path);
  const result: FuzzResult = { sent: 0, batches: 0, answered: 0, closed: 0, silent: 0, statuses: {}, outages: [], serverErrors: [], stoppedBy: 'count', elapsedMs: 0 };
  for (let first = 0; first < o.cases; first += o.batchSize) {
    if (o.signal.aborted || performance.now() - started > o.budgetMs) {
      result.stoppedBy = 'time';
      break;
    }
    const indexes = Array.from({ length: Math.min(o.batchSize, o.cases - first) }, (_, i) => first + i);
    const cases = indexes.map((i) => ({ index: i, ...fuzzCase(o.seed, i, uri) }));
    const outcomes: RtspExchange[] = await mapBounded(cases, 4, (c) => rtspExchange(o.target, c.payload, o.caseTimeoutMs, 16 * 1024), o.signal);
    for (const [i, c] of cases.entries()) {
      const r = outcomes[i];
      if (r === undefined) continue;
      result.sent++;
      if (r.answer !== undefined) {
        result.answered++;
        result.statuses[String(r.answer.status)] = (result.statuses[String(r.answer.status)] ?? 0) + 1;
        if (r.answer.status >= 500 && result.serverErrors.length < 20) result.serverErrors.push({ index: c.index, kind: c.kind, status: r.answer.status });
      } else if (r.closedByPeer) result.closed++;
      else result.silent++;
    }
    result.batches++;
    if (!(await rtspAlive(o.target, o.path, 3000))) {
      const recovered = await waitAlive(o);
      result.outages.push({ batch: result.batches, firstCase: first, lastCase: first + indexes.length - 1, kinds: [...new Set(cases.map((c) => c.kind))], recoveredAfterMs: recovered === null ? null : Math.round(recovered) });
      if (recovered === null) {
        result.stoppedBy = 'outage';
        break;
      }
    }
  }
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}
