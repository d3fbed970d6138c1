// `vigil reader --simulate`: an OSDP card reader (Peripheral Device) for installers and tests,
// speaking the Secure Channel like a real one. Cards and PINs are typed on standard input, one
// per line (`card 90:324` for H10301 facility:number, `card 1234567` for the 24-bit payload,
// `pin 1234`); what the controller commands (lock output, LED) is printed. It accepts the default
// install key only when started with --install-mode (ACS-5.1.1.5), keeps the key the controller
// then installs sealed under the device-bound keyring, and uses only that key afterwards.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { VigilError } from '../../core/errors.ts';
import type { EdgeKeyring } from '../../crypto/edge-keyring.ts';
import type { OsdpCommand } from '../osdp/commands.ts';
import { OsdpPdLink } from '../osdp/link.ts';
import { listenOsdpTcp, openOsdpPty, type OsdpTcpListener, type OsdpTransport } from '../osdp/transport.ts';
import { encodeWiegand } from '../wiegand/formats.ts';

const PURPOSE = 'reader.state';
const OSDP_RAW_WIEGAND = 1;
const MAX_PIN_DIGITS = 16;
const LED_COLOURS = ['black', 'red', 'green', 'amber', 'blue', 'magenta', 'cyan', 'white'];

export interface SimulatedReaderOptions {
  listen?: { host: string; port: number };
  pty?: string;
  address: number;
  installMode: boolean;
  keyring: EdgeKeyring;
  dataDir: string;
  input: Readable;
  print: (line: string) => void;
}

export interface RunningReader {
  /** The TCP port listened on (when --listen). */
  port: number | undefined;
  closed: Promise<void>;
  stop(): Promise<void>;
}

/** `card …` / `pin …` → what to queue; anything else is a usage error (VIGIL_VALIDATION). */
export function parseReaderInput(line: string): { kind: 'card'; facilityCode: number; cardNumber: number } | { kind: 'pin'; digits: string } | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  const card = /^card\s+(?:(\d{1,3}):(\d{1,5})|(\d{1,8}))$/.exec(text);
  if (card !== null) {
    if (card[3] !== undefined) {
      const payload = Number(card[3]);
      if (payload >= 2 ** 24) throw new VigilError('VIGIL_VALIDATION', 'an H10301 card payload is below 16777216');
      return { kind: 'card', facilityCode: payload >>> 16, cardNumber: payload & 0xffff };
    }
    const facilityCode = Number(card[1]);
    const cardNumber = Number(card[2]);
    if (facilityCode > 255 || cardNumber > 65535) throw new VigilError('VIGIL_VALIDATION', 'H10301: facility 0-255, card 0-65535');
    return { kind: 'card', facilityCode, cardNumber };
  }
  const pin = /^pin\s+(\d{1,16})$/.exec(text);
  if (pin?.[1] !== undefined && pin[1].length <= MAX_PIN_DIGITS) return { kind: 'pin', digits: pin[1] };
  throw new VigilError('VIGIL_VALIDATION', 'type `card FACILITY:NUMBER`, `card PAYLOAD` or `pin DIGITS`');
}

function describeCommand(command: OsdpCommand): string[] {
  if (command.kind === 'OUT') {
    return command.outputs.map((o) => {
      if (o.controlCode === 5 || o.controlCode === 4) return `output ${o.output}: unlocked for ${(o.timer / 10).toFixed(1)} s`;
      if (o.controlCode === 1 || o.controlCode === 3) return `output ${o.output}: locked`;
      if (o.controlCode === 2) return `output ${o.output}: unlocked (held)`;
      return `output ${o.output}: control ${o.controlCode}`;
    });
  }
  if (command.kind === 'LED') return command.leds.map((l) => `led ${LED_COLOURS[l.temporary.onColor] ?? l.temporary.onColor}`);
  return [`command ${command.kind}`];
}

export async function startSimulatedReader(o: SimulatedReaderOptions): Promise<RunningReader> {
  if ((o.listen === undefined) === (o.pty === undefined)) throw new VigilError('VIGIL_VALIDATION', 'give one of --listen HOST:PORT or --pty PATH');
  const keyFile = path.join(o.dataDir, 'reader', `scbk-${o.address}.sealed`);
  const clientUid = randomBytes(8);
  let current: OsdpPdLink | undefined;
  let secure = false;
  const attach = (transport: OsdpTransport): void => {
    const scbk = o.keyring.readSealed(keyFile, PURPOSE);
    if (scbk === undefined && !o.installMode) {
      o.print('reader: no Secure Channel key installed and not in install mode: refusing the line (start with --install-mode to install)');
      void transport.close();
      return;
    }
    const link = new OsdpPdLink(transport, {
      address: o.address,
      clientUid,
      ...(scbk === undefined ? {} : { scbk }),
      installMode: o.installMode,
      identity: { vendorCode: 0x5c2643, model: 1, version: 1, serialNumber: clientUid.readUInt32BE(0), firmware: { major: 1, minor: 0, build: 0 } },
      capabilities: [{ functionCode: 9, compliance: 1, count: 0 }],
      onCommand: (command) => {
        for (const line of describeCommand(command)) o.print(line);
      },
      onKeyChange: (key) => {
        o.keyring.writeSealed(keyFile, PURPOSE, key);
        o.print('reader: new Secure Channel key installed by the controller (kept sealed)');
      },
      onTamper: (event) => o.print(`reader: tamper: ${event.reason} (refused)`),
    });
    current = link;
    transport.setCloseListener(() => {
      if (current === link) current = undefined;
      o.print('reader: line closed');
    });
    o.print(`reader: line ${transport.description} connected${scbk === undefined ? ' (install mode: default key accepted once)' : ''}`);
  };

  let listener: OsdpTcpListener | undefined;
  if (o.listen !== undefined) listener = await listenOsdpTcp(o.listen, attach);
  else if (o.pty !== undefined) attach(openOsdpPty(o.pty));

  const watch = setInterval(() => {
    const now = current?.pd.secure ?? false;
    if (now !== secure) o.print(now ? 'reader: secure channel up' : 'reader: secure channel down');
    secure = now;
  }, 20);

  const rl = createInterface({ input: o.input, terminal: false });
  rl.on('line', (line) => {
    try {
      const input = parseReaderInput(line.slice(0, 200));
      if (input === undefined) return;
      const pd = current?.pd;
      if (pd === undefined) {
        o.print('reader: no controller connected; input dropped');
        return;
      }
      const queued = input.kind === 'card'
        ? (() => {
            const bits = encodeWiegand({ format: 'H10301', facilityCode: input.facilityCode, cardNumber: input.cardNumber });
            return pd.queueCardRead({ reader: 0, format: OSDP_RAW_WIEGAND, bitCount: bits.bitCount, data: bits.data });
          })()
        : // The digits then '#' (OSDP §7.13 sends it as 0x0D), as a person ends the entry.
          pd.queueKeypad(0, Buffer.concat([Buffer.from(input.digits, 'ascii'), Buffer.from([0x0d])]));
      o.print(queued ? `reader: ${input.kind} queued` : 'reader: event queue full; input dropped');
    } catch (err) {
      if (err instanceof VigilError) o.print(`reader: ${err.code}: ${err.message}`);
      else throw err;
    }
  });

  let stopping: Promise<void> | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(watch);
      rl.close();
      await current?.close();
      await listener?.close();
      resolveClosed();
    })());
  if (o.pty !== undefined && listener === undefined) {
    // A pty line that closes ends the simulation (the other end went away).
    const link = current;
    if (link === undefined) await stop();
  }
  if (listener !== undefined) o.print(`reader: OSDP PD address ${o.address} listening on tcp:${o.listen?.host ?? ''}:${listener.port}`);
  return { port: listener?.port, closed, stop };
}
