// The software camera's video source: ffmpeg as a supervised child process encoding a test
// pattern, a looped file, a V4L2 device or an upstream RTSP stream to H.264 with the privacy
// masks applied before encoding (CAM-5.5.1.2). Its Annex B output becomes access units with
// 90 kHz timestamps. A dying encoder is restarted with capped backoff and raises an alarm until
// frames flow again (CAM-T-phys-4: loss of the video source).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { AlarmSink } from '../alarms/types.ts';
import type { Logger } from '../core/logger.ts';
import { VigilError } from '../core/errors.ts';
import { AnnexBAccessUnitStream } from './annexb-stream.ts';
import { maskFilters, type PrivacyMask } from './privacy-masks.ts';

export type SourceInput =
  | { kind: 'test-pattern' }
  | { kind: 'file'; path: string }
  /** A pre-encoded H.264 file served as a live stream without re-encoding (benchmarks, demos). */
  | { kind: 'replay'; path: string }
  | { kind: 'v4l2'; device: string }
  | { kind: 'rtsp'; url: string };

export interface EncoderSettings {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** Keyframe interval in frames. */
  gop: number;
}

export interface FfmpegSourceOptions {
  input: SourceInput;
  encoder: EncoderSettings;
  masks: readonly PrivacyMask[];
  ffmpegPath?: string;
  alarms: AlarmSink;
  logger: Logger;
  /** Camera name in alarms. */
  name: string;
  /** One access unit; its NAL buffers are slices the parser never writes again, so they may be kept. */
  onAccessUnit(nals: Buffer[], timestamp90k: number): void;
}

const STDERR_KEEP = 4096;

export function ffmpegArguments(input: SourceInput, encoder: EncoderSettings, masks: readonly PrivacyMask[]): string[] {
  // Arguments are visible to every local user (ps): never a credential in them.
  if (input.kind === 'rtsp' && /^[a-z]+:\/\/[^/]*@/i.test(input.url)) {
    throw new VigilError('VIGIL_VALIDATION', 'an upstream RTSP URL must not carry credentials', { details: { field: 'url' } });
  }
  if (input.kind === 'replay') {
    // No decoding, so nothing can be drawn over the picture: masks need the encoding sources.
    if (masks.length > 0) throw new VigilError('VIGIL_VALIDATION', 'privacy masks need an encoded source, not replay', { details: { field: 'privacyMasks' } });
    return [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', input.path,
      '-an', '-c:v', 'copy', '-f', 'h264', 'pipe:1', // the h264 muxer adds mp4toannexb itself (an explicit -bsf breaks -stream_loop in ffmpeg 5)
    ];
  }
  const inputArgs: Record<Exclude<SourceInput['kind'], 'replay'>, () => string[]> = {
    'test-pattern': () => ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${encoder.width}x${encoder.height}:rate=${encoder.fps}`],
    file: () => ['-re', '-stream_loop', '-1', '-i', (input as { path: string }).path],
    v4l2: () => ['-f', 'v4l2', '-framerate', String(encoder.fps), '-i', (input as { device: string }).device],
    rtsp: () => ['-rtsp_transport', 'tcp', '-i', (input as { url: string }).url],
  };
  const filters = [`scale=${encoder.width}:${encoder.height}`, `fps=${encoder.fps}`, ...maskFilters(masks), 'format=yuv420p'];
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...inputArgs[input.kind](),
    '-an', '-vf', filters.join(','),
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0',
    '-g', String(encoder.gop), '-keyint_min', String(encoder.gop), '-sc_threshold', '0',
    '-b:v', `${encoder.bitrateKbps}k`, '-maxrate', `${encoder.bitrateKbps}k`, '-bufsize', `${encoder.bitrateKbps * 2}k`,
    '-f', 'h264', 'pipe:1',
  ];
}

export class FfmpegSource {
  readonly #o: FfmpegSourceOptions;
  #child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  #running = false;
  #restarts = 0;
  #frames = 0;
  #timer: NodeJS.Timeout | undefined;
  #sourceLost = false;

  constructor(options: FfmpegSourceOptions) {
    this.#o = options;
  }

  get frames(): number {
    return this.#frames;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }

  #spawn(): void {
    const args = ffmpegArguments(this.#o.input, this.#o.encoder, this.#o.masks);
    const child = spawn(this.#o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    const stream = new AnnexBAccessUnitStream('H264', (nals) => {
      if (this.#sourceLost) this.#restored();
      this.#restarts = 0;
      this.#o.onAccessUnit(nals, Math.round((this.#frames * 90_000) / this.#o.encoder.fps));
      this.#frames++;
    });
    child.stdout.on('data', (chunk: Buffer) => stream.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP)));
    child.once('error', (err) => this.#o.logger.error({ err }, 'cannot start ffmpeg'));
    child.once('exit', (code, signal) => {
      stream.end();
      if (!this.#running) return;
      this.#lost(`encoder exited (${signal ?? code ?? 'unknown'}): ${stderr.trim().split('\n').pop() ?? ''}`);
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#restarts, 6));
      this.#restarts++;
      this.#timer = setTimeout(() => this.#spawn(), delay);
    });
  }

  #lost(reason: string): void {
    this.#o.logger.warn({ camera: this.#o.name, reason }, 'video source lost');
    if (this.#sourceLost) return;
    this.#sourceLost = true;
    this.#o.alarms.raise({ type: 'camera.source_lost', severity: 'critical', source: `camera:${this.#o.name}`, message: `video source of ${this.#o.name} lost: ${reason.slice(0, 200)}`, dedupeKey: `camera.source_lost|${this.#o.name}` });
  }

  #restored(): void {
    this.#sourceLost = false;
    this.#o.alarms.clear(`camera.source_lost|${this.#o.name}`, 'video flows again');
  }
}
