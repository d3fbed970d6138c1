// Where the recorder's CPU goes (issue #5, "a profile of where the time goes if short"): the Vigil
// child's V8 .cpuprofile (main thread only, `--cpu-prof`) cut to the measured push window, as
// top self-time functions and as stages (RTSP/RTP, muxing, sealing, hashing, fs, GC...), plus the
// child's CPU per thread from /proc/<pid>/task (libuv pool = fs write/fdatasync, V8 workers = GC).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const CLK_TCK = 100;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** CLOCK_MONOTONIC in µs: the clock V8 stamps profile samples with on Linux (and libuv's hrtime). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** utime+stime ticks of each thread of `pid`, summed by thread name (comm). */
export function threadTicks(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks.slice(0, 1024)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(open + 1, close).replace(/[0-9]+$/, '').trim() || '?';
      const fields = stat.slice(close + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended between readdir and read: its ticks are gone with it
    }
  }
  return out;
}

export function printThreadSplit(before: Map<string, number>, after: Map<string, number>): void {
  const rows = [...after].map(([name, t]) => [name, (t - (before.get(name) ?? 0)) / CLK_TCK] as const).filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((n, [, s]) => n + s, 0);
  console.log(`  vigil child CPU by thread over the window (${total.toFixed(1)} s): ` + rows.map(([name, s]) => `${name} ${s.toFixed(1)} s (${((s / total) * 100).toFixed(0)}%)`).join(', '));
}

/** The stage a sample belongs to: by its leaf for a few natives, else by the nearest Vigil frame. */
function stageOf(stack: readonly ProfileNode['callFrame'][]): string {
  const leaf = stack[0];
  const name = leaf?.functionName ?? '';
  if (name === '(garbage collector)') return 'GC (main thread)';
  if (name === '(program)') return '(program: V8/native, unattributed)';
  for (const cf of stack) {
    const u = cf.url;
    if (u === 'node:internal/crypto/hash' || /\bhash$/.test(u)) return 'SHA-256 (segment hash)';
    if (u === 'node:internal/crypto/cipher' || /\bcipher$/.test(u) || u.endsWith('crypto/aead.ts')) return 'AES-256-GCM sealing';
    if (u.endsWith('/src/video/rtsp/decoder.ts') || u.endsWith('/src/video/rtsp/client.ts') || u.endsWith('/src/video/rtsp/client-socket.ts')) return 'RTSP interleaved decode';
    if (u.includes('/src/video/rtp/')) return 'RTP depacketize';
    if (u.includes('/src/video/mp4/')) return 'fMP4 mux';
    if (u.endsWith('/src/video/recorder/camera-recorder.ts')) return 'recorder (AU copy, queueing)';
    if (u.includes('/src/video/storage/')) return /write|datasync|fsync/i.test(name) ? 'fs writes (main-thread part)' : 'segment writer (record framing, copies)';
    if (/^(writeBuffer|writeBuffers|fdatasync|fsync|write|writev)$/.test(cf.functionName) && (u === '' || u.includes('fs'))) return 'fs writes (main-thread part)';
  }
  if (stack.some((cf) => cf.url.includes('node:net') || cf.url.includes('stream_base') || cf.functionName === 'onStreamRead')) return 'socket reads';
  return 'other (node internals, timers, IPC)';
}

/**
 * Prints top self-time functions and stages of the child's profile, restricted to samples stamped
 * within [fromUs, toUs] (monotonicMicros of the window); the whole run if the clocks disagree.
 */
export function printProfile(dir: string, fromUs: number, toUs: number): void {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (file === undefined) {
    console.log('  (no .cpuprofile written by the vigil child)');
    return;
  }
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const windowed = profile.startTime <= fromUs && toUs <= profile.endTime;
  const self = new Map<string, number>();
  const stages = new Map<string, number>();
  let t = profile.startTime;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (windowed && (t < fromUs || t > toUs)) continue;
    const id = profile.samples[i] ?? 0;
    const cf = byId.get(id)?.callFrame;
    if (cf === undefined) continue;
    if (cf.functionName === '(idle)') {
      idle++;
      continue;
    }
    const key = `${cf.functionName || '(anonymous)'} ${path.basename(cf.url)}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    const stack: ProfileNode['callFrame'][] = [];
    for (let at: number | undefined = id, depth = 0; at !== undefined && depth < 256; at = parent.get(at), depth++) {
      const node = byId.get(at);
      if (node !== undefined) stack.push(node.callFrame);
    }
    const stage = stageOf(stack);
    stages.set(stage, (stages.get(stage) ?? 0) + 1);
  }
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  const pct = (n: number): string => `${((n / Math.max(1, busy)) * 100).toFixed(1).padStart(5)}%`;
  console.log(`  vigil child main-thread CPU profile, ${windowed ? 'push window only' : 'WHOLE RUN (window outside the profile clock)'}: ${busy} busy samples (${idle} idle)`);
  console.log('  by stage (self time attributed to the nearest Vigil frame):');
  for (const [key, count] of [...stages].sort((a, b) => b[1] - a[1])) console.log(`    ${pct(count)}  ${key}`);
  console.log('  top self time:');
  for (const [key, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${pct(count)}  ${key}`);
}
