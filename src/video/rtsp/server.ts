// RTSP server of the software camera (RFC 2326; RTSPS with the TLS profile, design §4:
// port 322). Serves LiveVideoSource streams by path; Digest required (see
// server-connection.ts); session timeout (§12.37) enforced by one sweep timer; connections
// bounded by maxConnections (ACS-5.4.1.1).
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import { tlsServerOptions, type TlsMaterial } from '../../crypto/tls.ts';
import type { RtspAuthenticator } from './digest-server.ts';
import type { LiveVideoSource } from './live-source.ts';
import type { RtspLimits } from './message.ts';
import { RtspServerConnection, type ServerContext, type RtspAuthResult } from './server-connection.ts';

export interface RtspServerOptions {
  authenticator: RtspAuthenticator;
  /** With TLS material the server speaks RTSPS only. */
  tls?: TlsMaterial;
  host?: string;
  port?: number;
  sessionTimeoutSeconds?: number;
  /** An unauthenticated connection without a session is dropped after this. */
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxAuthFailures?: number;
  limits?: Partial<RtspLimits>;
  clock?: Clock;
  /** Outcome of every authentication attempt (audit, lockout shared with the web login). */
  onAuthResult?: (result: RtspAuthResult) => void;
}

export class RtspServer {
  private readonly options: RtspServerOptions;
  private readonly server: Server;
  private readonly streams = new Map<string, LiveVideoSource>();
  private readonly connections = new Set<RtspServerConnection>();
  private readonly context: ServerContext;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: RtspServerOptions) {
    this.options = options;
    const clock = options.clock ?? systemClock;
    this.context = {
      authenticator: options.authenticator,
      sessionTimeoutSeconds: options.sessionTimeoutSeconds ?? 60,
      maxAuthFailures: options.maxAuthFailures ?? 5,
      limits: options.limits ?? {},
      onAuthResult: options.onAuthResult,
      findStream: (path) => this.streams.get(path),
      now: () => clock.now(),
    };
    const onSocket = (socket: Socket): void => this.accept(socket);
    this.server = options.tls === undefined
      ? net.createServer(onSocket)
      : tls.createServer({ ...tlsServerOptions(options.tls), handshakeTimeout: 10_000 }, onSocket);
    this.server.maxConnections = options.maxConnections ?? 32;
    // A failed TLS handshake only ends that socket (NVR-5.3.3.1a).
    this.server.on('tlsClientError', () => undefined);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : 0;
  }

  /** Serves `source` at rtsp(s)://host:port<path>, e.g. "/live". */
  addStream(path: string, source: LiveVideoSource): void {
    if (!/^\/[A-Za-z0-9._~/-]{0,200}$/.test(path) || path.endsWith('/')) throw new VigilError('VIGIL_VALIDATION', 'a stream path is /name');
    this.streams.set(path, source);
  }

  removeStream(path: string): void {
    this.streams.delete(path);
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.removeListener('error', reject);
        this.server.on('error', () => undefined);
        const timeoutMs = this.context.sessionTimeoutSeconds * 1000;
        this.sweeper = setInterval(() => this.sweep(), Math.min(1000, timeoutMs / 4));
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const open = [...this.connections];
    for (const c of open) c.connection.close();
    await Promise.all([closed, ...open.map((c) => c.done)]);
  }

  private accept(socket: Socket): void {
    const connection = new RtspServerConnection(socket, this.context, (c) => this.connections.delete(c));
    this.connections.add(connection);
  }

  /** §12.37: a session without a request for its timeout ends; idle strangers sooner. */
  private sweep(): void {
    const now = this.context.now();
    const sessionMs = this.context.sessionTimeoutSeconds * 1000;
    const idleMs = this.options.idleTimeoutMs ?? Math.min(10_000, sessionMs);
    for (const c of this.connections) {
      const limit = c.hasSession ? sessionMs : idleMs;
      if (now - c.lastActivity > limit) c.connection.close(new VigilError('VIGIL_RTSP_TIMEOUT', 'RTSP session timed out'));
    }
  }
}
