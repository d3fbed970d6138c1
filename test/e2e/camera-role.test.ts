// The software camera role end to end (issue #9): `camera.enabled` serves the encoded source
// over RTSPS with the device certificate; Vigil accounts holding camera.view authenticate with
// Digest (CAM-T-auth-1); ffprobe plays it; a wrong password is refused and audited, and five
// lock the account for the web login too (CAM-T-auth-4); the same box records its own camera
// over RTSPS with the certificate trusted explicitly (CAM-T-auth-2/3).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LOCAL_CAMERA_ID } from '../../src/camera/local-recording.ts';
import { openRuntime } from '../../src/cli/runtime.ts';
import { loadConfig } from '../../src/core/config.ts';
import { isVigilError } from '../../src/core/errors.ts';
import path from 'node:path';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';

const ADMIN = { username: 'cam-admin', password: 'Shutter-Aperture-1010' };
const NVR = { username: 'nvr-account', first: 'First-Lens-Pass-2020', password: 'Digest-Lens-Pass-3030' };

describe('software camera role (real process, real RTSPS)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;
  let rtspsUrl = '';

  before(async () => {
    vigil = await startVigil({
      config: {
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        camera: { enabled: true, width: 320, height: 240, fps: 15, bitrateKbps: 600, gop: 15, rtspsPort: 0, digestAlgorithms: ['SHA-256', 'MD5'], digestLegacyOverTls: true, localRecording: { enabled: true, retentionDays: 1 } },
        video: { segmentSeconds: 10 },
      },
    });
    rtspsUrl = vigil.output.map((l) => /camera stream on (rtsps:\/\/\S+)/.exec(l)?.[1]).find((u) => u !== undefined) ?? '';
    assert.match(rtspsUrl, /^rtsps:\/\/127\.0\.0\.1:\d+\/live$/);
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    const created = await admin.post('/api/v1/users', { username: NVR.username, password: NVR.first, grants: [{ role: 'operator', scopeKind: 'global' }] });
    assert.equal(created.status, 201, created.text);
    // The account's own password (set by its user) is what RTSP Digest will know.
    const nvr = admin.anonymous();
    nvr.csrfToken = (await nvr.post<{ csrfToken: string }>('/api/v1/auth/login', { username: NVR.username, password: NVR.first })).body.csrfToken;
    assert.equal((await nvr.post('/api/v1/auth/password', { currentPassword: NVR.first, newPassword: NVR.password })).status, 200);
  });
  after(async () => {
    await vigil?.dispose();
  });

  function withCredentials(url: string, user: string, password: string): string {
    const u = new URL(url);
    u.username = user;
    u.password = password;
    return u.toString();
  }

  test('CAM-T-auth-1: ffprobe plays the RTSPS stream with Digest; a wrong password is refused and audited', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const ok = await runTool(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', withCredentials(rtspsUrl, NVR.username, NVR.password)], { timeoutMs: 60_000 });
    assert.equal(ok.code, 0, ok.stderr);
    const stream = (JSON.parse(ok.stdout) as { streams: Array<{ codec_name: string; width: number; height: number }> }).streams[0];
    assert.deepEqual([stream?.codec_name, stream?.width, stream?.height], ['h264', 320, 240]);
    const bad = await runTool(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', withCredentials(rtspsUrl, NVR.username, 'Wrong-Password-99')], { timeoutMs: 60_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401|Unauthorized/i);
    const events = await admin.get<{ events: Array<{ action: string; target: string; outcome: string; details: Record<string, unknown> }> }>('/api/v1/audit/events?category=auth&limit=200');
    assert.ok(events.body.events.some((e) => e.target === `user:${NVR.username}` && e.outcome === 'failure' && e.details['via'] === 'rtsp'));
    assert.ok(events.body.events.some((e) => e.target === `user:${NVR.username}` && e.outcome === 'success' && e.details['via'] === 'rtsp'));
  });

  test('GStreamer rtspsrc plays the RTSPS stream with Digest, validating the device certificate', async () => {
    const gst = requireTool('gst-launch-1.0', 'gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad glib-networking');
    const unshare = requireTool('unshare', 'util-linux');
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    // GLib's TLS backend trusts only the system bundle: a private mount namespace shows it the
    // device certificate as that bundle, so validation stays fully on (CA, identity, dates).
    const bundle = path.join(vigil.dir, 'gst-ca.pem');
    writeFileSync(bundle, vigil.caPem);
    const out = path.join(vigil.dir, 'gst.h264');
    const pipeline = [
      'rtspsrc', `location=${rtspsUrl}`, `user-id=${NVR.username}`, `user-pw=${NVR.password}`, 'protocols=tcp', 'tls-validation-flags=validate-all', 'latency=0',
      '!', 'rtph264depay', '!', 'h264parse', '!', 'video/x-h264,stream-format=byte-stream', '!', 'filesink', `location=${out}`,
    ];
    const script = 'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"';
    const child = spawn(unshare, ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', bundle, gst, '-e', '-q', ...pipeline], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Let it play for a few seconds, then end the stream cleanly (-e: EOS on SIGINT).
    const early = await Promise.race([exited, new Promise<'playing'>((r) => setTimeout(() => r('playing'), 6000))]);
    assert.equal(early, 'playing', `gst-launch exited early: ${stderr}`);
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    const probe = await runTool(ffprobe, ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', out]);
    assert.equal(probe.code, 0, probe.stderr);
    const stream = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0];
    assert.deepEqual([stream?.codec_name, stream?.width, stream?.height], ['h264', 320, 240]);
    assert.ok(Number(stream?.nb_read_frames) >= 15, `frames received: ${stream?.nb_read_frames}`);
  });

  test('the box records its own camera over RTSPS with the certificate trusted explicitly', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const cam = await admin.post<{ id: string }>('/api/v1/cameras', { name: 'Self', url: rtspsUrl, username: NVR.username, password: NVR.password, tlsCaPem: vigil.caPem });
    assert.equal(cam.status, 201, cam.text);
    await new Promise((r) => setTimeout(r, 7000));
    // Camera health while it records: the 15 fps stream at ~600 kbit/s, a recent frame.
    type Health = { id: string; state: string; fps: number; bitrateKbps: number; lastFrameAt: string | null };
    const health = (await admin.get<{ cameras: Health[] }>('/api/v1/cameras/health')).body.cameras.find((c) => c.id === cam.body.id);
    assert.equal(health?.state, 'recording', JSON.stringify(health));
    assert.ok((health?.fps ?? 0) >= 10 && (health?.fps ?? 0) <= 20, `fps ${health?.fps}`);
    assert.ok((health?.bitrateKbps ?? 0) > 50, `bitrate ${health?.bitrateKbps}`);
    assert.ok(Date.now() - Date.parse(health?.lastFrameAt ?? '') < 3000);
    assert.equal((await admin.request('PATCH', `/api/v1/cameras/${cam.body.id}`, { enabled: false })).status, 200);
    let stopped: Health | undefined;
    for (let i = 0; i < 50 && stopped?.state !== 'stopped'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      stopped = (await admin.get<{ cameras: Health[] }>('/api/v1/cameras/health')).body.cameras.find((c) => c.id === cam.body.id);
    }
    assert.equal(stopped?.state, 'stopped');
    const range = 'from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';
    let segments: Array<{ state: string; startedAt: string; endedAt: string | null }> = [];
    for (let i = 0; i < 50 && !(segments.length > 0 && segments.every((s) => s.state === 'complete')); i++) {
      await new Promise((r) => setTimeout(r, 200));
      segments = (await admin.get<{ segments: typeof segments }>(`/api/v1/cameras/${cam.body.id}/recordings?${range}`)).body.segments;
    }
    assert.ok(segments.length >= 1, JSON.stringify(segments));
    const from = segments[0]?.startedAt ?? '';
    const to = segments[segments.length - 1]?.endedAt ?? '';
    const clip = await admin.request('GET', `/api/v1/cameras/${cam.body.id}/playback?from=${from}&to=${to}`);
    assert.equal(clip.status, 200, clip.text.slice(0, 200));
    const file = path.join(vigil.dir, 'self.mp4');
    writeFileSync(file, clip.raw);
    const probe = await runTool(ffprobe, ['-v', 'error', '-show_format', '-of', 'json', file]);
    assert.equal(probe.code, 0, probe.stderr);
    assert.ok(Number((JSON.parse(probe.stdout) as { format: { duration: string } }).format.duration) >= 3);
  });

  test('CAM-T-auth-4: five wrong RTSP passwords lock the account, for the web login too', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    for (let i = 0; i < 5; i++) await runTool(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', withCredentials(rtspsUrl, NVR.username, `Wrong-${i}-Password`)], { timeoutMs: 60_000 });
    const right = await runTool(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', withCredentials(rtspsUrl, NVR.username, NVR.password)], { timeoutMs: 60_000 });
    assert.notEqual(right.code, 0, 'locked: the right password is refused on RTSP');
    const web = await admin.anonymous().post<{ error: { code: string } }>('/api/v1/auth/login', { username: NVR.username, password: NVR.password });
    assert.equal(web.body.error.code, 'VIGIL_AUTH_LOCKED');
  });
  test('CAM-5.1.1.2: the camera records itself locally, listed as a camera: played back through the API, sealed on disk, refused under another key', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const listed = (await admin.get<{ cameras: Array<{ id: string; source: string; name: string }> }>('/api/v1/cameras')).body.cameras.find((c) => c.id === LOCAL_CAMERA_ID);
    assert.equal(listed?.source, 'local');
    const health = (await admin.get<{ cameras: Array<{ id: string; state: string; fps: number }> }>('/api/v1/cameras/health')).body.cameras.find((c) => c.id === LOCAL_CAMERA_ID);
    assert.equal(health?.state, 'recording', JSON.stringify(health));
    const refused = await admin.request('PATCH', `/api/v1/cameras/${LOCAL_CAMERA_ID}`, { enabled: false });
    assert.equal(refused.status, 409, 'set in the configuration, not through the camera list');
    // Segments close every 10 s (video.segmentSeconds): wait for one, bounded.
    const range = 'from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';
    type Seg = { state: string; startedAt: string; endedAt: string | null };
    let segments: Seg[] = [];
    for (let i = 0; i < 150 && !segments.some((x) => x.state === 'complete'); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      segments = (await admin.get<{ segments: Seg[] }>(`/api/v1/cameras/${LOCAL_CAMERA_ID}/recordings?${range}`)).body.segments;
    }
    const done = segments.find((x) => x.state === 'complete');
    assert.ok(done !== undefined, JSON.stringify(segments));
    // The segment being recorded plays too, up to its last complete fragment.
    const open = segments.find((x) => x.state === 'recording');
    assert.ok(open !== undefined, JSON.stringify(segments));
    // (Right after a segment starts it may hold no complete fragment yet: bounded retry.)
    let liveClip = await admin.request('GET', `/api/v1/cameras/${LOCAL_CAMERA_ID}/playback?from=${open.startedAt}&to=${new Date().toISOString()}`);
    for (let i = 0; i < 20 && liveClip.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 250));
      liveClip = await admin.request('GET', `/api/v1/cameras/${LOCAL_CAMERA_ID}/playback?from=${open.startedAt}&to=${new Date().toISOString()}`);
    }
    assert.equal(liveClip.status, 200, liveClip.text.slice(0, 200));
    const clip = await admin.request('GET', `/api/v1/cameras/${LOCAL_CAMERA_ID}/playback?from=${done.startedAt}&to=${done.endedAt ?? ''}`);
    assert.equal(clip.status, 200, clip.text.slice(0, 200));
    const clipFile = path.join(vigil.dir, 'local.mp4');
    writeFileSync(clipFile, clip.raw);
    const probe = await runTool(ffprobe, ['-v', 'error', '-show_streams', '-of', 'json', clipFile]);
    assert.equal(probe.code, 0, probe.stderr);
    const stream = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width: number }> }).streams[0];
    assert.deepEqual([stream?.codec_name, stream?.width], ['h264', 320]);

    assert.equal(await vigil.stop(), 0);
    const dir = path.join(vigil.dataDir, 'video', LOCAL_CAMERA_ID);
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(path.join(dir, file));
      for (const marker of ['ftyp', 'mdat', 'avc1', 'moof']) assert.equal(bytes.indexOf(marker), -1, `${marker} in plaintext in ${file}`);
    }
    // The same disk with another machine's key: nothing opens.
    const config = loadConfig({ file: vigil.configFile, baseDir: vigil.dir });
    renameSync(config.keyring.kekFile, `${config.keyring.kekFile}.moved`);
    await assert.rejects(openRuntime(config), (err: unknown) => isVigilError(err, 'VIGIL_KEYRING_UNAVAILABLE'));
  });
});
