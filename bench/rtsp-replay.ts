// Replay RTSP server of the recorder benchmark (bench/record.ts), run in its own process so its
// CPU is not charged to the recorder under test. It serves N identical live streams
// (/s0 … /s{N-1}) of one RtspServer, each a LiveVideoSource fed the same access units, split and
// grouped once at start (the encoder's work is done by ffmpeg beforehand, nothing is encoded
// here). Digest offers SHA-256 and MD5: our recorder takes SHA-256, ffmpeg only speaks MD5.
//
// Protocol with the parent (IPC of child_process.fork):
//   child  → {type:'ready', port}                     listening; the SPS/PPS are known (SDP)
//   parent → {type:'viewers'}  child → {type:'viewers', count}   viewers playing, all streams
//   parent → {type:'go', seconds}                     push `seconds` of video at 30 fps, frame 0
//                                                     a keyframe, to every stream
//   child  → {type:'done', pushed, skipped, disconnected, lateMs, cpuMs}
//   parent → {type:'exit'}                            closes the server and exits
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { groupAccessUnits, splitAnnexB } from '../src/video/rtp/annexb.ts';
import { RtspAuthenticator, staticCredentialVerifier } from '../src/video/rtsp/digest-server.ts';
import { LiveVideoSource } from '../src/video/rtsp/live-source.ts';
import { RtspServer } from '../src/video/rtsp/server.ts';

export const REPLAY_USER = 'bench';
export const REPLAY_PASSWORD = 'Replay-Bench-Password-1';
export const REPLAY_FPS = 30;
const MAX_STREAMS = 256;

type ParentMessage = { type: 'viewers' } | { type: 'go'; seconds: number } | { type: 'exit' };

function isParentMessage(m: unknown): m is ParentMessage {
  return typeof m === 'object' && m !== null && 'type' in m && typeof m.type === 'string';
}

async function main(clipFile: string, streams: number): Promise<void> {
  if (!Number.isInteger(streams) || streams < 1 || streams > MAX_STREAMS) throw new Error(`streams must be 1..${MAX_STREAMS}`);
  const clip = groupAccessUnits('H264', splitAnnexB(readFileSync(clipFile)));
  const first = clip[0];
  if (first === undefined) throw new Error('empty clip');
  const authenticator = new RtspAuthenticator({
    realm: 'vigil-bench',
    verifier: staticCredentialVerifier(new Map([[REPLAY_USER, REPLAY_PASSWORD]])),
    algorithms: ['SHA-256', 'MD5'],
  });
  const server = new RtspServer({ authenticator, maxConnections: streams * 2 + 8, sessionTimeoutSeconds: 60 });
  const sources: LiveVideoSource[] = [];
  for (let i = 0; i < streams; i++) {
    // 16 MiB of socket queue: a recorder that stalls briefly is measured as slow, not as lossy.
    const source = new LiveVideoSource({ codec: 'H264', maxQueuedBytes: 16 * 1024 * 1024, maxStallMs: 10_000 });
    source.pushAccessUnit(first, 0); // no viewer yet: only remembers SPS/PPS for the SDP
    sources.push(source);
    server.addStream(`/s${i}`, source);
  }
  const { port } = await server.listen();
  const send = (m: object): void => {
    process.send?.(m);
  };
  let pushing: NodeJS.Timeout | undefined;
  let timestamp = 0;

  const go = (seconds: number): void => {
    const total = Math.max(1, Math.min(3600, Math.round(seconds))) * REPLAY_FPS;
    const before = sources.map((s) => ({ ...s.stats }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let frame = 0;
    let lateMs = 0;
    // Each tick sends every frame that is due (catching up if the loop was late), then sleeps
    // until the next one; the clip loops and starts on its keyframe (GOP = 30 frames).
    const tick = (): void => {
      const now = performance.now();
      while (frame < total && t0 + (frame * 1000) / REPLAY_FPS <= now) {
        lateMs = Math.max(lateMs, now - (t0 + (frame * 1000) / REPLAY_FPS));
        const au = clip[frame % clip.length] ?? first;
        for (const s of sources) s.pushAccessUnit(au, timestamp);
        timestamp += 90_000 / REPLAY_FPS;
        frame++;
      }
      if (frame >= total) {
        pushing = undefined;
        const cpu = process.cpuUsage(cpu0);
        send({
          type: 'done',
          pushed: total,
          skipped: sources.reduce((n, s, i) => n + s.stats.skippedForViewers - (before[i]?.skippedForViewers ?? 0), 0),
          disconnected: sources.reduce((n, s, i) => n + s.stats.disconnectedViewers - (before[i]?.disconnectedViewers ?? 0), 0),
          lateMs: Math.round(lateMs),
          cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        });
        return;
      }
      pushing = setTimeout(tick, Math.max(0, t0 + (frame * 1000) / REPLAY_FPS - performance.now()));
    };
    tick();
  };

  process.on('message', (m: unknown) => {
    if (!isParentMessage(m)) return;
    if (m.type === 'viewers') send({ type: 'viewers', count: sources.reduce((n, s) => n + s.viewerCount, 0) });
    else if (m.type === 'go') {
      if (pushing === undefined && clip.length > 0) go(m.seconds);
    } else {
      if (pushing !== undefined) clearTimeout(pushing);
      void server.close().finally(() => process.exit(0));
    }
  });
  // The parent going away (even by SIGKILL) ends this process too.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port });
}

// Runs only as the forked entry point; bench/record.ts imports the credentials above.
const [entry, clipFile, streams] = process.argv.slice(1);
if (entry === fileURLToPath(import.meta.url) && clipFile !== undefined && streams !== undefined && process.send !== undefined) {
  main(clipFile, Number(streams)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
