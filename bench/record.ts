// Recorder benchmark (testing.md, "Benchmarks"; design.md §5): N identical live 1080p30 ~4 Mbps
// H.264 streams served by one replay RTSP server in its own process (bench/rtsp-replay.ts), each
// recorded for the same window by
//   (a) Vigil: one child process, a VideoStore (AES-256-GCM sealing, SHA-256 chain, signed rows,
//       two mirror volumes: NVR-5.1.5.2a, NVR-5.2.8.1b) and N CameraRecorders, and
//   (b) the peer: one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` per stream, as
//       popular NVRs run it.
// Measured over the push window only (start-up excluded on both sides): CPU seconds from
// /proc/<pid>/stat (utime+stime, all threads), peak RSS (VmHWM) per stream, and for Vigil the
// access units recorded vs pushed (no frame loss: NVR-5.1.2.1a continuous recording). Ratios
// Vigil/ffmpeg are the figures to quote. Then the largest N Vigil sustains without loss.
//   VIGIL_BENCH_RECORD_STREAMS   comma list of N (default 8,16,32,64)
//   VIGIL_BENCH_RECORD_SECONDS   window per run (default 30)
//   VIGIL_BENCH_RECORD_BUDGET_S  wall budget of the whole scenario (default 600)
//   VIGIL_BENCH_RECORD_PROFILE=1 --cpu-prof for the Vigil child: stages and top functions over the
//                                window (bench/cpu-profile.ts); its CPU figure then includes the profiler
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareClip } from './clip.ts';
import { monotonicMicros, printProfile, printThreadSplit, threadTicks } from './cpu-profile.ts';
import { REPLAY_FPS, REPLAY_PASSWORD, REPLAY_USER } from './rtsp-replay.ts';
import { systemClock } from '../src/core/clock.ts';
import { createLogger } from '../src/core/logger.ts';
import { Keyring } from '../src/crypto/keyring.ts';
import { openStore } from '../src/store/database.ts';
import { CameraRecorder } from '../src/video/recorder/camera-recorder.ts';
import { VideoStore } from '../src/video/storage/video-store.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLK_TCK = 100;
const DRAIN_MS = 1500;

type Message = { type: string } & Record<string, unknown>;
interface RunFigures {
  n: number;
  vigilCpuS: number;
  vigilRssMiB: number;
  vigilLost: number;
  ffmpegCpuS: number;
  ffmpegRssMiB: number;
  serverCpuS: number;
  serverLateMs: number;
}

const children = new Set<ChildProcess>();

function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next message of `type` from a forked child, or an error after `timeoutMs`. */
function nextMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && 'type' in m && m.type === type) {
        cleanup();
        resolve(m as Message);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child exited (${String(code)}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' from child within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function peakRssKiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

async function waitForViewers(server: ChildProcess, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    server.send({ type: 'viewers' });
    const count = Number((await nextMessage(server, 'viewers', 5000))['count']);
    if (count >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${count} of ${n} streams are being played`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pushes the window and samples CPU of `pids` over it; returns the server's report. */
async function measureWindow(server: ChildProcess, pids: Array<number | undefined>, seconds: number): Promise<{ cpuS: number; done: Message; fromUs: number; toUs: number }> {
  const before = pids.reduce<number>((sum, p) => sum + cpuTicks(p), 0);
  const fromUs = monotonicMicros();
  server.send({ type: 'go', seconds });
  const done = await nextMessage(server, 'done', (seconds + 60) * 1000);
  await new Promise((r) => setTimeout(r, DRAIN_MS));
  const after = pids.reduce<number>((sum, p) => sum + cpuTicks(p), 0);
  return { cpuS: (after - before) / CLK_TCK, done, fromUs, toUs: monotonicMicros() };
}

async function runVigil(server: ChildProcess, port: number, n: number, seconds: number, dir: string): Promise<{ cpuS: number; rssKiB: number; lost: number; serverCpuS: number; lateMs: number; profile: { dir: string; fromUs: number; toUs: number } | undefined }> {
  const profileDir = process.env['VIGIL_BENCH_RECORD_PROFILE'] === '1' ? path.join(dir, 'prof') : undefined;
  const execArgv = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = track(fork(fileURLToPath(import.meta.url), ['--vigil-recorder', String(port), String(n), dir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    await nextMessage(child, 'ready', 60_000);
    await waitForViewers(server, n, 60_000);
    const threadsBefore = threadTicks(child.pid);
    const { cpuS, done, fromUs, toUs } = await measureWindow(server, [child.pid], seconds);
    printThreadSplit(threadsBefore, threadTicks(child.pid));
    child.send({ type: 'stop' });
    const stats = await nextMessage(child, 'stats', 120_000);
    const rssKiB = peakRssKiB(child.pid);
    const pushed = Number(done['pushed']);
    const units = stats['accessUnits'] as number[];
    const storedFragments = stats['storedFragments'] as number[];
    const expectedFragments = Math.ceil(pushed / REPLAY_FPS);
    let lost = Number(done['skipped']) + Number(done['disconnected']);
    for (let i = 0; i < n; i++) {
      lost += Math.max(0, pushed - (units[i] ?? 0));
      lost += Math.max(0, expectedFragments - (storedFragments[i] ?? 0)) * REPLAY_FPS;
    }
    if (lost > 0) console.log(`  vigil N=${n}: pushed ${pushed}/stream; received ${JSON.stringify(units)}; fragments stored ${JSON.stringify(storedFragments)}; server skipped ${String(done['skipped'])}`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await nextMessage(child, 'closed', 60_000);
    // It exits by itself (a signal would lose the --cpu-prof file); SIGKILL below if it hangs.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    return { cpuS, rssKiB, lost, serverCpuS: Number(done['cpuMs']) / 1000, lateMs: Number(done['lateMs']), profile: profileDir === undefined ? undefined : { dir: profileDir, fromUs, toUs } };
  } finally {
    await stopChild(child, 'SIGKILL', 5000);
  }
}

async function runFfmpeg(server: ChildProcess, port: number, n: number, seconds: number, dir: string): Promise<{ cpuS: number; rssKiB: number; framesStream0: number }> {
  const peers: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const out = path.join(dir, `ffmpeg-s${i}`);
      mkdirSync(out, { recursive: true });
      const url = `rtsp://${REPLAY_USER}:${REPLAY_PASSWORD}@127.0.0.1:${port}/s${i}`;
      peers.push(track(spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-f', 'segment', '-segment_time', '60', path.join(out, 'out%03d.mp4')], { stdio: ['pipe', 'ignore', 'inherit'] })));
    }
    await waitForViewers(server, n, 60_000);
    const { cpuS } = await measureWindow(server, peers.map((p) => p.pid), seconds);
    const rssKiB = peers.reduce((sum, p) => sum + peakRssKiB(p.pid), 0);
    // 'q' on stdin ends ffmpeg cleanly (SIGINT interrupts its trailer write, the moov is lost),
    // but ffmpeg reads the key only between packets: keep frames flowing until they are gone.
    server.send({ type: 'go', seconds: 3 });
    await Promise.all(peers.map(async (p) => {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.stdin?.end('q');
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }));
    await nextMessage(server, 'done', 60_000);
    return { cpuS, rssKiB, framesStream0: countFrames(path.join(dir, 'ffmpeg-s0')) };
  } finally {
    await Promise.all(peers.map((p) => stopChild(p, 'SIGKILL', 5000)));
  }
}

/** Video frames in the peer's first stream (ffprobe), a check that the peer did record. */
function countFrames(outDir: string): number {
  let frames = 0;
  for (const f of readdirSync(outDir).filter((x) => x.endsWith('.mp4'))) {
    const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path.join(outDir, f)], { timeout: 60_000, encoding: 'utf8' });
    if (r.status !== 0) console.log(`  ffprobe ${f}: ${r.stderr}`);
    frames += Number.parseInt(r.stdout, 10) || 0;
  }
  return frames;
}

async function runOnce(clip: string, n: number, seconds: number): Promise<RunFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-record-'));
  const server = track(fork(path.join(HERE, 'rtsp-replay.ts'), [clip, String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const port = Number((await nextMessage(server, 'ready', 60_000))['port']);
    const vigil = await runVigil(server, port, n, seconds, dir);
    if (vigil.profile !== undefined) printProfile(vigil.profile.dir, vigil.profile.fromUs, vigil.profile.toUs);
    const peer = await runFfmpeg(server, port, n, seconds, dir);
    const minutes = (n * seconds) / 60;
    const f: RunFigures = {
      n,
      vigilCpuS: vigil.cpuS / minutes,
      vigilRssMiB: vigil.rssKiB / 1024 / n,
      vigilLost: vigil.lost,
      ffmpegCpuS: peer.cpuS / minutes,
      ffmpegRssMiB: peer.rssKiB / 1024 / n,
      serverCpuS: vigil.serverCpuS,
      serverLateMs: vigil.lateMs,
    };
    console.log(`N=${String(n).padStart(3)}  CPU s/stream-min vigil ${f.vigilCpuS.toFixed(2)} ffmpeg ${f.ffmpegCpuS.toFixed(2)} (ratio ${(f.vigilCpuS / f.ffmpegCpuS).toFixed(2)})` +
      `  RSS MiB/stream vigil ${f.vigilRssMiB.toFixed(1)} ffmpeg ${f.ffmpegRssMiB.toFixed(1)} (ratio ${(f.vigilRssMiB / f.ffmpegRssMiB).toFixed(2)})` +
      `  vigil frames lost ${f.vigilLost} of ${n * seconds * REPLAY_FPS}; ffmpeg s0 frames ${peer.framesStream0} (window ${seconds * REPLAY_FPS} + tail)` +
      `  (replay server ${f.serverCpuS.toFixed(1)} CPU s, max late ${f.serverLateMs} ms)`);
    return f;
  } finally {
    server.send({ type: 'exit' });
    await stopChild(server, 'SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const seconds = envNumber('VIGIL_BENCH_RECORD_SECONDS', 30);
  const budgetMs = envNumber('VIGIL_BENCH_RECORD_BUDGET_S', 600) * 1000;
  const sizes = (process.env['VIGIL_BENCH_RECORD_STREAMS'] ?? '8,16,32,64').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0 && x <= 256);
  const startedAt = Date.now();
  const clip = prepareClip();
  console.log(`clip ${path.relative(process.cwd(), clip)}: 1080p30 H.264 ~4 Mbps, GOP 30, no B-frames, looped; window ${seconds} s per run`);
  const results: RunFigures[] = [];
  try {
    for (const n of sizes) {
      const elapsed = Date.now() - startedAt;
      const estimate = 2 * (seconds + 20) * 1000;
      if (results.length > 0 && elapsed + estimate > budgetMs) {
        console.log(`N=${n}: skipped, over the ${budgetMs / 1000} s budget`);
        break;
      }
      const f = await runOnce(clip, n, seconds);
      results.push(f);
      if (f.vigilLost > 0) break; // the next N would lose too
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
  const lossless = results.filter((r) => r.vigilLost === 0);
  const last = results[results.length - 1];
  const out: Record<string, number> = { max_streams_no_loss: lossless.reduce((m, r) => Math.max(m, r.n), 0) };
  if (last !== undefined) {
    out['at_streams'] = last.n;
    out['vigil_cpu_s_stream_min'] = round(last.vigilCpuS);
    out['ffmpeg_cpu_s_stream_min'] = round(last.ffmpegCpuS);
    out['cpu_ratio_vigil_ffmpeg'] = round(last.vigilCpuS / last.ffmpegCpuS);
    out['vigil_rss_mib_stream'] = round(last.vigilRssMiB);
    out['ffmpeg_rss_mib_stream'] = round(last.ffmpegRssMiB);
    out['rss_ratio_vigil_ffmpeg'] = round(last.vigilRssMiB / last.ffmpegRssMiB);
    out['vigil_frames_lost'] = last.vigilLost;
  }
  return out;
}

/**
 * The Vigil side, in its own process (`node bench/record.ts --vigil-recorder PORT N DIR`): the
 * product's VideoStore with two mirror volumes, sealing and hashing on, fsync per fragment as
 * the product default, and N CameraRecorders; reports per-camera counts when told to stop.
 */
async function runVigilRecorder(port: number, n: number, dir: string): Promise<void> {
  const store = await openStore({ driver: 'sqlite', file: path.join(dir, 'vigil.db') });
  const keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(dir, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store });
  const logger = createLogger({ level: 'error' });
  const alarms = { raise: (): void => undefined, clear: (): void => undefined };
  const audit = { record: (): void => undefined };
  const video = await VideoStore.open({
    store, keyring, signer: await keyring.deviceSigner(), alarms, audit, clock: systemClock, logger, dataDir: dir,
    config: {
      volumes: [{ id: 'mirror-a', path: path.join(dir, 'mirror-a'), role: 'mirror' }, { id: 'mirror-b', path: path.join(dir, 'mirror-b'), role: 'mirror' }],
      mirrorCopies: 2, segmentSeconds: 60, signalLossSeconds: 10, syncEachFragment: process.env['VIGIL_BENCH_RECORD_SYNC'] !== '0',
      freeSpaceWarnPercent: 1, healthCheckSeconds: 300, verifyEveryHours: 24,
    },
  });
  const recorders = Array.from({ length: n }, (_, i) => new CameraRecorder({
    camera: { id: `cam-${i}`, name: `bench ${i}`, url: `rtsp://127.0.0.1:${port}/s${i}`, username: REPLAY_USER, password: REPLAY_PASSWORD },
    video, alarms, audit, clock: systemClock, logger, segmentSeconds: 60, signalLossSeconds: 10,
  }));
  for (const r of recorders) r.start();
  process.on('disconnect', () => process.exit(1));
  process.once('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || !('type' in m) || m.type !== 'stop') return;
    void (async () => {
      await Promise.all(recorders.map((r) => r.stop()));
      const storedFragments: number[] = [];
      for (let i = 0; i < n; i++) storedFragments.push((await video.catalog.chain(`cam-${i}`, 0, 1000)).reduce((s, row) => s + row.fragments, 0));
      process.send?.({ type: 'stats', accessUnits: recorders.map((r) => r.stats.accessUnits), droppedFragments: recorders.map((r) => r.stats.droppedFragments), storedFragments });
      await video.close();
      await keyring.close();
      await store.close();
      process.send?.({ type: 'closed' }, () => process.exit(0));
    })();
  });
  process.send?.({ type: 'ready' });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--vigil-recorder' && process.send !== undefined) {
  const [port, n, dir] = process.argv.slice(3);
  runVigilRecorder(Number(port), Number(n), String(dir)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
