// The one UDP transport of the discovery responders: binds on the configured host, drops
// oversize datagrams, limits the datagrams handled per source address before any parsing (a
// bounded map; so a flood costs bounded work and cannot turn the device into an amplifier:
// answers never exceed the requests let in), counts malformed input instead of
// logging each packet, and joins the protocol's IPv4 multicast group only when bound to a
// real interface (never on loopback: tests and a loopback-only device send nothing to the LAN).
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../../core/logger.ts';
import { VigilError } from '../../core/errors.ts';

/** Replies to the sender of one datagram. */
export interface DiscoveryReply {
  datagrams: Buffer[];
  /** Wait before answering (SSDP MX), already bounded by the handler. */
  delayMs?: number;
}

/**
 * Handles one datagram that passed the size and rate bounds: ignores it (not for us), throws
 * MalformedDatagram, or calls `respond` (at once, or later for an asynchronous protocol engine).
 */
export type DatagramHandler = (datagram: Buffer, source: DatagramSource, respond: (reply: DiscoveryReply) => void) => void;

export interface DatagramSource {
  address: string;
  port: number;
  /** It may have been sent to the multicast group (not a unicast request to our address). */
  multicast: boolean;
}

/** Thrown by a handler for input that is not a valid request of its protocol: counted, dropped. */
export class MalformedDatagram extends Error {}

export interface ResponderCounters {
  received: number;
  answered: number;
  oversize: number;
  malformed: number;
  rateLimited: number;
}

export interface UdpResponderOptions {
  name: string;
  host: string;
  port: number;
  maxDatagramBytes: number;
  answersPerSourcePerMinute: number;
  /** IPv4 group joined when bound to a non-loopback address (or the wildcard). */
  multicastGroup?: string;
  handle: DatagramHandler;
  logger: Logger;
  /** Largest number of source addresses remembered by the rate limit. */
  maxSources?: number;
  /** Largest number of delayed answers waiting at once; more are dropped. */
  maxPending?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;

/** Per-source fixed-window counter with a hard capacity (oldest source forgotten first). */
export class SourceRateLimit {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #limit: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(o: { perMinute: number; capacity: number; now: () => number }) {
    this.#limit = o.perMinute;
    this.#capacity = o.capacity;
    this.#now = o.now;
  }

  get size(): number {
    return this.#windows.size;
  }

  /** True when `source` may get one more answer now. */
  allow(source: string): boolean {
    const now = this.#now();
    const w = this.#windows.get(source);
    if (w !== undefined && now - w.start < WINDOW_MS) {
      if (w.count >= this.#limit) return false;
      w.count++;
      return true;
    }
    this.#windows.delete(source);
    while (this.#windows.size >= this.#capacity) {
      const oldest = this.#windows.keys().next();
      if (oldest.done === true) break;
      this.#windows.delete(oldest.value);
    }
    this.#windows.set(source, { start: now, count: 1 });
    return true;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export class UdpResponder {
  readonly counters: ResponderCounters = { received: 0, answered: 0, oversize: 0, malformed: 0, rateLimited: 0 };
  readonly #o: UdpResponderOptions;
  readonly #limit: SourceRateLimit;
  readonly #sockets: dgram.Socket[] = [];
  readonly #pending = new Set<NodeJS.Timeout>();
  #unicast: dgram.Socket | undefined;
  #closed = false;

  private constructor(o: UdpResponderOptions) {
    this.#o = o;
    this.#limit = new SourceRateLimit({ perMinute: o.answersPerSourcePerMinute, capacity: o.maxSources ?? 4096, now: o.now ?? Date.now });
  }

  static async start(o: UdpResponderOptions): Promise<UdpResponder> {
    const r = new UdpResponder(o);
    try {
      await r.#open();
    } catch (err) {
      await r.close();
      throw new VigilError('VIGIL_DISCOVERY_BIND_FAILED', `${o.name}: cannot listen on UDP ${o.host}:${o.port}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
    return r;
  }

  get port(): number {
    return this.#unicast?.address().port ?? 0;
  }

  async #open(): Promise<void> {
    const family = isIP(this.#o.host) === 6 ? 'udp6' : 'udp4';
    const unicast = dgram.createSocket({ type: family, reuseAddr: false });
    this.#sockets.push(unicast);
    // Bound to the wildcard, a socket cannot tell a group datagram from a unicast one.
    const wildcardBind = this.#o.host === '0.0.0.0' || this.#o.host === '::';
    unicast.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo, wildcardBind));
    unicast.on('error', (err) => this.#o.logger.warn({ err, responder: this.#o.name }, 'discovery socket error'));
    await bindSocket(unicast, this.#o.port, this.#o.host);
    this.#unicast = unicast;
    const group = this.#o.multicastGroup;
    if (group === undefined || family !== 'udp4' || isLoopback(this.#o.host)) return;
    // Linux delivers a multicast datagram only to sockets bound to the group (or the wildcard):
    // a second socket bound to the group receives it; answers leave from the unicast socket.
    const wildcard = this.#o.host === '0.0.0.0';
    const multicast = wildcard ? unicast : dgram.createSocket({ type: 'udp4', reuseAddr: true });
    if (!wildcard) {
      this.#sockets.push(multicast);
      multicast.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo, true));
      multicast.on('error', (err) => this.#o.logger.warn({ err, responder: this.#o.name }, 'discovery multicast socket error'));
      await new Promise<void>((resolve, reject) => {
        multicast.once('error', reject);
        multicast.bind({ port: this.port, address: group }, () => resolve());
      });
    }
    multicast.addMembership(group, wildcard ? undefined : this.#o.host);
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo, multicast: boolean): void {
    if (this.#closed) return;
    this.counters.received++;
    if (msg.length > this.#o.maxDatagramBytes) {
      this.counters.oversize++;
      return;
    }
    if (!this.#limit.allow(rinfo.address)) {
      this.counters.rateLimited++;
      return;
    }
    try {
      this.#o.handle(msg, { address: rinfo.address, port: rinfo.port, multicast }, (reply) => this.#respond(reply, rinfo));
    } catch (err) {
      if (!(err instanceof MalformedDatagram)) this.#o.logger.warn({ err, responder: this.#o.name }, 'discovery handler failed');
      this.counters.malformed++;
    }
  }

  /** An answer produced outside a handler call (an engine that answers on its own, SNMP). */
  sendTo(datagram: Buffer, port: number, address: string): void {
    if (this.#closed || this.#unicast === undefined) return;
    this.#unicast.send(datagram, port, address);
    this.counters.answered++;
  }

  /** Counts a datagram the protocol engine refused after parsing (SNMP). */
  countMalformed(): void {
    this.counters.malformed++;
  }

  #respond(reply: DiscoveryReply, to: { address: string; port: number }): void {
    if (reply.datagrams.length === 0) return;
    const send = (): void => {
      const socket = this.#unicast;
      if (this.#closed || socket === undefined) return;
      for (const d of reply.datagrams) socket.send(d, to.port, to.address);
      this.counters.answered++;
    };
    const delay = reply.delayMs ?? 0;
    if (delay <= 0) {
      send();
      return;
    }
    if (this.#pending.size >= (this.#o.maxPending ?? 64)) {
      this.counters.rateLimited++;
      return;
    }
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      send();
    }, delay);
    timer.unref();
    this.#pending.add(timer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
    await Promise.all(
      this.#sockets.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve(); // never bound: nothing to release
            }
          }),
      ),
    );
    this.#unicast = undefined;
  }
}
