// RTSP 1.0 client (RFC 2326 §10) for the recorder: OPTIONS, DESCRIBE (401 → Digest retry),
// SETUP with TCP interleaving (§10.12), PLAY, keep-alive at session timeout / 2 (§12.37),
// TEARDOWN. Every step has a timeout; a stream without media for mediaTimeoutMs ends the
// session with VIGIL_RTSP_TIMEOUT (the recorder's signal-loss alarm, NVR-5.1.2.1a).
// Camera authentication: NVR-5.4.1.1d (Digest, replay-resistant), RTSPS certificate checks
// NVR-5.4.1.1c; the password never appears in URLs, logs or errors.
import type { Socket } from 'node:net';
import { VigilError } from '../../core/errors.ts';
import type { AccessUnit } from '../rtp/access-unit.ts';
import { emptyRtpPacket, parseRtpPacket, type RtpPacket } from '../rtp/rtp-packet.ts';
import { createReceiver, selectTracks, type RtspTrack, type TrackReceiver } from './client-tracks.ts';
import { openRtspSocket, parseRtspUrl, type RtspClientTls, type RtspTarget } from './client-socket.ts';
import { RtspConnection } from './connection.ts';
import { RtspClientAuth } from './digest.ts';
import { parseSession, parseTransports } from './headers.ts';
import { getHeader, getHeaders, serializeRequest, serializeResponse, type RtspLimits, type RtspMessage, type RtspResponse } from './message.ts';
import { parseSdp, resolveControl } from './sdp.ts';

export type { RtspTrack } from './client-tracks.ts';

export interface RtspClientOptions {
  /** rtsp://host[:554]/path or rtsps://host[:322]/path; user:password in it are used for auth only. */
  url: string;
  username?: string;
  password?: string;
  tls?: RtspClientTls;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** No RTP for this long while playing → the session ends with VIGIL_RTSP_TIMEOUT. */
  mediaTimeoutMs?: number;
  media?: ReadonlyArray<'video' | 'audio'>;
  limits?: Partial<RtspLimits>;
  maxAccessUnitBytes?: number;
  userAgent?: string;
  onRtp?(track: RtspTrack, packet: RtpPacket): void;
  /** `au.data` is a view valid during the call only; copy what you keep. */
  onAccessUnit?(track: RtspTrack, au: AccessUnit): void;
  onAudioFrame?(track: RtspTrack, frame: Uint8Array, timestamp: number): void;
  /** A malformed RTP payload (the unit is dropped, the session goes on). */
  onPayloadError?(track: RtspTrack, error: unknown): void;
}

interface Pending {
  cseq: number;
  resolve(response: RtspResponse): void;
  reject(error: VigilError): void;
  timer: NodeJS.Timeout;
}

export class RtspClient {
  readonly tracks: readonly RtspTrack[] = [];
  readonly stats = { rtpPackets: 0, rtcpPackets: 0, payloadErrors: 0, accessUnits: 0 };
  /** Resolves when the session ends: undefined after close(), else the reason. */
  readonly closed: Promise<VigilError | undefined>;
  private readonly options: RtspClientOptions;
  private readonly target: RtspTarget;
  private readonly connection: RtspConnection;
  private readonly auth: RtspClientAuth | undefined;
  private readonly channels = new Map<number, { track: RtspTrack; receiver: TrackReceiver }>();
  private readonly packet = emptyRtpPacket();
  private readonly timers: NodeJS.Timeout[] = [];
  private resolveClosed: (reason: VigilError | undefined) => void = () => undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private cseq = 0;
  private session: string | undefined;
  private publicMethods = new Set<string>();
  private lastMediaAt = Date.now();
  private closing = false;
  private sessionTimeoutSeconds = 60;

  private constructor(socket: Socket, target: RtspTarget, options: RtspClientOptions) {
    this.options = options;
    this.target = target;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const username = options.username ?? target.username;
    const password = options.password ?? target.password;
    this.auth = username === undefined || password === undefined ? undefined : new RtspClientAuth({ username, password }, target.secure);
    this.connection = new RtspConnection(socket, {
      onMessage: (m) => this.onMessage(m),
      onInterleaved: (c, p) => this.onInterleaved(c, p),
      onClose: (err) => this.onClose(err),
    }, options.limits);
  }

  /** Connects, authenticates and starts playing; rejects with a coded VigilError. */
  static async connect(options: RtspClientOptions): Promise<RtspClient> {
    const target = parseRtspUrl(options.url);
    const socket = await openRtspSocket(target, options.tls, options.connectTimeoutMs ?? 10_000);
    const client = new RtspClient(socket, target, options);
    try {
      await client.start();
      return client;
    } catch (err) {
      client.connection.close();
      await client.closed;
      throw err;
    }
  }

  /** TEARDOWN (bounded by the request timeout), then closes the connection. */
  async close(): Promise<void> {
    if (!this.closing && this.session !== undefined && !this.connection.isClosed) {
      this.closing = true;
      try {
        await this.request('TEARDOWN', resolveControl(this.target.url, undefined));
      } catch {
        // The server may already be gone; the connection is closed below either way.
      }
    }
    this.closing = true;
    this.connection.close();
    await this.closed;
  }

  private async start(): Promise<void> {
    const options = await this.request('OPTIONS', this.target.url);
    for (const m of (getHeader(options.headers, 'Public') ?? '').split(',').slice(0, 32)) this.publicMethods.add(m.trim().toUpperCase());
    const describe = await this.request('DESCRIBE', this.target.url, [['Accept', 'application/sdp']]);
    const base = getHeader(describe.headers, 'Content-Base') ?? getHeader(describe.headers, 'Content-Location') ?? this.target.url;
    const sdp = parseSdp(describe.body.toString('utf8'));
    const tracks = selectTracks(sdp, base, this.options.media ?? ['video']);
    for (const track of tracks) await this.setup(track);
    (this.tracks as RtspTrack[]).push(...tracks);
    await this.request('PLAY', resolveControl(base, sdp.control), [['Range', 'npt=0.000-']]);
    this.lastMediaAt = Date.now();
    this.startTimers();
  }

  private async setup(track: RtspTrack): Promise<void> {
    const wanted = `RTP/AVP/TCP;unicast;interleaved=${track.channel}-${track.channel + 1}`;
    const response = await this.request('SETUP', track.control, [['Transport', wanted]]);
    const transport = parseTransports(getHeader(response.headers, 'Transport') ?? '')[0];
    if (transport === undefined || transport.interleaved === undefined || !transport.protocol.startsWith('RTP/AVP/TCP')) {
      throw new VigilError('VIGIL_RTSP_UNSUPPORTED', 'the server did not accept RTP over the RTSP connection');
    }
    track.channel = transport.interleaved[0];
    if (this.channels.has(track.channel)) throw new VigilError('VIGIL_RTSP_MALFORMED', 'the server assigned one channel to two tracks');
    const session = getHeader(response.headers, 'Session');
    if (session === undefined) throw new VigilError('VIGIL_RTSP_MALFORMED', 'SETUP answer without a Session header');
    const parsed = parseSession(session);
    if (this.session !== undefined && this.session !== parsed.id) throw new VigilError('VIGIL_RTSP_MALFORMED', 'the server changed the session id');
    this.session = parsed.id;
    this.sessionTimeoutSeconds = parsed.timeoutSeconds;
    this.channels.set(track.channel, { track, receiver: createReceiver(track, this.options.maxAccessUnitBytes) });
  }

  private startTimers(): void {
    const keepAliveMethod = this.publicMethods.has('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
    this.timers.push(setInterval(() => {
      this.request(keepAliveMethod, this.target.url).catch((err: unknown) => this.fail(err));
    }, (this.sessionTimeoutSeconds * 1000) / 2));
    const mediaTimeout = this.options.mediaTimeoutMs ?? 20_000;
    this.timers.push(setInterval(() => {
      if (Date.now() - this.lastMediaAt > mediaTimeout) this.fail(new VigilError('VIGIL_RTSP_TIMEOUT', 'no media from the RTSP server'));
    }, Math.max(50, Math.min(1000, mediaTimeout / 4))));
  }

  private fail(err: unknown): void {
    this.connection.close(err instanceof VigilError ? err : new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP session failed', { cause: err }));
  }

  /** One request at a time; a 401 is answered once with credentials (RFC 7616 §3.4). */
  private request(method: string, uri: string, headers: Array<[string, string]> = []): Promise<RtspResponse> {
    const run = (): Promise<RtspResponse> => this.exchange(method, uri, headers);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async exchange(method: string, uri: string, headers: Array<[string, string]>): Promise<RtspResponse> {
    let response = await this.send(method, uri, headers);
    if (response.status === 401) {
      if (this.auth === undefined) throw new VigilError('VIGIL_RTSP_AUTH_FAILED', 'the RTSP server requires credentials');
      this.auth.accept(getHeaders(response.headers, 'WWW-Authenticate'));
      response = await this.send(method, uri, headers);
      if (response.status === 401) throw new VigilError('VIGIL_RTSP_AUTH_FAILED', 'the RTSP server refused the credentials');
    }
    if (response.status < 200 || response.status > 299) {
      throw new VigilError('VIGIL_RTSP_STATUS', `${method} failed with RTSP status ${response.status}`, { details: { method, status: response.status } });
    }
    return response;
  }

  private send(method: string, uri: string, extra: Array<[string, string]>): Promise<RtspResponse> {
    if (this.connection.isClosed) return Promise.reject(new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP connection is closed'));
    this.cseq += 1;
    const headers: Array<[string, string]> = [['CSeq', String(this.cseq)], ['User-Agent', this.options.userAgent ?? 'Vigil']];
    if (this.session !== undefined) headers.push(['Session', this.session]);
    const authorization = this.auth?.authorize(method, uri);
    if (authorization !== undefined) headers.push(['Authorization', authorization]);
    headers.push(...extra);
    const bytes = serializeRequest(method, uri, headers);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        const err = new VigilError('VIGIL_RTSP_TIMEOUT', `${method} timed out`);
        reject(err);
        this.fail(err);
      }, this.options.requestTimeoutMs ?? 10_000);
      this.pending = { cseq: this.cseq, resolve, reject, timer };
      this.connection.send(bytes);
    });
  }

  private onMessage(message: RtspMessage): void {
    if (message.kind === 'request') {
      // Server-to-client requests (§10: ANNOUNCE, GET/SET_PARAMETER, REDIRECT) are not supported.
      const cseq = getHeader(message.headers, 'CSeq');
      this.connection.send(serializeResponse(501, cseq !== undefined && /^\d{1,9}$/.test(cseq) ? [['CSeq', cseq]] : []));
      return;
    }
    const pending = this.pending;
    if (pending === undefined || getHeader(message.headers, 'CSeq') !== String(pending.cseq)) return; // late answer
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  private onInterleaved(channel: number, payload: Buffer): void {
    const entry = this.channels.get(channel);
    if (entry === undefined) {
      if (this.channels.has(channel - 1)) this.stats.rtcpPackets += 1; // RTCP from the server: not used
      return;
    }
    const { track, receiver } = entry;
    try {
      const packet = parseRtpPacket(payload, this.packet);
      if (packet.payloadType !== track.payloadType) return;
      this.lastMediaAt = Date.now();
      this.stats.rtpPackets += 1;
      this.options.onRtp?.(track, packet);
      if (receiver.video !== undefined) {
        receiver.video.push(packet, (au) => {
          this.stats.accessUnits += 1;
          this.options.onAccessUnit?.(track, au);
        });
      } else {
        receiver.audio?.push(packet, (frame, ts) => this.options.onAudioFrame?.(track, frame, ts));
      }
    } catch (err) {
      this.stats.payloadErrors += 1;
      this.options.onPayloadError?.(track, err);
    }
  }

  private onClose(err: VigilError | undefined): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(err ?? new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP connection closed'));
    }
    this.resolveClosed(this.closing && err === undefined ? undefined : (err ?? new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP server closed the connection')));
  }
}
