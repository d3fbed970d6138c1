// Runs a sans-I/O CP or PD over an OsdpTransport: feeds received bytes in, writes packets out,
// and (for the CP) drives tick() from one interval timer. Time is monotonic (performance.now), so
// a wall-clock change cannot fake a timeout. close() stops the timer and closes the line.
import { performance } from 'node:perf_hooks';
import { OsdpControlPanel, type OsdpCpOptions } from './cp.ts';
import { OsdpPeripheralDevice, type OsdpPdOptions } from './pd.ts';
import type { OsdpTransport } from './transport.ts';

export class OsdpCpLink {
  readonly cp: OsdpControlPanel;
  readonly #transport: OsdpTransport;
  readonly #timer: NodeJS.Timeout;

  constructor(transport: OsdpTransport, options: Omit<OsdpCpOptions, 'send'>, tickMs = 5) {
    this.#transport = transport;
    // A write refused by a closed or stuck line is a lost packet: the CP's retry and offline
    // logic (§5.7) is what handles it.
    this.cp = new OsdpControlPanel({ ...options, send: (bytes) => void transport.write(bytes) });
    transport.setDataListener((chunk) => this.cp.receive(chunk, performance.now()));
    transport.setCloseListener(() => clearInterval(this.#timer));
    this.#timer = setInterval(() => this.cp.tick(performance.now()), tickMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.cp.close();
    await this.#transport.close();
  }
}

export class OsdpPdLink {
  readonly pd: OsdpPeripheralDevice;
  readonly #transport: OsdpTransport;

  constructor(transport: OsdpTransport, options: OsdpPdOptions) {
    this.#transport = transport;
    this.pd = new OsdpPeripheralDevice(options);
    transport.setDataListener((chunk) => {
      for (const reply of this.pd.receive(chunk, performance.now())) transport.write(reply);
    });
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}
