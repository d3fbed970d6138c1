// Runs one CameraRecorder per camera that should record now (continuous, or inside a schedule
// window), follows camera changes, and applies each camera's retention hourly.
import type { LiveHub } from '../live/live-hub.ts';
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { CameraService, CameraView, ScheduleWindow } from '../cameras/camera-service.ts';
import type { VideoStore } from '../storage/video-store.ts';
import { CameraRecorder, type CameraHealth, type RecorderStats } from './camera-recorder.ts';

export interface RecorderServiceOptions {
  cameras: CameraService;
  video: VideoStore;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  config: Config['video'];
  /** Live fan-out: each recorder publishes its fragments here. */
  live?: LiveHub;
}

/** Is `at` (epoch ms, the recorder's local time) inside one of the weekly windows? */
export function inSchedule(windows: readonly ScheduleWindow[], at: number): boolean {
  const d = new Date(at);
  const minute = d.getHours() * 60 + d.getMinutes();
  return windows.some((w) => {
    const from = Number(w.from.slice(0, 2)) * 60 + Number(w.from.slice(3));
    const to = Number(w.to.slice(0, 2)) * 60 + Number(w.to.slice(3));
    if (from <= to) return w.days.includes(d.getDay()) && minute >= from && minute < to;
    // A window over midnight belongs to the day it starts.
    return (w.days.includes(d.getDay()) && minute >= from) || (w.days.includes((d.getDay() + 6) % 7) && minute < to);
  });
}

export class RecorderService {
  readonly #o: RecorderServiceOptions;
  readonly #running = new Map<string, CameraRecorder>();
  #timers: NodeJS.Timeout[] = [];
  /** Camera starts and stops, one at a time. */
  #queue: Promise<void> = Promise.resolve();

  constructor(o: RecorderServiceOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    this.#o.cameras.onChange((change) => {
      this.#enqueue(async () => {
        const id = change.kind === 'deleted' ? change.id : change.camera.id;
        await this.#stopCamera(id);
        if (change.kind !== 'deleted') await this.#reconcile(change.camera);
      });
    });
    this.#enqueue(() => this.#reconcileAll());
    this.#timers = [
      setInterval(() => this.#enqueue(() => this.#reconcileAll()), 30_000),
      setInterval(() => void this.applyRetention(), 3_600_000),
    ];
    for (const t of this.#timers) t.unref();
    await this.#queue;
  }

  /** Health of every camera recording now, by id. */
  health(): Map<string, CameraHealth> {
    return new Map([...this.#running].map(([id, r]) => [id, r.health()]));
  }

  stats(): Record<string, RecorderStats> {
    return Object.fromEntries([...this.#running].map(([id, r]) => [id, { ...r.stats }]));
  }

  async applyRetention(): Promise<number> {
    let shredded = 0;
    // Every camera's retention, the local recording's too (a ring buffer of retentionDays).
    for (const camera of await this.#o.cameras.list()) shredded += await this.#o.video.applyRetention(camera.id, camera.retentionDays);
    return shredded;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#queue;
    for (const id of [...this.#running.keys()]) await this.#stopCamera(id);
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.#o.logger.error({ err }, 'recorder reconciliation failed'));
  }

  /** Also catches changes made outside this process (the `vigil cameras` CLI) within one tick. */
  async #reconcileAll(): Promise<void> {
    const cameras = await this.#o.cameras.list();
    const known = new Set(cameras.map((c) => c.id));
    for (const id of [...this.#running.keys()]) if (!known.has(id)) await this.#stopCamera(id);
    for (const camera of cameras) await this.#reconcile(camera);
  }

  async #reconcile(camera: CameraView): Promise<void> {
    if (camera.source === 'local') return; // recorded by the camera role from its own encoder
    const should = camera.enabled && (camera.recordingMode === 'continuous' || (camera.recordingMode === 'scheduled' && inSchedule(camera.schedule, this.#o.clock.now())));
    const running = this.#running.has(camera.id);
    if (should && !running) await this.#startCamera(camera);
    else if (!should && running) await this.#stopCamera(camera.id);
  }

  async #startCamera(camera: CameraView): Promise<void> {
    const credentials = await this.#o.cameras.credentials(camera.id);
    const tls = camera.tlsCaPem === null && camera.tlsFingerprint256 === null ? undefined : {
      ...(camera.tlsCaPem === null ? {} : { ca: camera.tlsCaPem }),
      ...(camera.tlsFingerprint256 === null ? {} : { pinnedFingerprint256: camera.tlsFingerprint256 }),
    };
    const recorder = new CameraRecorder({
      camera: { id: camera.id, name: camera.name, url: camera.url, ...(credentials ?? {}), ...(tls === undefined ? {} : { tls }) },
      video: this.#o.video,
      alarms: this.#o.alarms,
      audit: this.#o.audit,
      clock: this.#o.clock,
      logger: this.#o.logger.child({ camera: camera.id }),
      ...(this.#o.live === undefined ? {} : { live: this.#o.live }),
      segmentSeconds: this.#o.config.segmentSeconds,
      signalLossSeconds: this.#o.config.signalLossSeconds,
    });
    this.#running.set(camera.id, recorder);
    recorder.start();
    this.#o.audit.record({ category: 'video', action: 'video.recording_started', actor: 'system', source: 'local', target: `camera:${camera.id}`, outcome: 'success', details: { mode: camera.recordingMode } });
  }

  async #stopCamera(id: string): Promise<void> {
    const recorder = this.#running.get(id);
    if (recorder === undefined) return;
    this.#running.delete(id);
    await recorder.stop();
    this.#o.audit.record({ category: 'video', action: 'video.recording_stopped', actor: 'system', source: 'local', target: `camera:${id}`, outcome: 'success' });
  }
}
