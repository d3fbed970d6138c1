// The software camera's source: incremental Annex B parsing, privacy masks burnt in before
// encoding (CAM-5.5.1.2: the masked region of a frame decoded from the RTSP stream is uniform),
// and a supervised encoder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isVigilError } from '../core/errors.ts';
import { RecordingAlarmSink, silentLogger } from '../audit/test-doubles.ts';
import { groupAccessUnits, splitAnnexB } from '../video/rtp/annexb.ts';
import { RtspAuthenticator, staticCredentialVerifier } from '../video/rtsp/digest-server.ts';
import { LiveVideoSource } from '../video/rtsp/live-source.ts';
import { RtspServer } from '../video/rtsp/server.ts';
import { AnnexBAccessUnitStream } from './annexb-stream.ts';
import { FfmpegSource, ffmpegArguments } from './ffmpeg-source.ts';
import { maskFilters } from './privacy-masks.ts';
import { SnapshotSource } from './snapshot.ts';

let dir = '';
before(() => {
  const r = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  assert.equal(r.status, 0, 'ffmpeg is required: apt-get install ffmpeg');
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-camera-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the Annex B stream parser gives the same access units whatever the chunking', () => {
  const file = path.join(dir, 'clip.h264');
  const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', '-c:v', 'libx264', '-g', '25', '-bf', '0', '-f', 'h264', file]);
  assert.equal(made.status, 0);
  const bytes = readFileSync(file);
  const expected = groupAccessUnits('H264', splitAnnexB(bytes)).map((au) => Buffer.concat(au.map((n) => Buffer.from(n))).toString('hex'));
  for (const chunk of [1, 7, 188, 4096, bytes.length]) {
    const got: string[] = [];
    const stream = new AnnexBAccessUnitStream('H264', (nals) => got.push(Buffer.concat(nals).toString('hex')));
    for (let at = 0; at < bytes.length; at += chunk) stream.push(bytes.subarray(at, at + chunk));
    stream.end();
    assert.equal(got.length, expected.length, `chunk ${chunk}`);
    assert.deepEqual(got, expected);
  }
});

test('the Annex B parser stays bounded on garbage (no start code, oversized units)', () => {
  const stream = new AnnexBAccessUnitStream('H264', () => assert.fail('no unit from garbage'), 64 * 1024);
  for (let i = 0; i < 100; i++) stream.push(Buffer.alloc(16 * 1024, 0x5a));
  assert.ok(stream.dropped > 0);
});

test('privacy masks outside the picture, or too many, are refused; credentials never go on the command line', () => {
  for (const bad of [[{ x: 0.5, y: 0, width: 0.6, height: 0.5 }], [{ x: -0.1, y: 0, width: 0.2, height: 0.2 }], Array.from({ length: 17 }, () => ({ x: 0, y: 0, width: 0.1, height: 0.1 }))]) {
    assert.throws(() => maskFilters(bad), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
  }
  assert.throws(() => ffmpegArguments({ kind: 'rtsp', url: 'rtsp://admin:secret@192.0.2.1/' }, { width: 320, height: 240, fps: 10, bitrateKbps: 500, gop: 10 }, []), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
});

test('CAM-5.5.1.2: the masked region of a frame decoded from the RTSP stream is uniform', async () => {
  const live = new LiveVideoSource({ codec: 'H264' });
  const server = new RtspServer({ authenticator: new RtspAuthenticator({ realm: 'camera', verifier: staticCredentialVerifier(new Map([['viewer', 'Mask-Test-Pass-1']])), algorithms: ['SHA-256', 'MD5'] }) });
  server.addStream('/live', live);
  const { port } = await server.listen();
  const alarms = new RecordingAlarmSink();
  const source = new FfmpegSource({
    input: { kind: 'test-pattern' },
    encoder: { width: 320, height: 240, fps: 15, bitrateKbps: 800, gop: 15 },
    // The left half of the picture is private.
    masks: [{ x: 0, y: 0, width: 0.5, height: 1 }],
    alarms,
    logger: silentLogger(),
    name: 'mask-test',
    onAccessUnit: (nals, ts) => live.pushAccessUnit(nals, ts),
  });
  source.start();
  try {
    const frame = await new Promise<Buffer>((resolve, reject) => {
      execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', `rtsp://viewer:Mask-Test-Pass-1@127.0.0.1:${port}/live`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { encoding: 'buffer', timeout: 30_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`${err.message}: ${stderr.toString()}`));
        else resolve(stdout);
      });
    });
    assert.equal(frame.length, 320 * 240);
    const left: number[] = [];
    const right: number[] = [];
    for (let y = 0; y < 240; y++) {
      for (let x = 0; x < 320; x++) (x < 156 ? left : x >= 164 ? right : []).push(frame[y * 320 + x] ?? 0);
    }
    const spread = (v: number[]): number => Math.max(...v) - Math.min(...v);
    assert.ok(spread(left) <= 4, `masked half must be uniform (spread ${spread(left)})`);
    assert.ok(spread(right) > 50, `the rest of the picture is not (spread ${spread(right)})`);
    assert.ok(source.frames > 0);
  } finally {
    await source.stop();
    await server.close();
  }
});

test('snapshots: nothing before the first keyframe (parameter sets come in band once); one decode per keyframe, shared by concurrent callers', async () => {
  const file = path.join(dir, 'snap.h264');
  const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '2', '-c:v', 'libx264', '-g', '5', '-bf', '0', '-f', 'h264', file]);
  assert.equal(made.status, 0);
  // Parameter sets only before the first IDR, as some live encoders send them.
  const units = groupAccessUnits('H264', splitAnnexB(readFileSync(file))).map((au, i) => (i === 0 ? au : au.filter((n) => ((n[0] ?? 0) & 0x1f) !== 7 && ((n[0] ?? 0) & 0x1f) !== 8)));
  const snapshots = new SnapshotSource();
  await assert.rejects(snapshots.jpeg(), (err: unknown) => isVigilError(err, 'VIGIL_CAMERA_SNAPSHOT_UNAVAILABLE'));
  for (const au of units.slice(0, 7)) snapshots.observe(au.map((n) => Buffer.from(n)));
  const [a, b] = await Promise.all([snapshots.jpeg(), snapshots.jpeg()]);
  assert.equal(a, b, 'the same decode');
  assert.deepEqual([...a.subarray(0, 2)], [0xff, 0xd8]);
  assert.equal(await snapshots.jpeg(), a, 'cached until the next keyframe');
  // The IDR at frame 5 carries no parameter sets of its own: the remembered ones are used.
  for (const au of units.slice(7, 12)) snapshots.observe(au.map((n) => Buffer.from(n)));
  const next = await snapshots.jpeg();
  assert.notEqual(next, a);
  assert.deepEqual([...next.subarray(0, 2)], [0xff, 0xd8]);
});

test('replay serves a pre-encoded file as live without re-encoding (the access units are the file\'s own); masks are refused for it', async () => {
  const file = path.join(dir, 'replay.mp4');
  const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'libx264', '-g', '25', '-bf', '0', file]);
  assert.equal(made.status, 0);
  assert.throws(() => ffmpegArguments({ kind: 'replay', path: file }, { width: 320, height: 240, fps: 25, bitrateKbps: 500, gop: 25 }, [{ x: 0, y: 0, width: 0.5, height: 0.5 }]), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
  const args = ffmpegArguments({ kind: 'replay', path: file }, { width: 320, height: 240, fps: 25, bitrateKbps: 500, gop: 25 }, []);
  assert.ok(args.includes('copy') && !args.includes('libx264'), 'stream copy, no encoder');
  // The file's own access units, as ffmpeg demuxes them to Annex B once.
  const annexB = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-c:v', 'copy', '-f', 'h264', 'pipe:1'], { maxBuffer: 16 * 1024 * 1024 });
  const expected = groupAccessUnits('H264', splitAnnexB(annexB.stdout)).map((au) => Buffer.concat(au.map((n) => Buffer.from(n))).toString('hex'));
  const got: string[] = [];
  const source = new FfmpegSource({
    input: { kind: 'replay', path: file },
    encoder: { width: 320, height: 240, fps: 25, bitrateKbps: 500, gop: 25 },
    masks: [],
    alarms: new RecordingAlarmSink(),
    logger: silentLogger(),
    name: 'replay-test',
    onAccessUnit: (nals) => got.push(Buffer.concat(nals).toString('hex')),
  });
  source.start();
  try {
    for (let i = 0; i < 100 && got.length < expected.length + 5; i++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await source.stop();
  }
  assert.ok(got.length >= expected.length + 5, `looped past the end (${got.length} of ${expected.length})`);
  assert.deepEqual(got.slice(0, expected.length), expected, 'byte for byte the file\'s access units');
});
