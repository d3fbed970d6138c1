// The platform's device listener (design §6): mutually authenticated TLS where only certificates
// of our device CA get through the handshake (requestCert, rejectUnauthorized), then on every
// connection the registry's identity and revocation check (ACS-5.1.1.4, ACS-5.1.1.11), then
// remote attestation on a fresh nonce (ACS-5.1.1.6) before any credential is served. A
// controller pulls its signed credential set (full or delta) and pushes its event log in order
// (ACS-5.4.2.3). One connection per controller: a new one replaces the old.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Clock } from '../../core/clock.ts';
import { isVigilError, VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceSigner } from '../../crypto/signer.ts';
import { verifySignature } from '../../crypto/signer.ts';
import { tlsServerOptions } from '../../crypto/tls.ts';
import type { DeviceCa } from '../../device/device-ca.ts';
import type { DeviceRegistry } from '../../device/device-registry.ts';
import type { DeviceRow } from '../../device/device-repository.ts';
import { signCredentialSet } from './credential-set.ts';
import type { ControllerEventIngest } from './sync-events.ts';
import { attestationMessage } from './sync-measurement.ts';
import { encodeFrame, FrameReader, MAX_CONTROLLER_FRAME_BYTES, parseControllerMessage, type ControllerMessage, type PlatformMessage } from './sync-protocol.ts';
import type { CredentialSetSource } from './sync-source.ts';

export interface SyncServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Names the controllers use to reach the listener (SAN of its certificate). */
  hostnames: string[];
  ca: DeviceCa;
  registry: DeviceRegistry;
  events: ControllerEventIngest;
  source: CredentialSetSource;
  /** The platform key that signs credential sets. */
  signer: DeviceSigner;
  /** ACS-5.1.1.6: hex SHA-256 measurements of controller software the platform accepts. */
  allowedMeasurements: readonly string[];
  clock: Clock;
  logger?: Logger;
  maxConnections?: number;
  /** A connection quiet for this long is closed. */
  idleTimeoutMs?: number;
  /** Time allowed for the TLS handshake and for the attestation answer. */
  handshakeTimeoutMs?: number;
}

/** Messages a controller may have in flight before it is cut off (it sends one at a time). */
const MAX_QUEUED_MESSAGES = 4;

export class ControllerSyncServer {
  readonly #o: SyncServerOptions;
  readonly #server: tls.Server;
  readonly #sockets = new Set<TLSSocket>();
  readonly #byDevice = new Map<string, TLSSocket>();
  readonly #allowed: Set<string>;

  private constructor(o: SyncServerOptions, material: { certPem: string; keyPem: string }) {
    this.#o = o;
    this.#allowed = new Set(o.allowedMeasurements);
    this.#server = tls.createServer({
      ...tlsServerOptions(material),
      // ACS-5.1.1.4: the chain is validated against the device CA alone, in the handshake.
      ca: o.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
    });
    this.#server.maxConnections = o.maxConnections ?? 256;
    this.#server.on('secureConnection', (socket) => this.#accept(socket));
    // Failed handshakes (foreign CA, no certificate) are the client's problem, not a crash.
    this.#server.on('tlsClientError', (err, socket) => {
      o.logger?.debug({ err: err.message, source: socket.remoteAddress }, 'device TLS handshake refused');
    });
  }

  /** Starts listening with a certificate from the device CA, fresh for each start. */
  static async start(o: SyncServerOptions): Promise<ControllerSyncServer> {
    const material = await o.ca.issueServerCertificate(o.hostnames);
    const server = new ControllerSyncServer(o, material);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(o.port, o.host, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  #accept(socket: TLSSocket): void {
    this.#sockets.add(socket);
    socket.setTimeout(this.#o.idleTimeoutMs ?? 120_000, () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    this.#session(socket).catch((err: unknown) => {
      if (!isVigilError(err)) this.#o.logger?.error({ err }, 'device session failed');
      socket.destroy();
    });
  }

  async #session(socket: TLSSocket): Promise<void> {
    const source = socket.remoteAddress ?? 'unknown';
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) throw new VigilError('VIGIL_DEVICE_REFUSED', 'no client certificate');
    const inbox = new Inbox(socket);
    const send = (m: PlatformMessage): void => {
      if (!socket.destroyed) socket.write(encodeFrame(m));
    };
    const refuse = (code: string): void => {
      send({ t: 'error', code });
      socket.end();
    };

    let device: DeviceRow;
    try {
      device = await this.#o.registry.authorise(cert, 'controller', source);
    } catch (err) {
      if (isVigilError(err, 'VIGIL_DEVICE_REFUSED')) return refuse(err.code);
      throw err;
    }
    const previous = this.#byDevice.get(device.id);
    if (previous !== undefined) previous.destroy();
    this.#byDevice.set(device.id, socket);
    socket.on('close', () => {
      if (this.#byDevice.get(device.id) === socket) this.#byDevice.delete(device.id);
    });

    // ACS-5.1.1.6: a fresh nonce per connection; the answer is signed by the key that just
    // authenticated in TLS, so it cannot be replayed from another connection or device.
    const nonce = randomBytes(32).toString('base64');
    send({ t: 'hello', nonce });
    const answer = await inbox.next(this.#o.handshakeTimeoutMs ?? 10_000);
    if (answer.t !== 'attest') return refuse('VIGIL_DEVICE_PROTOCOL');
    const publicKeyPem = cert.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signed = verifySignature(publicKeyPem, attestationMessage(nonce, answer.measurement, device.id), Buffer.from(answer.signature, 'base64'));
    const result = !signed
      ? ({ ok: false, measurement: null, reason: 'attestation signature invalid' } as const)
      : !this.#allowed.has(answer.measurement)
        ? ({ ok: false, measurement: answer.measurement, reason: 'software measurement not in the allowed list' } as const)
        : ({ ok: true, measurement: answer.measurement } as const);
    if (!(await this.#o.registry.recordAttestation(device, result, source))) return refuse('VIGIL_DEVICE_UNTRUSTED');
    send({ t: 'attested' });

    for (;;) {
      const message = await inbox.next(this.#o.idleTimeoutMs ?? 120_000);
      // Revocation takes effect on the next request, not only on the next connection.
      try {
        device = await this.#o.registry.authorise(cert, 'controller', source);
      } catch (err) {
        if (isVigilError(err, 'VIGIL_DEVICE_REFUSED')) return refuse(err.code);
        throw err;
      }
      if (device.trust !== 'trusted') return refuse('VIGIL_DEVICE_UNTRUSTED');
      const reply = await this.#handle(device, message, source);
      if (reply.t === 'error') return refuse(reply.code);
      send(reply);
    }
  }

  async #handle(device: DeviceRow, message: ControllerMessage, source: string): Promise<PlatformMessage> {
    switch (message.t) {
      case 'pull': {
        const changes = await this.#o.source.changesSince(device.id, message.have);
        if (changes === null) return { t: 'current', version: message.have };
        return { t: 'set', set: signCredentialSet(this.#o.signer, { controllerId: device.id, issuedAt: this.#o.clock.now(), ...changes }) };
      }
      case 'push':
        try {
          return { t: 'ack', seq: await this.#o.events.ingest(device.id, message.prevHash, message.events, source) };
        } catch (err) {
          if (isVigilError(err, 'VIGIL_DEVICE_EVENTS_REJECTED')) return { t: 'error', code: err.code };
          throw err;
        }
      case 'attest':
        return { t: 'error', code: 'VIGIL_DEVICE_PROTOCOL' };
    }
  }
}

/** Controller messages of one connection, parsed and bounded, handed out one at a time. */
class Inbox {
  readonly #queue: ControllerMessage[] = [];
  #waiter: { resolve: (m: ControllerMessage) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;

  constructor(socket: TLSSocket) {
    const reader = new FrameReader(MAX_CONTROLLER_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) this.#deliver(parseControllerMessage(frame));
        if (this.#queue.length > MAX_QUEUED_MESSAGES) throw new VigilError('VIGIL_DEVICE_PROTOCOL', 'too many requests in flight');
      } catch (err) {
        this.#fail(err instanceof Error ? err : new VigilError('VIGIL_DEVICE_PROTOCOL', 'bad frame'));
        socket.destroy();
      }
    });
    socket.on('close', () => this.#fail(new VigilError('VIGIL_DEVICE_UNREACHABLE', 'connection closed')));
  }

  next(timeoutMs: number): Promise<ControllerMessage> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new VigilError('VIGIL_DEVICE_PROTOCOL', 'no answer in time'));
      }, timeoutMs);
      this.#waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  #deliver(m: ControllerMessage): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w !== undefined) w.resolve(m);
    else this.#queue.push(m);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#failure);
  }
}
