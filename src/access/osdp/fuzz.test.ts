// Bounded, seeded fuzzing (testing.md layer 4; ACS-5.2.1.5, ACS-5.4.1.1): mutated frames into the
// packet parser and message decoders, mutated byte streams into the reassembler, and mutated
// traffic into a live CP and PD. The only errors allowed out of the parsers are coded VigilErrors;
// the state machines must never throw, and every buffer must stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { osdpChecksum, osdpCrc16 } from './check.ts';
import { decodeCommand } from './commands.ts';
import { OSDP_MAX_PACKET_BYTES } from './constants.ts';
import { parsePacket } from './packet.ts';
import { OsdpFrameReassembler } from './reassembler.ts';
import { decodeReply } from './replies.ts';
import { OsdpTestBench } from './test-harness.ts';
import { seededRandom } from '../../core/random.ts';

const SEED = 0x05d9_2024;
const FRAMES = 20_000;
const TIME_BUDGET_MS = 15_000;


function fixCheck(frame: Buffer): void {
  if (frame.length < 7) return;
  if ((frame[4] ?? 0) & 0x04) frame.writeUInt16LE(osdpCrc16(frame, 0, frame.length - 2), frame.length - 2);
  else frame[frame.length - 1] = osdpChecksum(frame, 0, frame.length - 1);
}

function mutate(input: Buffer, rnd: () => number): Buffer {
  let out = Buffer.from(input);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * Math.max(1, out.length));
    switch (Math.floor(rnd() * 6)) {
      case 0:
        out[at] = Math.floor(rnd() * 256);
        break;
      case 1:
        out[at] = (out[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        break;
      case 4:
        out = out.subarray(0, at);
        break;
      default:
        if (out.length >= 4) out.writeUInt16LE(Math.floor(rnd() * 0x10000), 2);
    }
  }
  if (out.length >= 4 && rnd() < 0.7) out.writeUInt16LE(out.length, 2); // keep LEN consistent half the time
  if (rnd() < 0.8) fixCheck(out); // reach past the check character most of the time
  return out;
}

function corpus(): Buffer[] {
  const bench = new OsdpTestBench({ cpPeer: { installMode: true }, pd: { installMode: true } });
  bench.pd.queueCardRead({ reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') });
  bench.cp.enqueue(1, { kind: 'TEXT', reader: 0, command: 1, tempTime: 0, row: 0, column: 0, text: 'hello' });
  bench.cp.enqueue(1, { kind: 'ID', reportType: 0 });
  bench.runUntil(() => bench.events('online').length >= 2 && bench.events('reply').length >= 2);
  return [...bench.commandsSeen, ...bench.repliesSeen];
}

test('ACS-5.2.1.5: 20,000 seeded mutated frames — parser and decoders throw only coded errors', () => {
  const rnd = seededRandom(SEED);
  const seeds = corpus();
  assert.ok(seeds.length > 10);
  const started = Date.now();
  let parsed = 0;
  let i = 0;
  for (; i < FRAMES && Date.now() - started < TIME_BUDGET_MS; i++) {
    const frame = mutate(seeds[i % seeds.length] ?? Buffer.alloc(0), rnd);
    try {
      const p = parsePacket(frame);
      parsed++;
      if (p.reply) decodeReply(p.code, p.data);
      else decodeCommand(p.code, p.data);
    } catch (error) {
      if (!isVigilError(error)) throw error;
      assert.match(error.code, /^VIGIL_OSDP_/);
    }
  }
  assert.equal(i, FRAMES, 'time budget exhausted before all frames ran');
  assert.ok(parsed > 1000, `only ${parsed} frames got past the check characters`);
});

test('ACS-5.4.1.1: reassembler fed a mutated byte stream stays bounded and finds intact frames', () => {
  const rnd = seededRandom(SEED + 1);
  const seeds = corpus();
  const r = new OsdpFrameReassembler();
  let intact = 0;
  let found = 0;
  for (let i = 0; i < FRAMES / 4; i++) {
    const base = seeds[i % seeds.length] ?? Buffer.alloc(0);
    const clean = rnd() < 0.3;
    if (clean) intact++;
    const bytes = clean ? base : mutate(base, rnd);
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 64);
      const result = r.push(bytes.subarray(at, at + n));
      for (const frame of result.frames) {
        assert.ok(frame.length <= OSDP_MAX_PACKET_BYTES);
        found++;
      }
      at += n;
      assert.ok(r.pending < OSDP_MAX_PACKET_BYTES);
    }
  }
  // resynchronisation: most intact frames are recovered even after garbage
  assert.ok(found >= intact * 0.8, `found ${found} of ${intact} intact frames`);
});

test('ACS-5.2.1.5: live CP and PD under mutated traffic never throw, and recover a secure channel', () => {
  const rnd = seededRandom(SEED + 2);
  const KEY = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex');
  // seeded nonces too, so the whole run (handshakes included) replays exactly
  const nonce = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  const bench = new OsdpTestBench({ cpPeer: { scbk: KEY }, pd: { scbk: KEY, random: nonce }, cp: { random: nonce } });
  let fuzzing = true;
  bench.toPd = (b) => (fuzzing && rnd() < 0.3 ? mutate(b, rnd) : b);
  bench.toCp = (b) => (fuzzing && rnd() < 0.3 ? mutate(b, rnd) : b);
  const started = Date.now();
  for (let i = 0; i < 4000 && Date.now() - started < TIME_BUDGET_MS; i++) {
    if (i % 50 === 0) bench.pd.queueCardRead({ reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') });
    if (i % 40 === 0) {
      try {
        bench.cp.enqueue(1, { kind: 'OUT', outputs: [{ output: 0, controlCode: 1, timer: 0 }] });
      } catch (error) {
        if (!isVigilError(error, 'VIGIL_OSDP_QUEUE_FULL')) throw error;
      }
    }
    bench.run(1);
    if (i % 97 === 0) bench.injectToPd(mutate(bench.commandsSeen.at(-1) ?? Buffer.alloc(0), rnd));
  }
  assert.ok(bench.tampers.length > 0, 'mutations inside the session were reported');
  assert.ok(bench.tampers.every((t) => t.reason !== 'default-key-refused'));
  fuzzing = false;
  const onlineBefore = bench.events('online').length;
  assert.ok(bench.runUntil(() => bench.events('online').length > onlineBefore || bench.cp.isSecure(1), 2000));
  bench.cp.enqueue(1, { kind: 'ISTAT' });
  assert.ok(bench.runUntil(() => bench.cpEvents.at(-1)?.kind === 'reply' || bench.events('reply').some((e) => e.kind === 'reply' && e.command === 'ISTAT'), 2000));
});
