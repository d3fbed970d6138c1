// One camera's recording pipeline (design.md §5): RTSP (TCP-interleaved, own client) → access
// units → fMP4 fragments (one per GOP) → sealed segment files of `segmentSeconds`. No decoding,
// no ffmpeg in the path. A stream that delivers no frame for `signalLossSeconds` raises the
// signal-loss alarm and an audit event; the first frame after it clears both (NVR-5.1.2.1a).
// A camera whose RTSPS certificate is refused (another device behind the address, an expired or
// replaced certificate) is never streamed from: the recorder keeps refusing on every retry and
// raises one distinct critical alarm naming the camera and the expected and seen fingerprints
// (CAM-T-auth-2/3); only an admin's re-pinning (audited) or the old certificate coming back
// clears it.
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { FragmentMuxer, type MediaFragment } from '../mp4/index.ts';
import { forEachNalUnit, type AccessUnit as RtpAccessUnit } from '../rtp/access-unit.ts';
import type { RtspClient } from '../rtsp/client.ts';
import type { RtspTrack } from '../rtsp/client-tracks.ts';
import { ReconnectPolicy } from '../rtsp/reconnect.ts';
import { RtspStreamSupervisor } from '../rtsp/supervisor.ts';
import type { VigilError } from '../../core/errors.ts';
import type { SegmentWriter } from '../storage/segment-writer.ts';
import type { VideoStore } from '../storage/video-store.ts';
import { avcCodecString, type LiveHub } from '../live/live-hub.ts';
import { AccessUnitArena } from './access-unit-arena.ts';
import { RateMeter } from './rate-meter.ts';

export interface CameraSource {
  id: string;
  name: string;
  url: string;
  username?: string;
  password?: string;
  /** RTSPS: trust this CA (e.g. the camera's self-signed certificate) and/or this pin. */
  tls?: { ca?: string; pinnedFingerprint256?: string };
}

/** The track facts a recording needs; the RTSP client's tracks have them, and so does a local encoder. */
export type FeedTrack = Pick<RtspTrack, 'codec' | 'parameterSets'>;

/** What a feed tells its recorder. */
export interface FeedSink {
  onAccessUnit(track: FeedTrack, au: RtpAccessUnit): void;
  onConnected(codec: string): void;
  onDisconnected(err: VigilError, retryInMs: number): void;
}

/** Where a recorder's access units come from: a camera's RTSP stream, or the camera role's own encoder. */
export interface RecordingFeed {
  start(): void;
  stop(): Promise<void>;
}

interface CommonRecorderOptions {
  video: VideoStore;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  segmentSeconds: number;
  signalLossSeconds: number;
  /** Live viewers get every fragment as it is made, before (and regardless of) the disk. */
  live?: LiveHub;
}

export type CameraRecorderOptions = CommonRecorderOptions & (
  | { camera: CameraSource }
  /** A feed other than RTSP (src/camera: the device records its own encoder, CAM-5.1.1.2). */
  | { camera: { id: string; name: string }; feed: (sink: FeedSink) => RecordingFeed }
);

/** The RTSP feed: our client under a reconnecting supervisor. */
function rtspFeed(c: CameraSource, mediaTimeoutMs: number, sink: FeedSink): RecordingFeed {
  return new RtspStreamSupervisor(
    {
      url: c.url,
      ...(c.username === undefined ? {} : { username: c.username }),
      ...(c.password === undefined ? {} : { password: c.password }),
      ...(c.tls === undefined ? {} : { tls: c.tls }),
      media: ['video'],
      mediaTimeoutMs,
      onAccessUnit: (track, au) => sink.onAccessUnit(track, au),
    },
    new ReconnectPolicy({ initialDelayMs: 500, maxDelayMs: 30_000 }),
    {
      onConnected: (client: RtspClient) => sink.onConnected(client.tracks.find((t) => t.media === 'video')?.codec ?? 'none'),
      onDisconnected: (err, retry) => sink.onDisconnected(err, retry),
    },
  );
}

const TIMESCALE = 90_000;
/** Fragments waiting for the disk before new ones are dropped up to the next keyframe. */
const MAX_PENDING_WRITES = 64;

export interface RecorderStats {
  accessUnits: number;
  fragments: number;
  droppedFragments: number;
  segments: number;
  connected: boolean;
  lastFrameAt: number | null;
}

/** What an operator sees of a recording camera (issue #8). */
export interface CameraHealth {
  state: 'recording' | 'connecting' | 'signal-lost';
  fps: number;
  bitrateKbps: number;
  lastFrameAt: number | null;
}

export class CameraRecorder {
  readonly stats: RecorderStats = { accessUnits: 0, fragments: 0, droppedFragments: 0, segments: 0, connected: false, lastFrameAt: null };
  readonly #o: CameraRecorderOptions;
  readonly #feed: RecordingFeed;
  readonly #watchdog: NodeJS.Timeout;
  #session: StreamSession | undefined;
  #liveSession: StreamSession | undefined;
  #writes: Promise<void> = Promise.resolve();
  #pendingWrites = 0;
  #dropping = false;
  #signalLost = false;
  readonly #rate = new RateMeter();
  /** Refused now, or unknown (a new recorder, e.g. after re-pinning): the first connect clears it. */
  #certificateRefused = true;
  #certificateAlarmRaised = false;
  #startedAt: number;

  constructor(o: CameraRecorderOptions) {
    this.#o = o;
    this.#startedAt = o.clock.now();
    const sink: FeedSink = {
      onAccessUnit: (track, au) => this.#onAccessUnit(track, au),
      onConnected: (codec) => this.#onConnected(codec),
      onDisconnected: (err, retry) => this.#onDisconnected(err, retry),
    };
    this.#feed = 'feed' in o ? o.feed(sink) : rtspFeed(o.camera, o.signalLossSeconds * 1000, sink);
    this.#watchdog = setInterval(() => this.#checkSignal(), 1000);
    this.#watchdog.unref();
  }

  start(): void {
    this.#feed.start();
  }

  /** Stops the stream and finishes the open segment: every received fragment is stored. */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog);
    await this.#feed.stop();
    this.#endSession();
    this.#o.live?.end(this.#o.camera.id, 'recording of this camera stopped');
    await this.#writes;
    await this.#o.video.finishSegment(this.#o.camera.id);
  }

  health(): CameraHealth {
    const state = this.#signalLost ? 'signal-lost' : this.stats.connected && this.stats.lastFrameAt !== null ? 'recording' : 'connecting';
    return { state, ...this.#rate.rates(this.#o.clock.now()), lastFrameAt: this.stats.lastFrameAt };
  }

  #onConnected(codec: string): void {
    this.stats.connected = true;
    if (this.#certificateRefused) this.#certificateAccepted();
    this.#o.logger.info({ camera: this.#o.camera.id, codec }, 'camera stream connected');
  }

  #onDisconnected(err: VigilError, retryInMs: number): void {
    this.stats.connected = false;
    this.#endSession();
    this.#o.logger.warn({ camera: this.#o.camera.id, code: err.code, retryInMs }, 'camera stream lost');
    if (err.code === 'VIGIL_TLS_CERT_INVALID') this.#certificateRefusedAlarm(err);
  }

  /** Raised and audited once per refusal streak, not on every retry. */
  #certificateRefusedAlarm(err: VigilError): void {
    const c = this.#o.camera;
    const expected = typeof err.details?.['expected'] === 'string' ? err.details['expected'] : null;
    const seen = typeof err.details?.['seen'] === 'string' ? err.details['seen'] : null;
    const reason = typeof err.details?.['reason'] === 'string' ? err.details['reason'] : 'invalid';
    const swapped = expected !== null && seen !== null && expected !== seen;
    this.#certificateRefused = true;
    if (this.#certificateAlarmRaised) return;
    this.#certificateAlarmRaised = true;
    this.#o.alarms.raise({
      type: 'video.camera_certificate_refused',
      severity: 'critical',
      source: `camera:${c.id}`,
      message: swapped
        ? `camera ${c.name} presents another TLS certificate than the one pinned at enrolment (expected ${expected}, seen ${seen}); not recording it. If the device was replaced on purpose, an admin must confirm the new certificate.`
        : `camera ${c.name}: its TLS certificate was refused (${reason}${seen === null ? '' : `, seen ${seen}`}); not recording it`,
      dedupeKey: `video.camera_certificate_refused|${c.id}`,
      details: { camera: c.id, name: c.name, expected, seen, reason },
    });
    this.#o.audit.record({ category: 'video', action: 'video.camera_certificate_refused', actor: 'system', source: 'local', target: `camera:${c.id}`, outcome: 'failure', details: { expected, seen, reason } });
  }

  #certificateAccepted(): void {
    this.#certificateRefused = false;
    this.#certificateAlarmRaised = false;
    this.#o.alarms.clear(`video.camera_certificate_refused|${this.#o.camera.id}`, 'the camera presents the trusted certificate again');
  }

  #onAccessUnit(track: FeedTrack, au: RtpAccessUnit): void {
    if (track.codec !== 'H264' && track.codec !== 'H265') return;
    const now = this.#o.clock.now();
    this.#session ??= new StreamSession(track, now);
    const { accepted, fragment } = this.#session.push(au);
    // NVR-5.1.2.1a: only video that can be recorded counts as signal; noise does not clear the alarm.
    if (!accepted) return;
    this.stats.accessUnits++;
    this.stats.lastFrameAt = now;
    this.#rate.add(now, au.data.length);
    if (this.#signalLost) this.#signalRestored();
    if (fragment !== undefined) this.#store(fragment, this.#session);
  }

  #endSession(): void {
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) for (const fragment of session.flush()) this.#store(fragment, session);
  }

  /** Queues a fragment for the disk, in order; a new segment starts on a keyframe when due. */
  #store(fragment: MediaFragment, session: StreamSession): void {
    this.stats.fragments++;
    const live = this.#o.live;
    if (live !== undefined) {
      if (this.#liveSession !== session) {
        live.publishInit(this.#o.camera.id, session.init, session.mseCodec);
        this.#liveSession = session;
      }
      live.publishFragment(this.#o.camera.id, fragment);
    }
    if (this.#pendingWrites >= MAX_PENDING_WRITES) this.#dropping = true;
    if (this.#dropping && !(fragment.keyframe && this.#pendingWrites < MAX_PENDING_WRITES / 2)) {
      this.stats.droppedFragments++;
      return;
    }
    this.#dropping = false;
    const startedAt = session.wallTime(fragment.baseDecodeTime);
    const durationMs = Math.max(1, Math.round((fragment.duration / fragment.timescale) * 1000));
    const bytes = Buffer.from(fragment.bytes.buffer, fragment.bytes.byteOffset, fragment.bytes.byteLength);
    this.#pendingWrites++;
    this.#writes = this.#writes
      .then(async () => {
        const writer = await this.#writerFor(session, fragment, startedAt);
        if (writer !== undefined) await writer.appendFragment(bytes, startedAt, durationMs);
      })
      .catch((err: unknown) => {
        this.stats.droppedFragments++;
        this.#o.logger.error({ err, camera: this.#o.camera.id }, 'a fragment could not be stored');
      })
      .finally(() => {
        this.#pendingWrites--;
      });
  }

  #writer: { writer: SegmentWriter; session: StreamSession } | undefined;

  async #writerFor(session: StreamSession, fragment: MediaFragment, startedAt: number): Promise<SegmentWriter | undefined> {
    const current = this.#writer;
    const due = current === undefined || current.session !== session || (fragment.keyframe && startedAt - current.writer.startedAt >= this.#o.segmentSeconds * 1000);
    if (!due) return current.writer;
    if (!fragment.keyframe) return undefined; // a segment starts on a keyframe; drop until then
    const writer = await this.#o.video.startSegment(this.#o.camera.id, Buffer.from(session.init), startedAt);
    this.stats.segments++;
    this.#writer = { writer, session };
    return writer;
  }

  #checkSignal(): void {
    const last = this.stats.lastFrameAt ?? this.#startedAt;
    if (this.#signalLost || this.#o.clock.now() - last < this.#o.signalLossSeconds * 1000) return;
    this.#signalLost = true;
    const c = this.#o.camera;
    this.#o.alarms.raise({
      type: 'video.signal_lost',
      severity: 'critical',
      source: `camera:${c.id}`,
      message: `camera ${c.name} delivers no video (last frame ${this.stats.lastFrameAt === null ? 'never' : new Date(last).toISOString()})`,
      dedupeKey: `video.signal_lost|${c.id}`,
      details: { camera: c.id },
    });
    this.#o.audit.record({ category: 'video', action: 'video.signal_lost', actor: 'system', source: 'local', target: `camera:${c.id}`, outcome: 'failure' });
  }

  #signalRestored(): void {
    this.#signalLost = false;
    const c = this.#o.camera;
    this.#o.alarms.clear(`video.signal_lost|${c.id}`, 'video is flowing again');
    this.#o.audit.record({ category: 'video', action: 'video.signal_restored', actor: 'system', source: 'local', target: `camera:${c.id}`, outcome: 'success' });
  }
}

/** One RTSP session's timeline: RTP timestamps → monotonic decode times → fragments. */
class StreamSession {
  #muxer: FragmentMuxer | undefined;
  /** Copies of the units the muxer still holds (the depacketizer reuses its buffer). */
  readonly #units = new AccessUnitArena();
  readonly #track: FeedTrack;
  readonly #wallStart: number;
  #pending: { data: Buffer; dts: number; keyframe: boolean } | undefined;
  #lastRtp = 0;
  #dts = 0;
  #lastDuration = TIMESCALE / 30;

  constructor(track: FeedTrack, wallStart: number) {
    this.#track = track;
    this.#wallStart = wallStart;
  }

  get init(): Uint8Array {
    return this.#muxer?.init ?? new Uint8Array(0);
  }

  /** The MSE codec string for live viewing; null for H.265 (browsers play it live only rarely). */
  mseCodec: string | null = null;

  wallTime(decodeTime: number): number {
    return this.#wallStart + Math.round((decodeTime / TIMESCALE) * 1000);
  }

  /** `accepted`: the unit is part of the recording (false before the first keyframe). */
  push(au: RtpAccessUnit): { accepted: boolean; fragment: MediaFragment | undefined } {
    // Nothing before the first keyframe can be decoded; it also carries in-band parameter sets.
    if (this.#muxer === undefined) {
      if (!au.keyframe) return { accepted: false, fragment: undefined };
      const codec = this.#track.codec === 'H265' ? 'h265' : 'h264';
      const parameterSets = this.#track.parameterSets.length > 0 ? this.#track.parameterSets : inBandParameterSets(codec, au.data);
      this.#muxer = new FragmentMuxer([{ kind: 'video', codec, timescale: TIMESCALE, parameterSets, framing: 'length-prefixed' }], { maxFragmentSeconds: 10 });
      const sps = parameterSets.find((p) => ((p[0] ?? 0) & 0x1f) === 7);
      this.mseCodec = codec === 'h264' && sps !== undefined ? avcCodecString(sps) : null;
    }
    let fragment: MediaFragment | undefined;
    if (this.#pending === undefined) {
      this.#lastRtp = au.timestamp;
    } else {
      // RTP timestamps are 32-bit and wrap; a step back (reordering) keeps the last duration.
      const delta = (au.timestamp - this.#lastRtp) | 0;
      const duration = delta > 0 ? delta : this.#lastDuration;
      this.#lastDuration = duration;
      this.#lastRtp = au.timestamp;
      fragment = this.#muxer.push(0, { data: this.#pending.data, dts: this.#pending.dts, ctsOffset: 0, duration, keyframe: this.#pending.keyframe });
      this.#dts += duration;
      if (fragment !== undefined) this.#units.turn(); // the muxer now holds only the unit just pushed
    }
    this.#pending = { data: this.#units.copy(au.data), dts: this.#dts, keyframe: au.keyframe };
    return { accepted: true, fragment };
  }

  /** The rest of the session: the held unit, then whatever the muxer still holds. */
  flush(): MediaFragment[] {
    const out: MediaFragment[] = [];
    if (this.#muxer === undefined) return out;
    if (this.#pending !== undefined) {
      const f = this.#muxer.push(0, { data: this.#pending.data, dts: this.#pending.dts, ctsOffset: 0, duration: this.#lastDuration, keyframe: this.#pending.keyframe });
      if (f !== undefined) out.push(f);
      this.#pending = undefined;
    }
    const rest = this.#muxer.flush();
    if (rest !== undefined) out.push(rest);
    return out;
  }
}

/** SPS/PPS (H.264) or VPS/SPS/PPS (H.265) carried inside a keyframe, in that order. */
function inBandParameterSets(codec: 'h264' | 'h265', data: Buffer): Buffer[] {
  const wanted = codec === 'h264' ? [7, 8] : [32, 33, 34];
  const byType = new Map<number, Buffer>();
  forEachNalUnit(data, (start, end) => {
    const header = data[start] ?? 0;
    const type = codec === 'h264' ? header & 0x1f : (header >> 1) & 0x3f;
    if (wanted.includes(type) && !byType.has(type)) byType.set(type, Buffer.from(data.subarray(start, end)));
  });
  return wanted.flatMap((t) => byType.get(t) ?? []);
}
