// The controller's side of the sync (design §6, ACS-5.4.2.3, ACS-5.4.2.4): it connects to the
// platform's device listener with its device certificate, trusting only the device CA and
// checking the listener's name; answers the attestation nonce (ACS-5.1.1.6); then, every
// interval, pulls its credential set and pushes its buffered events in order, forgetting them
// only once acknowledged. When the platform is unreachable it reconnects with capped,
// jittered exponential backoff while the EdgeController keeps deciding offline on its own.
import { setTimeout as sleep } from 'node:timers/promises';
import tls, { type TLSSocket } from 'node:tls';
import { VigilError } from '../../core/errors.ts';
import { tlsClientOptions } from '../../crypto/tls.ts';
import type { EdgeController } from './edge-controller.ts';
import { signAttestation } from './sync-measurement.ts';
import { encodeFrame, FrameReader, MAX_EVENTS_PER_BATCH, MAX_PLATFORM_FRAME_BYTES, parsePlatformMessage, type ControllerMessage, type PlatformMessage } from './sync-protocol.ts';

export interface SyncClientOptions {
  host: string;
  port: number;
  /** Name checked against the listener's certificate (default: host). */
  servername?: string;
  controllerId: string;
  certPem: string;
  keyPem: string;
  /** The device CA: the only trust anchor of this connection. */
  caPem: string;
  controller: EdgeController;
  /** ACS-5.1.1.6: the measurement of this controller's software (measureControllerSoftware()). */
  measurement: string;
  intervalMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  requestTimeoutMs?: number;
  /** Random source for jitter in [0, 1) (tests pass a seeded one). */
  random?: () => number;
}

export interface SyncStatus {
  online: boolean;
  connects: number;
  /** Completed pull + push rounds. */
  rounds: number;
  lastRoundAt: number | null;
  /** Code of the last failure, e.g. VIGIL_DEVICE_UNREACHABLE, VIGIL_DEVICE_REFUSED. */
  lastError: string | null;
}

export class ControllerSyncClient {
  readonly #o: SyncClientOptions;
  readonly #abort = new AbortController();
  readonly #status: SyncStatus = { online: false, connects: 0, rounds: 0, lastRoundAt: null, lastError: null };
  #socket: TLSSocket | undefined;
  #loop: Promise<void> | undefined;

  constructor(o: SyncClientOptions) {
    this.#o = o;
  }

  get status(): Readonly<SyncStatus> {
    return { ...this.#status };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#socket?.destroy();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const initial = this.#o.backoffInitialMs ?? 500;
    const max = this.#o.backoffMaxMs ?? 60_000;
    const random = this.#o.random ?? Math.random;
    let backoff = initial;
    while (!this.#abort.signal.aborted) {
      try {
        await this.#session(() => {
          backoff = initial;
        });
      } catch (err) {
        this.#status.lastError = err instanceof VigilError ? err.code : 'VIGIL_DEVICE_UNREACHABLE';
      }
      this.#status.online = false;
      this.#socket?.destroy();
      this.#socket = undefined;
      if (this.#abort.signal.aborted) break;
      // ACS-5.4.2.4: orderly reconnection; jitter keeps a site's controllers from stampeding.
      const wait = Math.round(backoff * (0.5 + random() / 2));
      backoff = Math.min(max, backoff * 2);
      await sleep(wait, undefined, { signal: this.#abort.signal }).catch(() => undefined);
    }
  }

  async #session(onAttested: () => void): Promise<void> {
    const o = this.#o;
    const socket = tls.connect({
      ...tlsClientOptions({ ca: o.caPem, servername: o.servername ?? o.host }),
      host: o.host,
      port: o.port,
      cert: o.certPem,
      key: o.keyPem,
    });
    this.#socket = socket;
    const link = new PlatformLink(socket, o.requestTimeoutMs ?? 15_000);
    await link.connected();
    this.#status.connects++;
    const hello = await link.next();
    if (hello.t !== 'hello') throw unexpected(hello);
    link.send({ t: 'attest', measurement: o.measurement, signature: signAttestation(o.keyPem, hello.nonce, o.measurement, o.controllerId) });
    const attested = await link.next();
    if (attested.t !== 'attested') throw unexpected(attested);
    onAttested();
    this.#status.online = true;
    while (!this.#abort.signal.aborted) {
      await this.#round(link);
      this.#status.rounds++;
      this.#status.lastRoundAt = Date.now();
      this.#status.lastError = null;
      await Promise.race([sleep(o.intervalMs ?? 5000, undefined, { signal: this.#abort.signal }).catch(() => undefined), link.closed]);
      if (socket.destroyed) throw new VigilError('VIGIL_DEVICE_UNREACHABLE', 'the platform closed the connection');
    }
  }

  /** One pull of the credential set, then the buffered events in batches, acknowledged. */
  async #round(link: PlatformLink): Promise<void> {
    const controller = this.#o.controller;
    link.send({ t: 'pull', have: controller.version });
    const reply = await link.next();
    if (reply.t === 'set') controller.apply(reply.set);
    else if (reply.t === 'current') controller.markSynced();
    else throw unexpected(reply);

    const stored = controller.log.stored;
    if (stored.length === 0) return;
    // Taken together (export is synchronous): decisions made while we wait for an ack append to
    // the log, and acknowledgements shift it, so positions are fixed here.
    const events = controller.log.export();
    const prevHashes = stored.slice(0, events.length).map((s) => s.prevHash);
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) {
      const batch = events.slice(i, i + MAX_EVENTS_PER_BATCH);
      const prevHash = prevHashes[i];
      if (prevHash === undefined) break;
      link.send({ t: 'push', prevHash, events: batch });
      const ack = await link.next();
      if (ack.t !== 'ack') throw unexpected(ack);
      // Forget only what the platform has stored.
      controller.log.acknowledge(ack.seq);
    }
  }
}

function unexpected(m: PlatformMessage): VigilError {
  if (m.t === 'error') return new VigilError(isDeviceCode(m.code) ? m.code : 'VIGIL_DEVICE_PROTOCOL', `the platform refused: ${m.code}`);
  return new VigilError('VIGIL_DEVICE_PROTOCOL', `unexpected '${m.t}' from the platform`);
}

const DEVICE_CODES = ['VIGIL_DEVICE_REFUSED', 'VIGIL_DEVICE_UNTRUSTED', 'VIGIL_DEVICE_PROTOCOL', 'VIGIL_DEVICE_EVENTS_REJECTED'] as const;
function isDeviceCode(code: string): code is (typeof DEVICE_CODES)[number] {
  return (DEVICE_CODES as readonly string[]).includes(code);
}

/** The client's view of one connection: send a message, wait for the next reply (bounded). */
class PlatformLink {
  readonly closed: Promise<void>;
  readonly #socket: TLSSocket;
  readonly #timeoutMs: number;
  readonly #replies: PlatformMessage[] = [];
  #waiter: ((m: PlatformMessage | Error) => void) | undefined;
  #failure: Error | undefined;

  constructor(socket: TLSSocket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    const reader = new FrameReader(MAX_PLATFORM_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) this.#deliver(parsePlatformMessage(frame));
        if (this.#replies.length > 4) throw new VigilError('VIGIL_DEVICE_PROTOCOL', 'unsolicited messages');
      } catch (err) {
        this.#fail(err instanceof Error ? err : new VigilError('VIGIL_DEVICE_PROTOCOL', 'bad frame'));
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.#fail(new VigilError('VIGIL_DEVICE_UNREACHABLE', `platform unreachable: ${err.message}`)));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.#fail(new VigilError('VIGIL_DEVICE_UNREACHABLE', 'the platform closed the connection'));
      resolve();
    }));
  }

  async connected(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#socket.destroy();
        reject(new VigilError('VIGIL_DEVICE_UNREACHABLE', 'TLS connection timed out'));
      }, this.#timeoutMs);
      this.#socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.closed.then(() => {
        clearTimeout(timer);
        reject(this.#failure ?? new VigilError('VIGIL_DEVICE_UNREACHABLE', 'connection closed'));
      }, reject);
    });
  }

  send(m: ControllerMessage): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#socket.write(encodeFrame(m));
  }

  next(): Promise<PlatformMessage> {
    const queued = this.#replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        this.#socket.destroy();
        reject(new VigilError('VIGIL_DEVICE_UNREACHABLE', 'the platform did not answer in time'));
      }, this.#timeoutMs);
      this.#waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
    });
  }

  #deliver(m: PlatformMessage): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w !== undefined) w(m);
    else this.#replies.push(m);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(this.#failure);
  }
}
