// Test double: a CP and a PD wired back to back in memory with a virtual clock, and hooks to
// drop, alter or inject packets in either direction (the attacker on the wire). Test-only.
import type { OsdpCommand } from './commands.ts';
import { OsdpControlPanel, type OsdpCpOptions, type OsdpCpPeerConfig } from './cp.ts';
import type { OsdpCpEvent, OsdpTamperEvent } from './events.ts';
import { OsdpPeripheralDevice, type OsdpPdOptions } from './pd.ts';

export type WireHook = (bytes: Buffer) => Buffer | undefined;

export const TEST_IDENTITY = {
  vendorCode: 0x5c2643,
  model: 1,
  version: 1,
  serialNumber: 0x01020304,
  firmware: { major: 1, minor: 0, build: 0 },
} as const;

export interface BenchOptions {
  readonly cpPeer: Partial<OsdpCpPeerConfig>;
  readonly pd: Partial<OsdpPdOptions>;
  readonly cp?: Partial<OsdpCpOptions>;
}

export class OsdpTestBench {
  now = 0;
  readonly cpEvents: OsdpCpEvent[] = [];
  readonly tampers: OsdpTamperEvent[] = [];
  readonly pdCommands: OsdpCommand[] = [];
  readonly commandsSeen: Buffer[] = [];
  readonly repliesSeen: Buffer[] = [];
  readonly installedKeys: Buffer[] = [];
  readonly pdKeys: Buffer[] = [];
  toPd: WireHook = (b) => b;
  toCp: WireHook = (b) => b;
  readonly cp: OsdpControlPanel;
  readonly pd: OsdpPeripheralDevice;
  readonly #outbox: Buffer[] = [];

  constructor(options: BenchOptions) {
    this.cp = new OsdpControlPanel({
      peers: [{ address: 1, ...options.cpPeer }],
      send: (bytes) => this.#outbox.push(bytes),
      onEvent: (event) => this.cpEvents.push(event),
      onTamper: (event) => this.tampers.push(event),
      onKeyInstalled: (_address, key) => this.installedKeys.push(key),
      pollIntervalMs: 10,
      replyTimeoutMs: 40,
      maxRetries: 2,
      offlineBackoffMs: 100,
      ...options.cp,
    });
    this.pd = new OsdpPeripheralDevice({
      address: 1,
      clientUid: Buffer.from('0102030405060708', 'hex'),
      identity: TEST_IDENTITY,
      capabilities: [{ functionCode: 9, compliance: 1, count: 0 }],
      onCommand: (command) => this.pdCommands.push(command),
      onTamper: (event) => this.tampers.push(event),
      onKeyChange: (key) => this.pdKeys.push(key),
      ...options.pd,
    });
  }

  /** Advance the clock `steps` × 5 ms, delivering every packet through the hooks. */
  run(steps: number): void {
    for (let i = 0; i < steps; i++) {
      this.now += 5;
      this.cp.tick(this.now);
      this.#deliver();
    }
  }

  /** Put bytes on the wire towards the PD (as an attacker would) and deliver the replies. */
  injectToPd(bytes: Buffer): void {
    for (const reply of this.pd.receive(bytes, this.now)) {
      this.repliesSeen.push(reply);
      const out = this.toCp(reply);
      if (out !== undefined) this.cp.receive(out, this.now);
    }
  }

  runUntil(predicate: () => boolean, maxSteps = 400): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (predicate()) return true;
      this.run(1);
    }
    return predicate();
  }

  events(kind: OsdpCpEvent['kind']): OsdpCpEvent[] {
    return this.cpEvents.filter((e) => e.kind === kind);
  }

  #deliver(): void {
    // bounded: each command produces at most one reply, and the CP sends at most one per tick
    for (let guard = 0; guard < 8 && this.#outbox.length > 0; guard++) {
      const command = this.#outbox.shift();
      if (command === undefined) break;
      this.commandsSeen.push(command);
      const out = this.toPd(command);
      if (out !== undefined) this.injectToPd(out);
    }
  }
}
