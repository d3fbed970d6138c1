// The benchmarks' shared input: a 10 s 1080p30 ~4 Mbps H.264 clip (GOP 30, no B-frames), encoded
// once by ffmpeg and cached in bench/.cache (gitignored). bench/record.ts serves it looped over
// RTSP; bench/mp4.ts muxes its access units.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLIP_FPS = 30;
const CACHE = path.join(path.dirname(fileURLToPath(import.meta.url)), '.cache');
const CLIP = path.join(CACHE, 'clip-1080p30-4mbps-g30.h264');

/** Path of the cached clip, made on first use. */
export function prepareClip(): string {
  if (existsSync(CLIP)) return CLIP;
  mkdirSync(CACHE, { recursive: true });
  const partial = `${CLIP}.partial`;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${CLIP_FPS}`, '-t', '10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '4M', '-maxrate', '4M', '-bufsize', '4M', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
    '-pix_fmt', 'yuv420p', '-f', 'h264', partial], { timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the clip (apt-get install ffmpeg): ${String(r.stderr ?? r.error)}`);
  renameSync(partial, CLIP);
  return CLIP;
}
