// The software IP camera role (`camera.enabled`): the ffmpeg source with privacy masks, one live
// stream fanned out to every viewer, served over RTSPS with the device certificate (and plain
// RTSP only when configured), Digest with Vigil accounts (CAM-T-auth-*, CAM-T-com-1).
import type { AlarmSink } from '../alarms/types.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { DeviceTls } from '../crypto/tls.ts';
import { RtspAuthenticator } from '../video/rtsp/digest-server.ts';
import { LiveVideoSource } from '../video/rtsp/live-source.ts';
import { RtspServer } from '../video/rtsp/server.ts';
import { FfmpegSource, type SourceInput } from './ffmpeg-source.ts';
import { RTSP_REALM, type RtspAccounts } from './rtsp-accounts.ts';
import { SnapshotSource } from './snapshot.ts';
import { EncoderFeed } from './encoder-feed.ts';

export const STREAM_PATH = '/live';

export interface CameraRoleOptions {
  config: Config['camera'];
  host: string;
  deviceTls: DeviceTls;
  accounts: RtspAccounts;
  alarms: AlarmSink;
  logger: Logger;
  deviceName: string;
}

export interface CameraRole {
  /** Bound ports by declared service id. */
  ports: Map<string, number>;
  source: FfmpegSource;
  /** JPEGs of the latest keyframe of the (masked) stream. */
  snapshots: SnapshotSource;
  /** The encoder's access units for a local recorder (camera.localRecording). */
  feed: EncoderFeed;
  stop(): Promise<void>;
}

function sourceInput(c: Config['camera']): SourceInput {
  if (c.source === 'file') return { kind: 'file', path: c.sourcePath };
  if (c.source === 'replay') return { kind: 'replay', path: c.sourcePath };
  if (c.source === 'v4l2') return { kind: 'v4l2', device: c.sourcePath };
  if (c.source === 'rtsp') return { kind: 'rtsp', url: c.sourcePath };
  return { kind: 'test-pattern' };
}

/** Digest for the camera's stream and snapshot: Vigil accounts, the configured algorithms (CAM-T-auth-1). */
export function cameraAuthenticator(c: Config['camera'], accounts: RtspAccounts): RtspAuthenticator {
  return new RtspAuthenticator({ realm: RTSP_REALM, verifier: accounts, algorithms: [...c.digestAlgorithms], allowLegacyDigestOverTls: c.digestLegacyOverTls });
}

export async function startCameraRole(o: CameraRoleOptions): Promise<CameraRole> {
  const c = o.config;
  const live = new LiveVideoSource({ codec: 'H264' });
  const snapshots = new SnapshotSource();
  const feed = new EncoderFeed();
  const source = new FfmpegSource({
    input: sourceInput(c),
    encoder: { width: c.width, height: c.height, fps: c.fps, bitrateKbps: c.bitrateKbps, gop: c.gop },
    masks: c.privacyMasks,
    alarms: o.alarms,
    logger: o.logger,
    name: o.deviceName,
    onAccessUnit: (nals, ts) => {
      live.pushAccessUnit(nals, ts);
      snapshots.observe(nals);
      feed.push(nals, ts);
    },
  });
  const servers: RtspServer[] = [];
  const ports = new Map<string, number>();
  try {
    for (const [id, port, tls] of [['camera-rtsps', c.rtspsPort, true], ['camera-rtsp', c.rtspPort, false]] as const) {
      if (id === 'camera-rtsp' && port === 0) continue;
      const authenticator = cameraAuthenticator(c, o.accounts);
      const server = new RtspServer({
        authenticator,
        host: o.host,
        port,
        ...(tls ? { tls: { certPem: o.deviceTls.certPem, keyPem: o.deviceTls.keyPem } } : {}),
        onAuthResult: (r) => o.accounts.onAuthResult(r),
      });
      server.addStream(STREAM_PATH, live);
      ports.set(id, (await server.listen()).port);
      servers.push(server);
    }
  } catch (err) {
    for (const s of servers) await s.close();
    throw err;
  }
  source.start();
  return {
    ports,
    source,
    snapshots,
    feed,
    stop: async () => {
      await source.stop();
      for (const s of servers) await s.close();
    },
  };
}
