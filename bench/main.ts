// `npm run bench [-- SCENARIO...]`: performance figures as ratios against a peer measured side by
// side in the same run (testing.md, "Benchmarks"). Never part of `npm test`.
//   access — edge controller: 2M credentials, decision p50/p99 with the event write, delta apply
//   audit — security event log writer (hash chain + signed checkpoints) vs plain batched inserts
//   mp4   — fMP4 muxer: ours vs mediabunny side by side (fragments/s, CPU µs and bytes allocated per fragment), ffprobe-checked
type Scenario = () => Promise<{ run(): Promise<Record<string, number> | void> }>;

const SCENARIOS: Record<string, Scenario> = {
  audit: () => import('./audit.ts'),
  access: () => import('./access.ts'),
  mp4: () => import('./mp4.ts'),
  record: () => import('./record.ts'), // recorder: CPU s/stream-min, RSS/stream vs ffmpeg -c copy -f segment; max N without loss
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(SCENARIOS)) {
  const load = SCENARIOS[name];
  if (load === undefined) continue;
  console.log(`== ${name}`);
  const figures = await (await load()).run();
  if (figures !== undefined) for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(24)} ${String(value)}`);
}
