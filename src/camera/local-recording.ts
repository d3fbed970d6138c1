// Local (edge) recording of the camera role (CAM-5.1.1.2): its own encoder recorded into the
// sealed segment store — per-segment DEKs under the device-bound KEK, so a copied card or disk
// is unreadable anywhere else. It is listed as a camera (source 'local') so the same API plays
// it back, exports it as signed evidence and shows it live, under the same per-camera
// permissions; the recorder service applies its retention like any camera's (a ring buffer),
// and the store drops the oldest segments when a volume runs out of space.
import type { AlarmSink } from '../alarms/types.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { CameraService } from '../video/cameras/camera-service.ts';
import type { LiveHub } from '../video/live/live-hub.ts';
import { CameraRecorder } from '../video/recorder/camera-recorder.ts';
import type { VideoStore } from '../video/storage/video-store.ts';
import type { EncoderFeed } from './encoder-feed.ts';

/** The camera id of the device's own recordings (fixed: the catalog keeps them across restarts). */
export const LOCAL_CAMERA_ID = '00000000-0000-4000-8000-00000000c0de';

export interface LocalRecordingOptions {
  feed: EncoderFeed;
  cameras: CameraService;
  video: VideoStore;
  live: LiveHub;
  alarms: AlarmSink;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  deviceName: string;
  config: Config['camera']['localRecording'];
  videoConfig: Config['video'];
}

export interface LocalRecording {
  recorder: CameraRecorder;
  stop(): Promise<void>;
}

export function startLocalRecording(o: LocalRecordingOptions): LocalRecording {
  const name = `${o.deviceName} (this camera)`;
  const since = o.clock.now();
  o.cameras.setLocal({
    id: LOCAL_CAMERA_ID, name, source: 'local', url: 'local:encoder', hasCredentials: false, tlsFingerprint256: null, tlsCaPem: null,
    recordingMode: 'continuous', schedule: [], retentionDays: o.config.retentionDays, enabled: true, createdAt: since, updatedAt: since,
  });
  const recorder = new CameraRecorder({
    camera: { id: LOCAL_CAMERA_ID, name },
    feed: o.feed.attach,
    video: o.video,
    live: o.live,
    alarms: o.alarms,
    audit: o.audit,
    clock: o.clock,
    logger: o.logger,
    segmentSeconds: o.videoConfig.segmentSeconds,
    signalLossSeconds: o.videoConfig.signalLossSeconds,
  });
  recorder.start();
  o.audit.record({ category: 'video', action: 'video.recording_started', actor: 'system', source: 'local', target: `camera:${LOCAL_CAMERA_ID}`, outcome: 'success', details: { mode: 'local', retentionDays: o.config.retentionDays } });
  return {
    recorder,
    stop: async () => {
      await recorder.stop();
      o.cameras.setLocal(undefined);
      o.audit.record({ category: 'video', action: 'video.recording_stopped', actor: 'system', source: 'local', target: `camera:${LOCAL_CAMERA_ID}`, outcome: 'success' });
    },
  };
}
