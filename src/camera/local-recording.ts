// Local (edge) recording of the camera role (CAM-5.1.1.2): its own encoder recorded into the
// sealed segment store — per-segment DEKs under the device-bound KEK, so a copied card or disk
// is unreadable anywhere else — as a ring buffer: segments older than the retention are
// crypto-shredded hourly, and the store drops the oldest when a volume runs out of space.
import type { AlarmSink } from '../alarms/types.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { CameraRecorder } from '../video/recorder/camera-recorder.ts';
import type { VideoStore } from '../video/storage/video-store.ts';
import type { EncoderFeed } from './encoder-feed.ts';

/** The catalog's camera id of the device's own recordings. */
export const LOCAL_CAMERA_ID = 'local';
const RETENTION_EVERY_MS = 3_600_000;

export interface LocalRecordingOptions {
  feed: EncoderFeed;
  video: VideoStore;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  deviceName: string;
  retentionHours: number;
  videoConfig: Config['video'];
}

export interface LocalRecording {
  recorder: CameraRecorder;
  applyRetention(): Promise<number>;
  stop(): Promise<void>;
}

export function startLocalRecording(o: LocalRecordingOptions): LocalRecording {
  const recorder = new CameraRecorder({
    camera: { id: LOCAL_CAMERA_ID, name: `${o.deviceName} (local recording)` },
    feed: o.feed.attach,
    video: o.video,
    alarms: o.alarms,
    audit: o.audit,
    clock: o.clock,
    logger: o.logger,
    segmentSeconds: o.videoConfig.segmentSeconds,
    signalLossSeconds: o.videoConfig.signalLossSeconds,
  });
  const applyRetention = (): Promise<number> => o.video.applyRetention(LOCAL_CAMERA_ID, o.retentionHours / 24);
  const retention = (): void => {
    applyRetention().catch((err: unknown) => o.logger.error({ err }, 'local recording retention failed'));
  };
  recorder.start();
  retention();
  const timer = setInterval(retention, RETENTION_EVERY_MS).unref();
  o.audit.record({ category: 'video', action: 'video.recording_started', actor: 'system', source: 'local', target: `camera:${LOCAL_CAMERA_ID}`, outcome: 'success', details: { mode: 'local', retentionHours: o.retentionHours } });
  return {
    recorder,
    applyRetention,
    stop: async () => {
      clearInterval(timer);
      await recorder.stop();
      o.audit.record({ category: 'video', action: 'video.recording_stopped', actor: 'system', source: 'local', target: `camera:${LOCAL_CAMERA_ID}`, outcome: 'success' });
    },
  };
}
