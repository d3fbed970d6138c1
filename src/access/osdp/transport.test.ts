import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { OsdpCommand } from './commands.ts';
import type { OsdpCpEvent, OsdpTamperEvent } from './events.ts';
import { OsdpCpLink, OsdpPdLink } from './link.ts';
import { TEST_IDENTITY } from './test-harness.ts';
import { connectOsdpTcp, listenOsdpTcp, openOsdpPty, type OsdpTransport } from './transport.ts';

const KEY = Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Session {
  readonly events: OsdpCpEvent[];
  readonly tampers: OsdpTamperEvent[];
  readonly commands: OsdpCommand[];
  readonly cp: OsdpCpLink;
  readonly pd: OsdpPdLink;
}

function start(cpLine: OsdpTransport, pdLine: OsdpTransport): Session {
  const events: OsdpCpEvent[] = [];
  const tampers: OsdpTamperEvent[] = [];
  const commands: OsdpCommand[] = [];
  const pd = new OsdpPdLink(pdLine, {
    address: 3,
    clientUid: Buffer.alloc(8, 0x11),
    scbk: KEY,
    identity: TEST_IDENTITY,
    capabilities: [],
    onCommand: (command) => commands.push(command),
    onTamper: (event) => tampers.push(event),
  });
  const cp = new OsdpCpLink(cpLine, {
    peers: [{ address: 3, scbk: KEY }],
    onEvent: (event) => events.push(event),
    onTamper: (event) => tampers.push(event),
    pollIntervalMs: 20,
  });
  return { events, tampers, commands, cp, pd };
}

/** Secure channel, then a card read on the PD reaches the CP, then OUT and LED reach the PD. */
async function exercise(s: Session): Promise<void> {
  await waitFor(() => s.events.some((e) => e.kind === 'online'), 'secure channel');
  assert.ok(s.pd.pd.queueCardRead({ reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') }));
  await waitFor(() => s.events.some((e) => e.kind === 'card'), 'card event');
  const card = s.events.find((e) => e.kind === 'card');
  assert.deepEqual(card, { kind: 'card', address: 3, reader: 0, format: 1, bitCount: 26, data: Buffer.from('2d00a200', 'hex') });
  s.cp.cp.enqueue(3, { kind: 'OUT', outputs: [{ output: 0, controlCode: 5, timer: 50 }] });
  s.cp.cp.enqueue(3, {
    kind: 'LED',
    leds: [{ reader: 0, led: 0, temporary: { controlCode: 2, onTime: 2, offTime: 2, onColor: 2, offColor: 0, timer: 10 }, permanent: { controlCode: 1, onTime: 1, offTime: 0, onColor: 1, offColor: 0 } }],
  });
  await waitFor(() => s.commands.length === 2, 'OUT and LED at the PD');
  assert.deepEqual(s.commands.map((c) => c.kind), ['OUT', 'LED']);
  assert.deepEqual(s.tampers, []);
}

test('ACS-5.1.1.5: secure channel, card read and OUT/LED over TCP on 127.0.0.1', async () => {
  let pdLink: OsdpPdLink | undefined;
  let pdLine: OsdpTransport | undefined;
  const listener = await listenOsdpTcp({ host: '127.0.0.1' }, (transport) => {
    pdLine = transport;
  });
  let session: Session | undefined;
  try {
    const cpLine = await connectOsdpTcp({ port: listener.port });
    await waitFor(() => pdLine !== undefined, 'accept');
    if (pdLine === undefined) throw new Error('no PD line');
    session = start(cpLine, pdLine);
    pdLink = session.pd;
    await exercise(session);
  } finally {
    await session?.cp.close();
    await pdLink?.close();
    await listener.close();
  }
});

function startSocat(): Promise<{ child: ChildProcess; paths: [string, string] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('socat did not start'));
    }, 5000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`socat is required for the pty test (apt-get install socat): ${error.message}`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (log.length < 8192) log += chunk.toString('utf8');
      const paths = [...log.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1] ?? '');
      const [a, b] = paths;
      if (a !== undefined && b !== undefined && log.includes('starting data transfer')) {
        clearTimeout(timer);
        resolve({ child, paths: [a, b] });
      }
    });
  });
}

test('ACS-5.1.1.5: secure channel, card read and OUT/LED over a socat pty pair', async () => {
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const { child, paths } = await startSocat();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let session: Session | undefined;
  try {
    session = start(openOsdpPty(paths[0]), openOsdpPty(paths[1]));
    await exercise(session);
  } finally {
    await session?.cp.close();
    await session?.pd.close();
    child.kill();
    await exited;
  }
  assert.ok(readdirSync('/proc/self/fd').length <= fdsBefore + 1, 'pty file descriptors closed');
});
