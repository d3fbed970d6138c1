// `npm run bench -- access`: the edge controller with 2,000,000 credentials — decision latency
// p50/p99 including the encrypted, chained event write; memory used; time to apply a 100,000-change
// delta. Peer, side by side: a plain Map<string, object> lookup with the same data (no validity
// window, no door bits, no event) — the floor a decision cannot beat.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { systemClock } from '../src/core/clock.ts';
import { deviceSignerFromPrivateKey } from '../src/crypto/signer.ts';
import { signCredentialSet, type CredentialEntry } from '../src/access/controller/credential-set.ts';
import { EdgeController } from '../src/access/controller/edge-controller.ts';

const N = 2_000_000;
const DELTA = 100_000;
const DECISIONS = 200_000;
const DOORS = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];

function entry(i: number, now: number): CredentialEntry {
  return { key: `h10301:${i % 255}:${i}`, holderId: `h${i}`, doors: [DOORS[i % 8] ?? 'd0', DOORS[(i + 3) % 8] ?? 'd1'], notBefore: now - 3_600_000, notAfter: now + 86_400_000 };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

export async function run(): Promise<Record<string, number>> {
  const signer = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
  const now = Date.now();
  const heapBefore = process.memoryUsage().heapUsed;
  const controller = new EdgeController({ controllerId: 'bench', platformKeyPem: signer.publicKeyPem, storageKey: randomBytes(32), clock: systemClock, doors: Object.fromEntries(DOORS.map((d) => [d, { maxOfflineMs: 3_600_000 }])) });
  const upserts: CredentialEntry[] = [];
  for (let i = 0; i < N; i++) upserts.push(entry(i, now));
  const tFull = performance.now();
  controller.apply(signCredentialSet(signer, { controllerId: 'bench', version: 1, baseVersion: null, issuedAt: now, upserts, removals: [] }));
  const fullApplyMs = performance.now() - tFull;
  upserts.length = 0;
  globalThis.gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  const delta: CredentialEntry[] = [];
  for (let i = 0; i < DELTA / 2; i++) delta.push(entry(N + i, now));
  const removals = Array.from({ length: DELTA / 2 }, (_, i) => `h10301:${(i * 7) % 255}:${i * 7}`);
  const deltaSet = signCredentialSet(signer, { controllerId: 'bench', version: 2, baseVersion: 1, issuedAt: now, upserts: delta, removals });
  const tDelta = performance.now();
  controller.apply(deltaSet);
  const deltaApplyMs = performance.now() - tDelta;

  const lat = new Float64Array(DECISIONS);
  for (let i = 0; i < DECISIONS; i++) {
    const k = (i * 7919) % N;
    const t = performance.now();
    controller.decide(`h10301:${k % 255}:${k}`, DOORS[i % 8] ?? 'd0');
    lat[i] = performance.now() - t;
    if (i % 50_000 === 49_999) controller.log.acknowledge(Number.MAX_SAFE_INTEGER);
  }
  lat.sort();

  const peer = new Map<string, { holderId: string; doors: string[] }>();
  for (let i = 0; i < N; i++) peer.set(`h10301:${i % 255}:${i}`, { holderId: `h${i}`, doors: [] });
  const plat = new Float64Array(DECISIONS);
  for (let i = 0; i < DECISIONS; i++) {
    const k = (i * 7919) % N;
    const t = performance.now();
    peer.get(`h10301:${k % 255}:${k}`);
    plat[i] = performance.now() - t;
  }
  plat.sort();
  const p99 = percentile(lat, 0.99) * 1000;
  const peerP99 = percentile(plat, 0.99) * 1000;
  return {
    credentials: controller.credentials,
    decisionP50Us: Math.round(percentile(lat, 0.5) * 1000 * 10) / 10,
    decisionP99Us: Math.round(p99 * 10) / 10,
    peerMapP99Us: Math.round(peerP99 * 10) / 10,
    ratioP99: Math.round((p99 / peerP99) * 10) / 10,
    heapMiB: Math.round(heapMiB),
    fullApplyMs: Math.round(fullApplyMs),
    delta100kApplyMs: Math.round(deltaApplyMs),
  };
}

if (import.meta.main) console.log(JSON.stringify(await run()));
