// fMP4 muxer benchmark (issue #5: "evaluate mediabunny against a hand-written muxer for CPU and
// allocations"). Both muxers run side by side in one process on the same input: the access units
// of the cached 1080p30 ~4 Mbps H.264 clip that `npm run bench -- record` serves (bench/clip.ts),
// looped, handed over as 4-byte length-prefixed NAL units — what our RTP depacketizer produces and
// what CameraRecorder feeds the muxer (framing 'length-prefixed'). No decoding on either side.
//   ours        src/video/mp4 FragmentMuxer: init + one moof/mdat per GOP, one buffer each
//   mediabunny  Output(Mp4OutputFormat{ fastStart: 'fragmented' }) with an EncodedVideoPacketSource,
//               StreamTarget into a WritableStream that counts bytes (keeps them only to probe)
// Figures: fragments/s (wall), CPU µs per fragment (process.cpuUsage, user+system, all threads),
// and allocation per fragment (process.memoryUsage deltas of heapUsed and arrayBuffers across one
// GOP after a forced full GC, samples during which any GC ran are discarded: see allocationPerFragment).
// Then both outputs are written to files and must pass ffprobe with the same decoded frame count
// and duration, one fragment per GOP. A reference line times `ffmpeg -c copy` to fMP4 on the same
// stream (process start included).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EncodedPacket, EncodedVideoPacketSource, Mp4OutputFormat, Output, StreamTarget, type StreamTargetChunk } from 'mediabunny';
import { CLIP_FPS, prepareClip } from './clip.ts';
import { FragmentMuxer } from '../src/video/mp4/muxer.ts';
import { splitElementaryStream } from '../src/video/mp4/elementary-stream.ts';
import { buildAvcC, parseH264Sps } from '../src/video/mp4/h264.ts';
import { splitAnnexB } from '../src/video/mp4/nal.ts';

const LOOPS = 3; // the 10 s clip three times: 30 s, 900 access units, 30 GOPs per pass
const ROUNDS = 6; // timed rounds; each round runs PASSES of each muxer, alternating who goes first
const PASSES = 3;
const ALLOC_GOPS = 21;
const TIMESCALE = 90_000;
const FRAME_TICKS = TIMESCALE / CLIP_FPS;

interface Input {
  /** Length-prefixed access units. */
  units: Uint8Array[];
  keyframes: boolean[];
  sps: Uint8Array[];
  pps: Uint8Array[];
  annexB: Uint8Array;
  gops: number;
}

/** One muxing session: push access units in order, then finish; `bytes` of output so far. */
interface MuxSession {
  push(i: number): void | Promise<void>;
  finish(): Promise<void>;
  readonly out: { bytes: number; fragments: number; chunks: Array<{ position: number; data: Uint8Array }> | undefined };
}

interface Contender {
  readonly name: string;
  open(input: Input, keep: boolean): Promise<MuxSession>;
}

function lengthPrefixed(nals: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.allocUnsafe(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let at = 0;
  for (const nal of nals) {
    out.writeUInt32BE(nal.length, at);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}

function loadInput(): Input {
  const clip = readFileSync(prepareClip());
  const annexB = Buffer.concat(Array.from({ length: LOOPS }, () => clip));
  const es = splitElementaryStream(annexB, 'h264');
  const units = es.units.map((u) => lengthPrefixed(splitAnnexB(u.data)));
  const keyframes = es.units.map((u) => u.keyframe);
  const sps = es.parameterSets.filter((p) => ((p[0] ?? 0) & 0x1f) === 7);
  const pps = es.parameterSets.filter((p) => ((p[0] ?? 0) & 0x1f) === 8);
  return { units, keyframes, sps, pps, annexB, gops: keyframes.filter(Boolean).length };
}

const ours: Contender = {
  name: 'ours',
  open(input, keep) {
    const m = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: TIMESCALE, parameterSets: [...input.sps, ...input.pps], framing: 'length-prefixed' }]);
    const out: MuxSession['out'] = { bytes: m.init.length, fragments: 0, chunks: keep ? [{ position: 0, data: m.init }] : undefined };
    const take = (f: { bytes: Uint8Array } | undefined): void => {
      if (f === undefined) return;
      out.chunks?.push({ position: out.bytes, data: f.bytes });
      out.bytes += f.bytes.length;
      out.fragments++;
    };
    return Promise.resolve({
      out,
      push(i) {
        const data = input.units[i % input.units.length];
        if (data !== undefined) take(m.push(0, { data, dts: i * FRAME_TICKS, ctsOffset: 0, duration: FRAME_TICKS, keyframe: input.keyframes[i % input.units.length] === true }));
      },
      finish() {
        take(m.flush());
        return Promise.resolve();
      },
    });
  },
};

const mediabunny: Contender = {
  name: 'mediabunny',
  async open(input, keep) {
    const out: MuxSession['out'] = { bytes: 0, fragments: 0, chunks: keep ? [] : undefined };
    const writable = new WritableStream<StreamTargetChunk>({
      write(chunk) {
        out.chunks?.push({ position: chunk.position, data: chunk.data });
        out.bytes = Math.max(out.bytes, chunk.position + chunk.data.byteLength);
      },
    });
    // Fragments begin only at a keyframe; 0.5 s keeps exactly one fragment per 1 s GOP.
    const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'fragmented', minimumFragmentDuration: 0.5, onMoof: () => { out.fragments++; } }), target: new StreamTarget(writable) });
    const source = new EncodedVideoPacketSource('avc');
    output.addVideoTrack(source, { frameRate: CLIP_FPS });
    await output.start();
    const sps = input.sps[0];
    if (sps === undefined) throw new Error('the clip has no SPS');
    const format = parseH264Sps(sps);
    const meta = { decoderConfig: { codec: format.codecString, codedWidth: format.width, codedHeight: format.height, description: buildAvcC(input.sps, input.pps) } };
    let first = true;
    return {
      out,
      async push(i) {
        const data = input.units[i % input.units.length];
        if (data === undefined) return;
        const packet = new EncodedPacket(data, input.keyframes[i % input.units.length] === true ? 'key' : 'delta', i / CLIP_FPS, 1 / CLIP_FPS);
        await source.add(packet, first ? meta : undefined);
        first = false;
      },
      async finish() {
        await output.finalize();
      },
    };
  },
};

/** One pass over the whole input; returns the fragments made. */
async function pass(c: Contender, input: Input): Promise<number> {
  const s = await c.open(input, false);
  for (let i = 0; i < input.units.length; i++) await s.push(i);
  await s.finish();
  return s.out.fragments;
}

interface Timing { cpuUs: number; wallNs: number; fragments: number; inputBytes: number }

async function timeBoth(input: Input): Promise<Map<string, Timing>> {
  const inputBytes = input.units.reduce((n, u) => n + u.length, 0);
  const timings = new Map<string, Timing>([ours, mediabunny].map((c) => [c.name, { cpuUs: 0, wallNs: 0, fragments: 0, inputBytes: 0 }]));
  for (const c of [ours, mediabunny]) await pass(c, input); // warm-up (JIT)
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 === 0 ? [ours, mediabunny] : [mediabunny, ours]) {
      const t = timings.get(c.name);
      if (t === undefined) continue;
      const cpu0 = process.cpuUsage();
      const wall0 = process.hrtime.bigint();
      for (let p = 0; p < PASSES; p++) t.fragments += await pass(c, input);
      t.wallNs += Number(process.hrtime.bigint() - wall0);
      const cpu = process.cpuUsage(cpu0);
      t.cpuUs += cpu.user + cpu.system;
      t.inputBytes += inputBytes * PASSES;
    }
  }
  return timings;
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('cannot reach gc() for the allocation figures');
  return () => { gc(); };
}

/**
 * Bytes allocated per fragment in steady state: after 5 warm-up GOPs, for each of ALLOC_GOPS GOPs
 * force a full GC, read process.memoryUsage(), push one GOP (its keyframe closes the previous
 * fragment), read again. Without a collection in between, the heapUsed delta is what the GOP
 * allocated on the V8 heap and the arrayBuffers delta what it allocated in ArrayBuffer backing
 * stores (the fragment itself, copies). A sample during which a GC ran (PerformanceObserver
 * 'gc' entries inside its window) is discarded. Median of the clean samples.
 */
async function allocationPerFragment(c: Contender, input: Input, gc: () => void): Promise<{ heap: number; buffers: number; clean: number }> {
  const gcTimes: Array<[number, number]> = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcTimes.push([e.startTime, e.startTime + e.duration]); });
  observer.observe({ entryTypes: ['gc'] });
  const s = await c.open(input, false);
  let i = 0;
  const pushGop = async (): Promise<void> => {
    do await s.push(i++);
    while (input.keyframes[i % input.units.length] === false && i < 1_000_000);
  };
  const heap: number[] = [];
  const buffers: number[] = [];
  const windows: Array<[number, number]> = [];
  try {
    for (let g = 0; g < 5; g++) await pushGop();
    for (let g = 0; g < ALLOC_GOPS; g++) {
      gc();
      await new Promise((r) => setImmediate(r)); // let the forced GC's entry be reported before the window opens
      const t0 = performance.now();
      const before = process.memoryUsage();
      await pushGop();
      const after = process.memoryUsage();
      windows.push([t0, performance.now()]);
      heap.push(after.heapUsed - before.heapUsed);
      buffers.push(after.arrayBuffers - before.arrayBuffers);
    }
    await s.finish();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    for (const e of observer.takeRecords()) gcTimes.push([e.startTime, e.startTime + e.duration]);
  } finally {
    observer.disconnect();
  }
  const clean = windows.map(([a, b]) => !gcTimes.some(([s0, s1]) => s1 >= a && s0 <= b));
  const median = (v: number[]): number => {
    const kept = v.filter((_, k) => clean[k] === true).sort((a, b) => a - b);
    return kept[Math.floor(kept.length / 2)] ?? Number.NaN;
  };
  return { heap: median(heap), buffers: median(buffers), clean: clean.filter(Boolean).length };
}

/** Top-level boxes of an ISO BMFF file, by type. */
function countBoxes(bytes: Uint8Array, type: string): number {
  let n = 0;
  let at = 0;
  for (let guard = 0; at + 8 <= bytes.length && guard < 1_000_000; guard++) {
    const size = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(at);
    if (size < 8) throw new Error(`bad box size at ${at}`);
    if (Buffer.from(bytes.subarray(at + 4, at + 8)).toString('latin1') === type) n++;
    at += size;
  }
  return n;
}

interface Probe { frames: number; seconds: number; codec: string; width: number; moofs: number }

async function outputOf(c: Contender, input: Input, file: string): Promise<Probe> {
  const s = await c.open(input, true);
  for (let i = 0; i < input.units.length; i++) await s.push(i);
  await s.finish();
  const bytes = Buffer.alloc(s.out.bytes);
  for (const chunk of s.out.chunks ?? []) bytes.set(chunk.data, chunk.position);
  writeFileSync(file, bytes);
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,nb_read_frames,duration:format=duration', '-of', 'json', file], { timeout: 120_000, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe rejects the ${c.name} output (apt package 'ffmpeg'): ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { streams?: Array<Record<string, unknown>>; format?: Record<string, unknown> };
  const st = parsed.streams?.[0] ?? {};
  return { frames: Number(st['nb_read_frames']), seconds: Number(parsed.format?.['duration']), codec: String(st['codec_name']), width: Number(st['width']), moofs: countBoxes(bytes, 'moof') };
}

function ffmpegCopy(input: string, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-r', String(CLIP_FPS), '-f', 'h264', '-i', input, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', output],
      { timeout: 120_000, killSignal: 'SIGKILL' }, (err) => {
        if (err !== null) reject(new Error(`ffmpeg failed (apt package 'ffmpeg'): ${err.message}`));
        else resolve(Number(process.hrtime.bigint() - t0));
      });
  });
}

export async function run(): Promise<Record<string, number>> {
  const input = loadInput();
  const seconds = input.units.length / CLIP_FPS;
  console.log(`input: cached clip looped ${LOOPS}×: ${input.units.length} access units, ${input.gops} GOPs, ${(input.annexB.length / 1e6).toFixed(1)} MB of 1080p30 H.264, length-prefixed`);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-mp4-'));
  const figures: Record<string, number> = {};
  try {
    // Validity first: a muxer whose output ffprobe does not read the same has no figures.
    const probes = new Map<string, Probe>();
    for (const c of [ours, mediabunny]) {
      const p = await outputOf(c, input, path.join(dir, `${c.name}.mp4`));
      console.log(`${c.name.padEnd(10)} output: ${p.codec} ${p.width} px, ${p.frames} frames decoded, ${p.seconds.toFixed(3)} s, ${p.moofs} fragments`);
      if (p.codec !== 'h264' || p.frames !== input.units.length || Math.abs(p.seconds - seconds) > 1 / CLIP_FPS + 1e-6 || p.moofs !== input.gops) {
        throw new Error(`${c.name}: output differs from the input (${input.units.length} frames, ${seconds} s, ${input.gops} GOPs)`);
      }
      probes.set(c.name, p);
    }
    const timings = await timeBoth(input);
    const gc = collectGarbage();
    for (const c of [ours, mediabunny]) {
      const t = timings.get(c.name);
      if (t === undefined) continue;
      const alloc = await allocationPerFragment(c, input, gc);
      const fps = t.fragments / (t.wallNs / 1e9);
      const cpuPerFragment = t.cpuUs / t.fragments;
      console.log(`${c.name.padEnd(10)} ${fps.toFixed(0).padStart(6)} fragments/s, ${cpuPerFragment.toFixed(0).padStart(6)} µs CPU/fragment, ${(t.inputBytes / 1e6 / (t.cpuUs / 1e6)).toFixed(0)} MB/CPU-s; ` +
        `allocated per fragment: ${(alloc.heap / 1024).toFixed(1)} KiB JS heap + ${(alloc.buffers / 1024).toFixed(0)} KiB ArrayBuffers (median of ${alloc.clean}/${ALLOC_GOPS} GC-free GOPs)`);
      figures[`${c.name}_fragments_per_s`] = Math.round(fps);
      figures[`${c.name}_cpu_us_fragment`] = Math.round(cpuPerFragment);
      figures[`${c.name}_heap_kib_fragment`] = Math.round(alloc.heap / 102.4) / 10;
      figures[`${c.name}_buffers_kib_fragment`] = Math.round(alloc.buffers / 1024);
    }
    const a = timings.get('ours');
    const b = timings.get('mediabunny');
    if (a !== undefined && b !== undefined) figures['cpu_ratio_ours_mediabunny'] = Math.round((a.cpuUs / a.fragments / (b.cpuUs / b.fragments)) * 100) / 100;
    const stream = path.join(dir, 'input.h264');
    writeFileSync(stream, input.annexB);
    const peer: number[] = [];
    for (let i = 0; i < 3; i++) peer.push(await ffmpegCopy(stream, path.join(dir, 'peer.mp4')));
    const perFragmentUs = Math.min(...peer) / 1e3 / input.gops;
    console.log(`reference  ffmpeg -c copy → fMP4: ${perFragmentUs.toFixed(0)} µs wall/fragment (best of 3, process start included)`);
    figures['ffmpeg_wall_us_fragment'] = Math.round(perFragmentUs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
