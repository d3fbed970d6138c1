import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isVigilError } from '../../core/errors.ts';
import { osdpCrc16 } from './check.ts';
import { OSDP_COMMAND, SCS } from './constants.ts';
import { OsdpControlPanel } from './cp.ts';
import { parsePacket, serializePacket } from './packet.ts';
import { defaultInstallKey } from './secure-crypto.ts';
import { OsdpTestBench } from './test-harness.ts';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

function onlineBench(): OsdpTestBench {
  const bench = new OsdpTestBench({ cpPeer: { scbk: KEY }, pd: { scbk: KEY } });
  assert.ok(bench.runUntil(() => bench.cp.isSecure(1)), 'secure channel established');
  return bench;
}

function refreshCrc(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out.writeUInt16LE(osdpCrc16(out, 0, out.length - 2), out.length - 2);
  return out;
}

test('Annex D: CP and PD establish a secure channel; POLLs are MACed (SCS_15) and answered SCS_16', () => {
  const bench = onlineBench();
  assert.equal(bench.events('online').length, 1);
  assert.ok(bench.pd.secure);
  bench.run(10);
  const polls = bench.commandsSeen.map((b) => parsePacket(b)).filter((p) => p.code === OSDP_COMMAND.POLL);
  assert.ok(polls.length > 0);
  assert.ok(polls.every((p) => p.scb?.type === SCS.CMD_MAC));
  assert.ok(bench.repliesSeen.slice(-1).every((b) => parsePacket(b).scb?.type === SCS.REPLY_MAC));
  assert.deepEqual(bench.tampers, []);
});

test('§7.11: a card read on the PD reaches the CP as a typed event; OUT and LED reach the PD', () => {
  const bench = onlineBench();
  assert.ok(bench.pd.queueCardRead({ reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') }));
  bench.cp.enqueue(1, { kind: 'OUT', outputs: [{ output: 0, controlCode: 5, timer: 30 }] });
  bench.cp.enqueue(1, {
    kind: 'LED',
    leds: [{ reader: 0, led: 0, temporary: { controlCode: 2, onTime: 3, offTime: 3, onColor: 2, offColor: 0, timer: 20 }, permanent: { controlCode: 1, onTime: 1, offTime: 0, onColor: 1, offColor: 0 } }],
  });
  bench.cp.enqueue(1, { kind: 'LSTAT' });
  assert.ok(bench.runUntil(() => bench.events('card').length === 1 && bench.events('reply').length === 3));
  assert.deepEqual(bench.events('card')[0], { kind: 'card', address: 1, reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') });
  assert.deepEqual(bench.pdCommands.map((c) => c.kind), ['OUT', 'LED']);
  const lstat = bench.events('reply').find((e) => e.kind === 'reply' && e.command === 'LSTAT');
  assert.deepEqual(lstat?.kind === 'reply' ? lstat.reply : undefined, { kind: 'LSTATR', tamper: 0, power: 0 });
  // OUT data travelled encrypted (SCS_17): the plaintext record is not on the wire
  assert.ok(!bench.commandsSeen.some((b) => b.includes(Buffer.from('0005', 'hex'))));
});

test('ACS-5.1.1.1: SCBK-D is refused outside install mode, on both sides', () => {
  assert.throws(
    () => new OsdpControlPanel({ peers: [{ address: 1 }], send: () => {}, onEvent: () => {}, onTamper: () => {} }),
    (e: unknown) => isVigilError(e, 'VIGIL_OSDP_DEFAULT_KEY_REFUSED'),
  );
  assert.throws(
    () => new OsdpControlPanel({ peers: [{ address: 1, scbk: defaultInstallKey() }], send: () => {}, onEvent: () => {}, onTamper: () => {} }),
    (e: unknown) => isVigilError(e, 'VIGIL_OSDP_DEFAULT_KEY_REFUSED'),
  );
  const bench = new OsdpTestBench({ cpPeer: { installMode: true }, pd: { scbk: KEY } });
  bench.run(60);
  assert.equal(bench.cp.isSecure(1), false);
  assert.ok(bench.tampers.some((t) => t.side === 'pd' && t.reason === 'default-key-refused'));
});

test('ACS-5.1.1.1 / Annex D.7: install mode KEYSETs a unique random SCBK and re-keys the channel', () => {
  const bench = new OsdpTestBench({ cpPeer: { installMode: true }, pd: { installMode: true } });
  assert.ok(bench.runUntil(() => bench.events('online').length >= 2));
  assert.equal(bench.events('key-installed').length, 1);
  assert.equal(bench.installedKeys.length, 1);
  assert.deepEqual(bench.pdKeys, bench.installedKeys);
  const key = bench.installedKeys[0] ?? Buffer.alloc(0);
  assert.equal(key.length, 16);
  assert.ok(!key.equals(defaultInstallKey()));
  assert.equal(bench.pd.installMode, false);
  // the second CHLNG asked for SCBK (flag 1), not SCBK-D; the key never travelled in clear
  const challenges = bench.commandsSeen.map((b) => parsePacket(b)).filter((p) => p.code === OSDP_COMMAND.CHLNG);
  assert.deepEqual(challenges.map((p) => p.scb?.data[0]), [0, 1]);
  assert.ok(!bench.commandsSeen.some((b) => b.includes(key)));
  assert.deepEqual(bench.tampers, []);
});

test('ACS-5.1.1.5: a reader holding another key fails mutual authentication (cryptogram mismatch)', () => {
  const bench = new OsdpTestBench({ cpPeer: { scbk: KEY }, pd: { scbk: randomBytes(16) } });
  bench.run(60);
  assert.equal(bench.cp.isSecure(1), false);
  assert.ok(bench.tampers.some((t) => t.side === 'cp' && t.reason === 'cryptogram-mismatch'));
});

test('ACS-5.1.1.5: a bad MAC is refused and reported by the PD, and the CP reports the lost channel', () => {
  const bench = onlineBench();
  let armed = true;
  bench.toPd = (bytes) => {
    const p = parsePacket(bytes);
    if (!armed || p.code !== OSDP_COMMAND.OUT) return bytes;
    armed = false;
    const altered = Buffer.from(bytes);
    altered[8] = (altered[8] ?? 0) ^ 0x01; // first encrypted byte
    return refreshCrc(altered);
  };
  bench.cp.enqueue(1, { kind: 'OUT', outputs: [{ output: 0, controlCode: 2, timer: 0 }] });
  assert.ok(bench.runUntil(() => !armed && bench.events('online').length === 2));
  assert.ok(bench.tampers.some((t) => t.side === 'pd' && t.reason === 'bad-mac'));
  assert.ok(bench.tampers.some((t) => t.side === 'cp' && t.reason === 'secure-channel-lost'));
  assert.deepEqual(bench.pdCommands, []); // the altered OUT was never acted on
});

test('ACS-5.2.1.11: a replayed OUT command is refused with a tamper event and not executed twice', () => {
  const bench = onlineBench();
  bench.cp.enqueue(1, { kind: 'OUT', outputs: [{ output: 1, controlCode: 2, timer: 0 }] });
  assert.ok(bench.runUntil(() => bench.pdCommands.length === 1));
  const recorded = bench.commandsSeen.find((b) => parsePacket(b).code === OSDP_COMMAND.OUT);
  assert.ok(recorded !== undefined);
  bench.run(8); // the chain moves on
  bench.injectToPd(recorded);
  assert.equal(bench.pdCommands.length, 1);
  assert.ok(bench.tampers.some((t) => t.side === 'pd' && (t.reason === 'replay' || t.reason === 'bad-mac')));
});

test('ACS-5.2.1.11: a replayed reply is refused by the CP with a tamper event', () => {
  const bench = onlineBench();
  bench.run(6);
  const oldReply = bench.repliesSeen.at(-2);
  assert.ok(oldReply !== undefined);
  bench.toCp = (bytes) => (parsePacket(bytes).scb?.type === SCS.REPLY_MAC ? oldReply : bytes);
  bench.run(10);
  assert.ok(bench.tampers.some((t) => t.side === 'cp' && (t.reason === 'replay' || t.reason === 'bad-mac')));
});

test('ACS-5.1.1.5: plaintext injected into a session is refused and reported', () => {
  const bench = onlineBench();
  const last = parsePacket(bench.commandsSeen.at(-1) ?? Buffer.alloc(0));
  const next = last.sequence >= 3 ? 1 : last.sequence + 1;
  bench.injectToPd(serializePacket({ address: 1, reply: false, sequence: next, useCrc: true, scb: undefined, code: OSDP_COMMAND.OUT, data: Buffer.from('00020000', 'hex') }));
  assert.ok(bench.tampers.some((t) => t.side === 'pd' && t.reason === 'plaintext-refused'));
  assert.deepEqual(bench.pdCommands, []);
});

test('§5.7: a lost reply is retried with the same SQN and answered from cache (command acts once)', () => {
  const bench = onlineBench();
  let dropped = false;
  bench.toCp = (bytes) => {
    if (!dropped && bench.pdCommands.length === 1) {
      dropped = true;
      return undefined;
    }
    return bytes;
  };
  bench.cp.enqueue(1, { kind: 'OUT', outputs: [{ output: 0, controlCode: 1, timer: 0 }] });
  assert.ok(bench.runUntil(() => bench.events('reply').length === 1));
  assert.ok(dropped);
  assert.equal(bench.pdCommands.length, 1);
  assert.deepEqual(bench.tampers, []);
});

test('§5.7: a PD that stops answering is reported offline, then online again when it returns', () => {
  const bench = onlineBench();
  let cut = true;
  bench.toPd = (bytes) => (cut ? undefined : bytes);
  assert.ok(bench.runUntil(() => bench.events('offline').length === 1));
  assert.equal(bench.cp.isSecure(1), false);
  cut = false;
  assert.ok(bench.runUntil(() => bench.events('online').length === 2));
});
