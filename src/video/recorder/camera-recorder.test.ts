// The recording pipeline in one process: our RTSP server → CameraRecorder → VideoStore, checked
// frame by frame: every GOP sent is stored, the last one too when the stream ends; signal loss
// is alarmed and audited (NVR-5.1.2.1a).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestStore, type TestStore } from '../../../test/helpers/stores.ts';
import { systemClock } from '../../core/clock.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { RecordingAlarmSink, RecordingAuditSink, silentLogger } from '../../audit/test-doubles.ts';
import { groupAccessUnits, splitAnnexB } from '../rtp/annexb.ts';
import { RtspAuthenticator, staticCredentialVerifier } from '../rtsp/digest-server.ts';
import { LiveVideoSource } from '../rtsp/live-source.ts';
import { RtspServer } from '../rtsp/server.ts';
import { VideoStore } from '../storage/video-store.ts';
import { openSegment, readFragmentSamples } from '../mp4/index.ts';
import { isOutOfBandNal, nalType } from '../mp4/nal.ts';
import { CameraRecorder } from './camera-recorder.ts';

const FPS = 25;
let dir = '';
let clip: Uint8Array[][] = [];
let db: TestStore;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-recorder-'));
  const file = path.join(dir, 'clip.h264');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${FPS}`, '-t', '2', '-c:v', 'libx264', '-g', String(FPS), '-bf', '0', '-f', 'h264', file], { timeout: 60_000 });
  assert.equal(r.status, 0, `ffmpeg is required (apt-get install ffmpeg): ${String(r.stderr ?? r.error)}`);
  clip = groupAccessUnits('H264', splitAnnexB(readFileSync(file)));
  db = await createTestStore('sqlite');
});
after(async () => {
  await db?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('every GOP sent is stored, the last one too when the stream ends, and signal loss is alarmed and audited', async () => {
  const keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(dir, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: db.store });
  const alarms = new RecordingAlarmSink();
  const audit = new RecordingAuditSink();
  const video = await VideoStore.open({
    store: db.store, keyring, signer: await keyring.deviceSigner(), alarms, audit, clock: systemClock, logger: silentLogger(), dataDir: dir,
    config: { volumes: [], mirrorCopies: 1, segmentSeconds: 60, signalLossSeconds: 1, syncEachFragment: false, freeSpaceWarnPercent: 1, healthCheckSeconds: 300, verifyEveryHours: 24 },
  });
  const server = new RtspServer({ authenticator: new RtspAuthenticator({ realm: 'cam', verifier: staticCredentialVerifier(new Map([['u', 'Passw0rd-Long']])) }) });
  const source = new LiveVideoSource({ codec: 'H264' });
  server.addStream('/live', source);
  const { port } = await server.listen();
  const recorder = new CameraRecorder({
    camera: { id: 'cam-1', name: 'Test', url: `rtsp://127.0.0.1:${port}/live`, username: 'u', password: 'Passw0rd-Long' },
    video, alarms, audit, clock: systemClock, logger: silentLogger(), segmentSeconds: 60, signalLossSeconds: 1,
  });
  recorder.start();
  try {
    const connected = Date.now() + 10_000;
    while (!recorder.stats.connected && Date.now() < connected) await new Promise((r) => setTimeout(r, 20));
    assert.ok(recorder.stats.connected, 'the recorder connects');
    await recordThreeGops(recorder, source, alarms, audit, video);
  } finally {
    await recorder.stop();
    await video.close();
    await server.close();
    await keyring.close();
  }
});

async function recordThreeGops(recorder: CameraRecorder, source: LiveVideoSource, alarms: RecordingAlarmSink, audit: RecordingAuditSink, video: VideoStore): Promise<void> {
  const sent = FPS * 3; // three GOPs
  const t0 = Date.now();
  for (let i = 0; i < sent; i++) {
    const wait = t0 + (i * 1000) / FPS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    source.pushAccessUnit(clip[i % clip.length] ?? [], (i * 90_000) / FPS);
  }
  // Silence: the stream times out and the alarm is raised.
  const deadline = Date.now() + 10_000;
  while (!alarms.raised.some((a) => a.type === 'video.signal_lost') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(alarms.raised.some((a) => a.type === 'video.signal_lost' && a.source === 'camera:cam-1'));
  await recorder.stop();
  const rows = await video.catalog.chain('cam-1', 0, 100);
  const fragments = rows.reduce((n, r) => n + r.fragments, 0);
  let frames = 0;
  const stored: Buffer[] = [];
  for (const row of rows) {
    const records: Buffer[] = [];
    for await (const rec of video.readSegment(row.id)) {
      if (rec.kind === 'fragment') frames += (rec.durationMs * FPS) / 1000;
      records.push(rec.payload);
    }
    const segment = openSegment(Buffer.concat(records));
    for (const f of segment.fragments) {
      const samples = readFragmentSamples(segment.bytes, f, segment.init, segment.init.tracks[0]?.trackId ?? 1);
      for (let k = 0; k < samples.count; k++) {
        const at = samples.offsets[k] ?? 0;
        stored.push(Buffer.from(segment.bytes.subarray(at, at + (samples.sizes[k] ?? 0))));
      }
    }
  }
  assert.deepEqual({ fragments, stats: recorder.stats.accessUnits }, { fragments: 3, stats: sent }, JSON.stringify(rows.map((r) => [r.state, r.fragments])));
  assert.ok(Math.abs(frames - sent) <= 1, `${frames} frames stored of ${sent}`);
  // Byte-exact: every stored sample is the unit sent, as length-prefixed NAL units without the
  // parameter sets (they live in avcC), in order: no unit was overwritten while the muxer held it.
  assert.equal(stored.length, sent);
  for (let i = 0; i < sent; i++) {
    const nals = (clip[i % clip.length] ?? []).filter((nal) => !isOutOfBandNal('h264', nalType('h264', nal[0] ?? 0)));
    const expected = Buffer.concat(nals.flatMap((nal) => [Buffer.from([nal.length >>> 24, (nal.length >>> 16) & 0xff, (nal.length >>> 8) & 0xff, nal.length & 0xff]), nal]));
    assert.ok(stored[i]?.equals(expected), `sample ${i} differs from the access unit sent`);
  }
  assert.ok(audit.events.some((e) => e.action === 'video.signal_lost' && e.target === 'camera:cam-1'), 'signal loss is audited');
}
