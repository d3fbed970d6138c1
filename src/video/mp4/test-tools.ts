// Test and benchmark support: make reference clips with ffmpeg and inspect files with ffprobe.
// Not used by the product. A missing tool fails loudly naming the apt package (testing.md).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { VideoCodec } from './types.ts';

const TOOL_TIMEOUT_MS = 120_000;
const MAX_TOOL_OUTPUT = 64 * 1024 * 1024;

function run(tool: 'ffmpeg' | 'ffprobe', args: readonly string[], want: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: TOOL_TIMEOUT_MS, maxBuffer: MAX_TOOL_OUTPUT, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err === null) return resolve(want === 'stdout' ? stdout : stderr);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new Error(`${tool} not found: install the apt package 'ffmpeg' (apt-get install -y ffmpeg)`));
      reject(new Error(`${tool} failed: ${err.message}\n${stderr.slice(-2000)}`));
    });
  });
}

export async function hasEncoder(name: string): Promise<boolean> {
  const out = await run('ffmpeg', ['-hide_banner', '-encoders']);
  return out.split('\n').some((l) => l.trim().split(/\s+/)[1] === name);
}

export interface Clip {
  readonly dir: string;
  readonly file: string;
  readonly bytes: Uint8Array;
  remove(): void;
}

/** 6 s of 1080p30 testsrc2, one keyframe a second, no B-frames, as a raw Annex-B stream. */
export async function makeClip(codec: VideoCodec, seconds = 6): Promise<Clip> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-mp4-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, codec === 'h264' ? 'clip.h264' : 'clip.h265');
    const enc = codec === 'h264'
      ? ['-c:v', 'libx264', '-g', '30', '-bf', '0', '-f', 'h264']
      : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=30:min-keyint=30:bframes=0:log-level=error', '-f', 'hevc'];
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-t', String(seconds), ...enc, '-pix_fmt', 'yuv420p', file]);
    return { dir, file, bytes: readFileSync(file), remove };
  } catch (err) {
    remove();
    throw err;
  }
}

export interface ProbeResult {
  readonly streams: readonly Record<string, unknown>[];
  readonly format: Record<string, unknown>;
}

export async function ffprobe(file: string): Promise<ProbeResult> {
  const out = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-count_frames', '-of', 'json', file]);
  const parsed: unknown = JSON.parse(out);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('ffprobe printed no JSON object');
  const streams = 'streams' in parsed && Array.isArray(parsed.streams) ? (parsed.streams as Record<string, unknown>[]) : [];
  const format = 'format' in parsed && typeof parsed.format === 'object' && parsed.format !== null ? (parsed.format as Record<string, unknown>) : {};
  return { streams, format };
}

/** Run ffmpeg with arbitrary arguments (e.g. to make a reference fMP4 for the reader). */
export async function ffmpeg(args: readonly string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Decode every frame with ffmpeg; returns what it reported at level "error" (empty when clean). */
export async function decodeErrors(file: string): Promise<string> {
  return run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], 'stderr');
}

/** 6 s of a 1 kHz tone as AAC-LC 48 kHz stereo in ADTS framing. */
export async function makeAdtsClip(dir: string, seconds = 6): Promise<Uint8Array> {
  const file = path.join(dir, 'tone.aac');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000', '-t', String(seconds), '-ac', '2', '-c:a', 'aac', '-f', 'adts', file]);
  return readFileSync(file);
}
