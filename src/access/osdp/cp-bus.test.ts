import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OSDP_COMMAND } from './constants.ts';
import { OsdpControlPanel } from './cp.ts';
import type { OsdpCpEvent, OsdpTamperEvent } from './events.ts';
import { serializePacket } from './packet.ts';
import { OsdpPeripheralDevice } from './pd.ts';
import { OsdpTestBench, TEST_IDENTITY } from './test-harness.ts';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

test('ACS-5.1.1.5: a PD knocked out of the secure channel (injected SQN 0) is reported by the CP, which re-keys', () => {
  const bench = new OsdpTestBench({ cpPeer: { scbk: KEY }, pd: { scbk: KEY } });
  assert.ok(bench.runUntil(() => bench.cp.isSecure(1)));
  bench.run(4);
  // an attacker on the wire sends a plaintext POLL with SQN 0: the PD drops its session
  bench.injectToPd(serializePacket({ address: 1, reply: false, sequence: 0, useCrc: true, scb: undefined, code: OSDP_COMMAND.POLL, data: Buffer.alloc(0) }));
  assert.equal(bench.pd.secure, false);
  assert.ok(bench.runUntil(() => bench.events('online').length === 2));
  assert.ok(bench.tampers.some((t) => t.side === 'cp' && t.reason === 'secure-channel-lost'));
});

test('§5.2 multi-drop: one CP polls two PDs on a shared bus, each under its own SCBK', () => {
  const keyB = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
  const events: OsdpCpEvent[] = [];
  const tampers: OsdpTamperEvent[] = [];
  const wire: Buffer[] = [];
  const cp = new OsdpControlPanel({
    peers: [{ address: 1, scbk: KEY }, { address: 2, scbk: keyB }],
    send: (bytes) => wire.push(bytes),
    onEvent: (event) => events.push(event),
    onTamper: (event) => tampers.push(event),
    pollIntervalMs: 10,
  });
  const pds = [1, 2].map(
    (address) =>
      new OsdpPeripheralDevice({ address, clientUid: Buffer.alloc(8, address), scbk: address === 1 ? KEY : keyB, identity: TEST_IDENTITY, capabilities: [] }),
  );
  let now = 0;
  for (let i = 0; i < 200 && events.filter((e) => e.kind === 'card').length < 1; i++) {
    now += 5;
    cp.tick(now);
    for (let guard = 0; guard < 4 && wire.length > 0; guard++) {
      const bytes = wire.shift() ?? Buffer.alloc(0);
      for (const pd of pds) for (const reply of pd.receive(bytes, now)) cp.receive(reply, now);
    }
    if (i === 40) pds[1]?.queueCardRead({ reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') });
  }
  assert.deepEqual(events.filter((e) => e.kind === 'online').map((e) => e.address).sort(), [1, 2]);
  assert.equal(events.find((e) => e.kind === 'card')?.address, 2);
  assert.deepEqual(tampers, []);
});
