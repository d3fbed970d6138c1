// The recorder end to end (issue #5 acceptance): a live H.264 1920×1080 stream served over RTSP
// and over RTSPS, both with Digest, is recorded by the real `vigil start` process for ~20 s onto
// two mirror volumes; the playback API returns an fMP4 that ffprobe accepts with the right size,
// duration and frame count; nothing readable is on the volumes (NVR-5.1.2.1b); a camera that
// stops sending raises the signal-loss alarm (NVR-5.1.2.1a); playback is audited (NVR-5.2.7.1a).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSelfSignedCertificate } from '../../src/crypto/certificate.ts';
import { groupAccessUnits, splitAnnexB } from '../../src/video/rtp/annexb.ts';
import { RtspAuthenticator, staticCredentialVerifier } from '../../src/video/rtsp/digest-server.ts';
import { LiveVideoSource } from '../../src/video/rtsp/live-source.ts';
import { RtspServer } from '../../src/video/rtsp/server.ts';
import { runVigil, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';

const ADMIN = { username: 'nvr-admin', password: 'Recorder-Granite-8080' };
const CAMERA_USER = 'nvr';
const CAMERA_PASSWORD = 'Camera-Digest-Secret-5';
const FPS = 30;
const SECONDS = 21;
type Segment = { id: string; state: string; startedAt: string; endedAt: string | null; fragments: number; volumes: string[] };

describe('recording from RTSP and RTSPS cameras (real process, real streams)', () => {
  let work: string;
  let clip: Uint8Array[][] = [];
  let sps: Buffer;
  const servers: RtspServer[] = [];
  const sources: LiveVideoSource[] = [];
  let vigil: VigilProcess;
  let admin: ApiClient;
  const cameras: Record<string, string> = {};

  before(async () => {
    const ffmpeg = requireTool('ffmpeg', 'ffmpeg');
    work = mkdtempSync(path.join(tmpdir(), 'vigil-rec-'));
    const file = path.join(work, 'clip.h264');
    const made = await runTool(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${FPS}`, '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', file], { timeoutMs: 120_000 });
    assert.equal(made.code, 0, made.stderr);
    clip = groupAccessUnits('H264', splitAnnexB(readFileSync(file)));
    assert.equal(clip.length, 4 * FPS);
    sps = Buffer.from(clip[0]?.find((n) => ((n[0] ?? 0) & 0x1f) === 7) ?? []);
    assert.ok(sps.length > 8);

    const cert = await createSelfSignedCertificate({ deviceName: 'test-camera', hostnames: ['localhost'], now: Date.now(), validityDays: 1 });
    const urls: Record<string, string> = {};
    for (const [name, tls] of [['plain', undefined], ['secure', cert]] as const) {
      const authenticator = new RtspAuthenticator({ realm: 'Test camera', verifier: staticCredentialVerifier(new Map([[CAMERA_USER, CAMERA_PASSWORD]])), algorithms: ['SHA-256', 'MD5'] });
      const server = new RtspServer({ authenticator, ...(tls === undefined ? {} : { tls }) });
      const source = new LiveVideoSource({ codec: 'H264' });
      server.addStream('/live', source);
      const address = await server.listen();
      servers.push(server);
      sources.push(source);
      urls[name] = `${tls === undefined ? 'rtsp' : 'rtsps'}://127.0.0.1:${address.port}/live`;
    }

    vigil = await startVigil({
      config: {
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        video: {
          volumes: [
            { id: 'disk-a', path: path.join(work, 'vol-a'), role: 'mirror' },
            { id: 'disk-b', path: path.join(work, 'vol-b'), role: 'mirror' },
            { id: 'spare', path: path.join(work, 'vol-s'), role: 'spare' },
          ],
          segmentSeconds: 10,
          signalLossSeconds: 3,
        },
      },
    });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    for (const [name, url] of Object.entries(urls)) {
      const body = { name, url, username: CAMERA_USER, password: CAMERA_PASSWORD, ...(name === 'secure' ? { tlsCaPem: cert.certPem } : {}) };
      const r = await admin.post<{ id: string }>('/api/v1/cameras', body);
      assert.equal(r.status, 201, r.text);
      cameras[name] = r.body.id;
    }
  });

  after(async () => {
    await vigil?.dispose();
    for (const s of servers) await s.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test(`${SECONDS} s of live 1080p30 are recorded from both cameras`, async () => {
    // Real-time pacing against the clock, with continuous 90 kHz timestamps.
    const t0 = Date.now();
    for (let i = 0; i < SECONDS * FPS; i++) {
      const due = t0 + (i * 1000) / FPS;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (const source of sources) source.pushAccessUnit(clip[i % clip.length] ?? [], (i * 90_000) / FPS);
    }
  });

  test('NVR-5.1.2.1a: a camera that stops sending raises the signal-loss alarm', async () => {
    const deadline = Date.now() + 20_000;
    let lost: string[] = [];
    while (Date.now() < deadline) {
      const r = await admin.get<{ alarms: Array<{ type: string; source: string }> }>('/api/v1/alarms?state=active');
      lost = r.body.alarms.filter((a) => a.type === 'video.signal_lost').map((a) => a.source);
      if (lost.length === 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(lost.sort(), Object.values(cameras).map((id) => `camera:${id}`).sort());
  });

  for (const name of ['plain', 'secure']) {
    test(`${name}: playback is an fMP4 ffprobe reads as H.264 1920×1080 with the recorded duration and frames`, async (t) => {
      const ffprobe = requireTool('ffprobe', 'ffmpeg');
      const id = cameras[name] ?? '';
      // Stop recording this camera: its open segment is finished and signed.
      assert.equal((await admin.request('PATCH', `/api/v1/cameras/${id}`, { enabled: false })).status, 200);
      const range = 'from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';
      let segments: Segment[] = [];
      for (let tries = 0; tries < 100; tries++) {
        segments = (await admin.get<{ segments: Segment[] }>(`/api/v1/cameras/${id}/recordings?${range}`)).body.segments;
        if (segments.length > 0 && segments.every((s) => s.state === 'complete')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(segments.length >= 2, `segments of 10 s: ${JSON.stringify(segments)}`);
      for (const s of segments) assert.deepEqual(s.volumes.sort(), ['disk-a', 'disk-b']);
      const first = Date.parse(segments[0]?.startedAt ?? '');
      const last = Date.parse(segments[segments.length - 1]?.endedAt ?? '');
      const recordedSeconds = (last - first) / 1000;
      assert.ok(recordedSeconds > SECONDS - 3 && recordedSeconds < SECONDS + 2, `recorded ${recordedSeconds} s`);

      const playback = await admin.request('GET', `/api/v1/cameras/${id}/playback?from=${new Date(first).toISOString()}&to=${new Date(last).toISOString()}`);
      assert.equal(playback.status, 200, playback.text.slice(0, 300));
      assert.equal(playback.headers['content-type'], 'video/mp4');
      const file = path.join(work, `${name}.mp4`);
      writeFileSync(file, playback.raw);
      const probe = await runTool(ffprobe, ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]);
      assert.equal(probe.code, 0, probe.stderr);
      const info = JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }>; format: { duration: string } };
      const video = info.streams[0];
      assert.equal(video?.codec_name, 'h264');
      assert.equal(video?.width, 1920);
      assert.equal(video?.height, 1080);
      const duration = Number(info.format.duration);
      // Within one fragment (one GOP = 1 s) of what the catalog says was recorded.
      assert.ok(Math.abs(duration - recordedSeconds) <= 1.05, `ffprobe ${duration} s vs catalog ${recordedSeconds} s`);
      const frames = Number(video?.nb_read_frames);
      assert.ok(Math.abs(frames - duration * FPS) <= FPS, `${frames} frames for ${duration} s`);
      t.diagnostic(`${segments.length} segments, catalog ${recordedSeconds.toFixed(2)} s, ffprobe ${duration.toFixed(2)} s, ${frames} frames, ${playback.raw.length} bytes`);

      const events = await admin.get<{ events: Array<{ action: string; target: string; outcome: string }> }>('/api/v1/audit/events?category=video&limit=200');
      assert.ok(events.body.events.some((e) => e.action === 'video.playback' && e.target === `camera:${id}` && e.outcome === 'success'));
    });
  }

  test('NVR-5.2.7.1a/NVR-5.2.8.1b: a signed evidence export verifies offline with `vigil verify`; a flipped byte is named; scope and audit hold', async (t) => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const id = cameras['secure'] ?? '';
    const range = { from: '2020-01-01T00:00:00Z', to: '2040-01-01T00:00:00Z' };
    const segments = (await admin.get<{ segments: Segment[] }>(`/api/v1/cameras/${id}/recordings?from=${range.from}&to=${range.to}`)).body.segments;
    const from = segments[0]?.startedAt ?? '';
    const to = new Date(Date.parse(segments[segments.length - 1]?.endedAt ?? '') + 1000).toISOString();
    const exported = await admin.post('/api/v1/cameras/' + id + '/export', { from, to, reason: 'incident 2026-118: loading dock' });
    assert.equal(exported.status, 200, exported.text.slice(0, 300));
    assert.equal(exported.headers['content-type'], 'application/zip');
    assert.match(String(exported.headers['content-disposition']), /^attachment; filename="vigil-evidence-\d{8}T\d{6}Z-[0-9a-f]{8}\.zip"$/);
    const bundle = path.join(work, 'evidence.zip');
    writeFileSync(bundle, exported.raw);
    const key = path.join(work, 'device-signing-key.pem');
    writeFileSync(key, (await admin.get<{ publicKeyPem: string }>('/api/v1/audit/status')).body.publicKeyPem);

    const out = path.join(work, 'evidence-clips');
    const verified = await runVigil(['verify', bundle, '--public-key', key, '--extract', out]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /bundle OK: \d+ files and \d+ recorded segments verified/);
    assert.match(verified.stdout, /reason: incident 2026-118: loading dock/);
    const clips = readdirSync(out);
    assert.ok(clips.length >= 1);
    const probe = await runTool(ffprobe, ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', path.join(out, clips[0] ?? '')]);
    assert.equal(probe.code, 0, probe.stderr);
    const stream = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width: number; nb_read_frames: string }> }).streams[0];
    assert.equal(stream?.codec_name, 'h264');
    assert.equal(stream?.width, 1920);
    t.diagnostic(`bundle ${exported.raw.length} bytes, ${clips.length} clip(s), ${stream?.nb_read_frames} frames; ${verified.stdout.trim().split('\n').at(-1)}`);

    // One flipped byte in the middle of the archive (inside the clip): named by file.
    const flipped = Buffer.from(exported.raw);
    const at = Math.floor(flipped.length / 2);
    flipped[at] = (flipped[at] as number) ^ 0x01;
    writeFileSync(bundle, flipped);
    const failed = await runVigil(['verify', bundle, '--public-key', key]);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /^FAIL clips\/01-\d{8}T\d{6}Z\.mp4: SHA-256 does not match the signed manifest \(file changed\)$/m);

    // Audited with who, why and the bundle's hash.
    const events = await admin.get<{ events: Array<{ action: string; target: string; outcome: string; details: Record<string, unknown> }> }>('/api/v1/audit/events?category=video&limit=200');
    const audit = events.body.events.find((e) => e.action === 'video.export' && e.outcome === 'success');
    assert.equal(audit?.target, `camera:${id}`);
    assert.equal(audit?.details['sha256'], createHash('sha256').update(exported.raw).digest('hex'));
    assert.equal(audit?.details['reason'], 'incident 2026-118: loading dock');

    // An operator scoped to the other camera cannot export this one.
    const operator = { username: 'plain-operator', password: 'Initial-Pass-6262' };
    assert.equal((await admin.post('/api/v1/users', { ...operator, grants: [{ role: 'operator', scopeKind: 'camera', scopeId: cameras['plain'] }] })).status, 201);
    const api = admin.anonymous();
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/login', operator)).body.csrfToken;
    api.csrfToken = (await api.post<{ csrfToken: string }>('/api/v1/auth/password', { currentPassword: operator.password, newPassword: 'Own-Pass-Operator-88' })).body.csrfToken;
    assert.equal((await api.post(`/api/v1/cameras/${id}/export`, { from, to })).status, 403);
    const own = await api.post(`/api/v1/cameras/${cameras['plain']}/export`, { from: range.from, to: new Date(Date.parse(range.from) + 3_600_000).toISOString() });
    assert.equal(own.status, 404, 'allowed, but nothing recorded in that hour');
    assert.equal((await api.post(`/api/v1/cameras/${cameras['plain']}/export`, { from, to, password: 'short' })).status, 400);
  });

  test('NVR-5.1.2.1b: the volumes hold no readable video: no MP4 boxes, no SPS, no start codes', () => {
    const files: string[] = [];
    for (const vol of ['vol-a', 'vol-b']) {
      for (const f of readdirSync(path.join(work, vol), { recursive: true, encoding: 'utf8' })) {
        const full = path.join(work, vol, f);
        if (statSync(full).isFile() && full.endsWith('.vseg')) files.push(full);
      }
    }
    assert.ok(files.length >= 4, `segment files: ${files.length}`);
    const startCodeIdr = Buffer.from([0, 0, 0, 1, 0x65]);
    for (const f of files) {
      const bytes = readFileSync(f);
      assert.ok(bytes.length > 100_000);
      for (const needle of [Buffer.from('ftypis'), Buffer.from('avcC'), sps, startCodeIdr]) assert.equal(bytes.indexOf(needle), -1, `${needle.toString('hex')} readable in ${f}`);
    }
    const probe = spawnSync('ffprobe', ['-v', 'error', files[0] ?? ''], { encoding: 'utf8' });
    assert.notEqual(probe.status, 0, 'ffprobe cannot read a stored segment');
  });
});
