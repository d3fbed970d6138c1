// One client connection of the RTSP server (RFC 2326 §10): OPTIONS, DESCRIBE, SETUP (TCP
// interleaved only, §10.12), PLAY, TEARDOWN, GET_PARAMETER. Every method but OPTIONS needs
// Digest authentication (CAM-T-auth-1, ACS-5.1.1.9); too many failed attempts drop the
// connection (CAM-T-auth-4). Requests are handled one at a time, with a bounded backlog.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { isVigilError, VigilError } from '../../core/errors.ts';
import { RtspConnection } from './connection.ts';
import { claimedDigestUsername, type RtspAuthenticator } from './digest-server.ts';
import { parseTransports } from './headers.ts';
import type { LiveVideoSource } from './live-source.ts';
import { getHeader, serializeResponse, writeInterleavedHeader, type RtspLimits, type RtspRequest } from './message.ts';
import { serializeSdp } from './sdp.ts';

export interface RtspAuthResult {
  /** The name the client claimed ('' when none could be read). */
  username: string;
  ok: boolean;
  remoteAddress: string;
}

export interface ServerContext {
  readonly authenticator: RtspAuthenticator;
  readonly sessionTimeoutSeconds: number;
  readonly maxAuthFailures: number;
  readonly limits: Partial<RtspLimits>;
  /** Every authentication attempt's outcome (audit, shared lockout). */
  readonly onAuthResult: ((result: RtspAuthResult) => void) | undefined;
  findStream(path: string): LiveVideoSource | undefined;
  now(): number;
}

interface ServerSession {
  id: string;
  path: string;
  source: LiveVideoSource;
  channel: number;
  removeViewer: (() => void) | undefined;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER';
const MAX_BACKLOG = 8;
type Headers = Array<[string, string]>;

class RtspReply extends Error {
  readonly status: number;
  readonly close: boolean;
  constructor(status: number, close = false) {
    super(`RTSP ${status}`);
    this.status = status;
    this.close = close;
  }
}

/** The stream path of a request URI: "/cam1" for rtsp://host/cam1/trackID=0. */
export function streamPath(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new RtspReply(400);
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') throw new RtspReply(400);
  return url.pathname.replace(/\/trackID=\d+$/, '').replace(/\/+$/, '') || '/';
}

export class RtspServerConnection {
  lastActivity: number;
  readonly connection: RtspConnection;
  private readonly ctx: ServerContext;
  private session: ServerSession | undefined;
  private authFailures = 0;
  private readonly remoteAddress: string;
  private backlog = 0;
  private chain: Promise<void> = Promise.resolve();

  /** Resolves once the socket is closed. */
  readonly done: Promise<void>;
  private markDone: () => void = () => undefined;

  constructor(socket: Socket, ctx: ServerContext, onClose: (c: RtspServerConnection) => void) {
    this.ctx = ctx;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.done = new Promise((resolve) => (this.markDone = resolve));
    this.lastActivity = ctx.now();
    this.connection = new RtspConnection(socket, {
      onMessage: (m) => {
        if (m.kind === 'request') this.enqueue(m);
        else this.connection.close(new VigilError('VIGIL_RTSP_MALFORMED', 'a response sent to the server'));
      },
      onInterleaved: () => {
        this.lastActivity = this.ctx.now(); // RTCP from the client counts as liveness
      },
      onClose: () => {
        this.session?.removeViewer?.();
        this.session = undefined;
        onClose(this);
        this.markDone();
      },
    }, ctx.limits);
  }

  get hasSession(): boolean {
    return this.session !== undefined;
  }

  private enqueue(request: RtspRequest): void {
    if (this.backlog >= MAX_BACKLOG) {
      this.connection.close(new VigilError('VIGIL_RTSP_LIMIT_EXCEEDED', 'too many pipelined RTSP requests'));
      return;
    }
    this.backlog += 1;
    this.chain = this.chain.then(() => this.handle(request)).finally(() => {
      this.backlog -= 1;
    });
  }

  private async handle(request: RtspRequest): Promise<void> {
    if (this.connection.isClosed) return;
    const cseq = getHeader(request.headers, 'CSeq');
    if (cseq === undefined || !/^\d{1,9}$/.test(cseq)) {
      this.reply(400, [], undefined);
      this.connection.close();
      return;
    }
    const base: Headers = [['CSeq', cseq], ['Server', 'Vigil']];
    try {
      if (request.method !== 'OPTIONS' && !(await this.authenticate(request, base))) return;
      this.lastActivity = this.ctx.now();
      this.dispatch(request, base);
    } catch (err) {
      const status = err instanceof RtspReply ? err.status : isVigilError(err) && err.code === 'VIGIL_RTSP_MALFORMED' ? 400 : 500;
      this.reply(status, base, undefined);
      if (err instanceof RtspReply && err.close) this.connection.close();
      if (status === 500) this.connection.close(isVigilError(err) ? err : new VigilError('VIGIL_INTERNAL', 'RTSP request failed', { cause: err }));
    }
  }

  private async authenticate(request: RtspRequest, base: Headers): Promise<boolean> {
    const authorization = getHeader(request.headers, 'Authorization');
    const outcome = await this.ctx.authenticator.authenticate(request.method, request.uri, authorization, this.connection.secure);
    if (authorization !== undefined && !(!outcome.ok && outcome.stale)) {
      const username = outcome.ok ? outcome.username : claimedDigestUsername(authorization);
      this.ctx.onAuthResult?.({ username, ok: outcome.ok, remoteAddress: this.remoteAddress });
    }
    if (outcome.ok) return true;
    if (authorization !== undefined && !outcome.stale) this.authFailures += 1;
    const challenges = this.ctx.authenticator.challenges(this.connection.secure, outcome.stale);
    this.reply(401, [...base, ...challenges.map((c): [string, string] => ['WWW-Authenticate', c])], undefined);
    if (this.authFailures >= this.ctx.maxAuthFailures) this.connection.close(new VigilError('VIGIL_RTSP_AUTH_FAILED', 'too many failed RTSP authentications'));
    return false;
  }

  private dispatch(request: RtspRequest, base: Headers): void {
    switch (request.method) {
      case 'OPTIONS':
        return this.reply(200, [...base, ['Public', PUBLIC]], undefined);
      case 'DESCRIBE':
        return this.describe(request, base);
      case 'SETUP':
        return this.setup(request, base);
      case 'PLAY':
        return this.play(request, base);
      case 'TEARDOWN':
        this.requireSession(request);
        this.session?.removeViewer?.();
        this.session = undefined;
        return this.reply(200, base, undefined);
      case 'GET_PARAMETER':
        if (getHeader(request.headers, 'Session') !== undefined) this.requireSession(request);
        return this.reply(200, this.withSession(base), undefined);
      default:
        return this.reply(501, [...base, ['Public', PUBLIC]], undefined);
    }
  }

  private describe(request: RtspRequest, base: Headers): void {
    const path = streamPath(request.uri);
    const source = this.ctx.findStream(path);
    if (source === undefined) throw new RtspReply(404);
    const local = this.connection.socket.localAddress ?? '0.0.0.0';
    const sdp = serializeSdp(randomBytes(8).readBigUInt64BE(0).toString(), local.replace(/^::ffff:/, ''), [source.sdpMedia('trackID=0')]);
    const contentBase = `${request.uri.replace(/\/+$/, '')}/`;
    this.reply(200, [...base, ['Content-Base', contentBase], ['Content-Type', 'application/sdp']], Buffer.from(sdp, 'utf8'));
  }

  private setup(request: RtspRequest, base: Headers): void {
    const path = streamPath(request.uri);
    const source = this.ctx.findStream(path);
    if (source === undefined) throw new RtspReply(404);
    if (this.session !== undefined && getHeader(request.headers, 'Session') !== undefined) this.requireSession(request);
    if (this.session !== undefined && (this.session.path !== path || this.session.removeViewer !== undefined)) throw new RtspReply(459);
    const spec = parseTransports(getHeader(request.headers, 'Transport') ?? '').find((t) => t.protocol === 'RTP/AVP/TCP');
    if (spec === undefined) throw new RtspReply(461);
    const channel = spec.interleaved?.[0] ?? 0;
    if (channel > 254) throw new RtspReply(461);
    this.session ??= { id: randomBytes(8).toString('hex'), path, source, channel, removeViewer: undefined };
    this.session.channel = channel;
    const ssrc = source.ssrc.toString(16).padStart(8, '0').toUpperCase();
    this.reply(200, [...this.withSession(base), ['Transport', `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1};ssrc=${ssrc}`]], undefined);
  }

  private play(request: RtspRequest, base: Headers): void {
    const session = this.requireSession(request);
    if (session.removeViewer === undefined) {
      const connection = this.connection;
      const channel = session.channel;
      const header = Buffer.alloc(4);
      try {
        // Added before the 200 is written; no media can interleave: both happen in this tick.
        session.removeViewer = session.source.addViewer({
          channel,
          queuedBytes: () => connection.queuedBytes,
          send: (frame) => {
            if (channel === 0) return connection.send(frame);
            writeInterleavedHeader(header, 0, channel, frame.length - 4);
            connection.send(Buffer.from(header)); // a viewer on another channel: a 4-byte header of its own
            connection.send(frame.subarray(4));
          },
          disconnect: (reason) => connection.close(reason),
        });
        this.reply(200, [...this.withSession(base), ['Range', 'npt=0.000-']], undefined);
      } catch (err) {
        if (isVigilError(err, 'VIGIL_RATE_LIMITED')) throw new RtspReply(453, true);
        throw err;
      }
      return;
    }
    this.reply(200, [...this.withSession(base), ['Range', 'npt=0.000-']], undefined);
  }

  private requireSession(request: RtspRequest): ServerSession {
    const header = getHeader(request.headers, 'Session');
    const id = header?.split(';')[0]?.trim();
    if (this.session === undefined) throw new RtspReply(header === undefined ? 455 : 454);
    if (id !== this.session.id) throw new RtspReply(454);
    return this.session;
  }

  private withSession(base: Headers): Headers {
    return this.session === undefined ? base : [...base, ['Session', `${this.session.id};timeout=${this.ctx.sessionTimeoutSeconds}`]];
  }

  private reply(status: number, headers: Headers, body: Buffer | undefined): void {
    this.connection.send(serializeResponse(status, headers, body));
  }
}
