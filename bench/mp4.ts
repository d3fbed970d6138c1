// Benchmark of the fMP4 muxer (src/video/mp4) on a real 1080p30 H.264 stream: ns per access unit,
// MB/s of video muxed, and heap allocated per fragment, side by side with a peer run of
// `ffmpeg -c copy` muxing the same stream to fragmented MP4 (testing.md, "Benchmarks": quote the
// ratio). The peer figure includes ffmpeg's process start and file write, so it flatters us a
// little on short inputs; the input is 60 s of video to keep that small.
import { execFile } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { FragmentMuxer } from '../src/video/mp4/muxer.ts';
import { splitElementaryStream, type ElementaryAccessUnit } from '../src/video/mp4/elementary-stream.ts';
import { makeClip } from '../src/video/mp4/test-tools.ts';
import { splitAnnexB } from '../src/video/mp4/nal.ts';

const REPEATS = 10; // the 6 s clip ten times: 60 s, 1800 access units
const ITERATIONS = 20; // timed passes over the 60 s stream
const HEAP_GOPS = 21;
const FRAME_TICKS = 3000;

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? () => { gc(); } : () => undefined;
}

/** Mux the whole stream once; returns [fragments, output bytes]. */
function muxOnce(units: readonly ElementaryAccessUnit[], parameterSets: readonly Uint8Array[], nalLists?: readonly Uint8Array[][]): [number, number] {
  const m = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets }]);
  let fragments = 0;
  let bytes = m.init.length;
  for (let i = 0; i < units.length; i++) {
    const u = units[i];
    if (u === undefined) continue;
    const f = m.push(0, { data: nalLists?.[i] ?? u.data, dts: i * FRAME_TICKS, ctsOffset: 0, duration: FRAME_TICKS, keyframe: u.keyframe });
    if (f !== undefined) { fragments++; bytes += f.bytes.length; }
  }
  const last = m.flush();
  if (last !== undefined) { fragments++; bytes += last.bytes.length; }
  return [fragments, bytes];
}

function timeMux(label: string, units: readonly ElementaryAccessUnit[], sets: readonly Uint8Array[], inputBytes: number, nalLists?: readonly Uint8Array[][]): number {
  for (let i = 0; i < 3; i++) muxOnce(units, sets, nalLists); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) muxOnce(units, sets, nalLists);
  const ns = Number(process.hrtime.bigint() - t0);
  const nsPerUnit = ns / (ITERATIONS * units.length);
  const mbPerSec = (inputBytes * ITERATIONS) / 1e6 / (ns / 1e9);
  console.log(`vigil mux (${label}): ${nsPerUnit.toFixed(0)} ns/access unit, ${mbPerSec.toFixed(0)} MB/s, ${(ns / ITERATIONS / 1e6).toFixed(1)} ms per 60 s of 1080p30`);
  return ns / ITERATIONS;
}

/**
 * Heap allocated per fragment in steady state: after warm-up, force a GC, push one GOP (the first
 * unit closes the previous fragment), read process.memoryUsage. One GOP allocates far less than
 * the young generation, so no collection hides allocations. Median of HEAP_GOPS GOPs.
 */
function heapPerFragment(units: readonly ElementaryAccessUnit[], sets: readonly Uint8Array[]): void {
  const gc = collectGarbage();
  const m = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets: sets }]);
  const heap: number[] = [];
  const external: number[] = [];
  let i = 0;
  const pushGop = (): void => {
    do {
      const u = units[i % units.length];
      if (u !== undefined) m.push(0, { data: u.data, dts: i * FRAME_TICKS, ctsOffset: 0, duration: FRAME_TICKS, keyframe: u.keyframe });
      i++;
    } while (units[i % units.length]?.keyframe === false);
  };
  for (let g = 0; g < 10; g++) pushGop(); // warm-up
  for (let g = 0; g < HEAP_GOPS; g++) {
    gc();
    const before = process.memoryUsage();
    pushGop();
    const after = process.memoryUsage();
    heap.push(after.heapUsed - before.heapUsed);
    external.push(after.arrayBuffers - before.arrayBuffers);
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
  console.log(`allocation per fragment (median of ${String(HEAP_GOPS)} GOPs): ${(median(heap) / 1024).toFixed(1)} KiB JS heap, ` +
    `${(median(external) / 1024).toFixed(0)} KiB array buffers (the fragment itself)`);
}

function ffmpegCopy(input: string, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-r', '30', '-f', 'h264', '-i', input, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', output],
      { timeout: 120_000, killSignal: 'SIGKILL' }, (err) => {
        if (err !== null) reject(new Error(`ffmpeg failed (apt package 'ffmpeg'): ${err.message}`));
        else resolve(Number(process.hrtime.bigint() - t0));
      });
  });
}

export async function run(): Promise<void> {
  const clip = await makeClip('h264');
  try {
    const stream = Buffer.concat(Array.from({ length: REPEATS }, () => clip.bytes));
    const es = splitElementaryStream(stream, 'h264');
    const input = path.join(clip.dir, 'long.h264');
    writeFileSync(input, stream);
    console.log(`input: ${String(es.units.length)} access units, ${(stream.length / 1e6).toFixed(1)} MB of 1080p30 H.264 (GOP 30, no B-frames)`);
    const annexB = timeMux('Annex-B input', es.units, es.parameterSets, stream.length);
    // What an RTP depacketizer hands over: bare NAL units, no start codes to scan.
    const nalLists = es.units.map((u) => splitAnnexB(u.data));
    timeMux('NAL-list input', es.units, es.parameterSets, stream.length, nalLists);
    heapPerFragment(es.units, es.parameterSets);
    const peerRuns: number[] = [];
    for (let i = 0; i < 3; i++) peerRuns.push(await ffmpegCopy(input, path.join(clip.dir, 'peer.mp4')));
    const peer = Math.min(...peerRuns);
    console.log(`peer ffmpeg -c copy → fMP4: ${(peer / 1e6).toFixed(1)} ms per 60 s (best of 3, incl. process start), output ${String(statSync(path.join(clip.dir, 'peer.mp4')).size)} bytes`);
    console.log(`ratio ffmpeg/vigil wall time: ${(peer / annexB).toFixed(1)}x`);
  } finally {
    clip.remove();
    rmSync(clip.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
