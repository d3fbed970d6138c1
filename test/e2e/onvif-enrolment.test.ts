// The NVR adds a camera by ONVIF with TLS trust on first use and records it over RTSPS (issue
// #9; CAM-T-auth-2, CAM-T-auth-3): two real `vigil` processes on their own loopback addresses —
// a camera (camera role, fixed ports) and an NVR. The NVR admin probes the camera over the API
// and sees the fingerprint the camera shows in its own system information; a wrong fingerprint
// and a wrong ONVIF password are refused with their codes; confirmed, the camera is added with
// its rtsps stream and pin and recorded for more than 20 s (catalog and ffprobe of the
// playback). The camera then restarts with another device certificate on the same ports: the
// NVR refuses it and raises the certificate alarm naming both fingerprints; an admin's re-pin
// (audited) clears it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runVigil, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';

const CAMERA_HOST = '127.0.0.71';
const NVR_HOST = '127.0.0.72';
const CAMERA_HTTPS = 18_443;
const CAMERA_RTSPS = 18_322;
const ADMIN = { username: 'site-admin', password: 'Shutter-Aperture-1010' };
const ACCOUNT = { username: 'nvr-onvif', first: 'First-Lens-Pass-2020', password: 'Onvif-Record-Pass-3030' };
const RANGE = 'from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';

interface ErrorReply { error: { code: string; message: string; details?: Record<string, unknown> } }
interface Cert { fingerprint256: string; subject: string; validFrom: string; validTo: string; selfSigned: boolean; pinnable: boolean }
interface SegmentRow { state: string; startedAt: string; endedAt: string | null }
interface AlarmRow { type: string; state: string; source: string; message: string; details: Record<string, unknown> }
interface AuditRow { action: string; actor: string; target: string; outcome: string; details: Record<string, unknown> }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function signIn(vigil: VigilProcess): Promise<ApiClient> {
  const admin = new ApiClient(vigil.baseUrl, vigil.caPem);
  assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
  admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
  return admin;
}

describe('NVR adds the Vigil camera by ONVIF with TLS trust on first use, records it over RTSPS', () => {
  let camera: VigilProcess;
  let nvr: VigilProcess;
  let cameraAdmin: ApiClient;
  let admin: ApiClient;
  let cameraId = '';
  let firstFingerprint = '';
  const cameraConfig = {
    http: { host: CAMERA_HOST, port: CAMERA_HTTPS },
    security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
    camera: { enabled: true, width: 320, height: 240, fps: 15, bitrateKbps: 400, gop: 15, rtspsPort: CAMERA_RTSPS, digestAlgorithms: ['SHA-256', 'MD5'] },
  };
  const address = `${CAMERA_HOST}:${CAMERA_HTTPS}`;

  before(async () => {
    requireTool('ffprobe', 'ffmpeg');
    camera = await startVigil({ host: CAMERA_HOST, config: cameraConfig });
    nvr = await startVigil({ host: NVR_HOST, config: { security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 }, video: { segmentSeconds: 10, signalLossSeconds: 5 } } });
    cameraAdmin = await signIn(camera);
    // The account the NVR records with: an operator on the camera, its own password set by its user.
    assert.equal((await cameraAdmin.post('/api/v1/users', { username: ACCOUNT.username, password: ACCOUNT.first, grants: [{ role: 'operator', scopeKind: 'global' }] })).status, 201);
    const user = cameraAdmin.anonymous();
    user.csrfToken = (await user.post<{ csrfToken: string }>('/api/v1/auth/login', { username: ACCOUNT.username, password: ACCOUNT.first })).body.csrfToken;
    assert.equal((await user.post('/api/v1/auth/password', { currentPassword: ACCOUNT.first, newPassword: ACCOUNT.password })).status, 200);
    admin = await signIn(nvr);
  });
  after(async () => {
    await camera?.dispose();
    await nvr?.dispose();
  });

  async function alarms(): Promise<AlarmRow[]> {
    return (await admin.get<{ alarms: AlarmRow[] }>('/api/v1/alarms?limit=200')).body.alarms;
  }

  async function auditEvents(...expected: Array<(e: AuditRow) => boolean>): Promise<AuditRow[]> {
    let events: AuditRow[] = [];
    for (let i = 0; i < 30; i++) {
      events = (await admin.get<{ events: AuditRow[] }>('/api/v1/audit/events?category=video&limit=500')).body.events;
      if (expected.every((p) => events.some(p))) break;
      await sleep(100);
    }
    return events;
  }

  test('step 1: the probe shows the fingerprint the camera shows in its system information, and sends nothing', async () => {
    const shown = (await cameraAdmin.get<{ tls: { fingerprint256: string } }>('/api/v1/system/info')).body.tls.fingerprint256;
    const probe = await admin.post<{ deviceUrl: string; certificate: Cert }>('/api/v1/cameras/onvif/probe', { address });
    assert.equal(probe.status, 200, probe.text);
    assert.equal(probe.body.certificate.fingerprint256, shown);
    assert.equal(probe.body.certificate.fingerprint256, new X509Certificate(camera.caPem).fingerprint256);
    assert.equal(probe.body.deviceUrl, `https://${address}/onvif/device_service`);
    assert.equal(probe.body.certificate.selfSigned, true);
    assert.equal(probe.body.certificate.pinnable, true);
    assert.ok(Date.parse(probe.body.certificate.validTo) > Date.now());
    firstFingerprint = shown;
    const unreachable = await admin.post<ErrorReply>('/api/v1/cameras/onvif/probe', { address: `${CAMERA_HOST}:1` });
    assert.equal(unreachable.body.error.code, 'VIGIL_ONVIF_UNREACHABLE');
    const plain = await admin.post<ErrorReply>('/api/v1/cameras/onvif/probe', { address: `http://${address}` });
    assert.equal(plain.status, 400);
    // A viewer may not probe: camera.manage.
    const anonymous = await admin.anonymous().post<ErrorReply>('/api/v1/cameras/onvif/probe', { address });
    assert.equal(anonymous.status, 401);
  });

  test('step 2: a wrong fingerprint is refused before any credential is sent; a wrong password is an auth error', async () => {
    const wrongPin = await admin.post<ErrorReply>('/api/v1/cameras/onvif/inspect', { address, fingerprint256: 'AB:'.repeat(31) + 'AB', username: ACCOUNT.username, password: ACCOUNT.password });
    assert.equal(wrongPin.status, 409, wrongPin.text);
    assert.equal(wrongPin.body.error.code, 'VIGIL_ONVIF_FINGERPRINT_MISMATCH');
    assert.match(wrongPin.body.error.message, /another certificate.*replaced/);
    assert.equal(wrongPin.body.error.details?.['seen'], firstFingerprint);
    const badPassword = await admin.post<ErrorReply>('/api/v1/cameras/onvif/inspect', { address, fingerprint256: firstFingerprint, username: ACCOUNT.username, password: 'Wrong-Onvif-Pass-99' });
    assert.equal(badPassword.status, 422, badPassword.text);
    assert.equal(badPassword.body.error.code, 'VIGIL_ONVIF_AUTH_REFUSED');
    assert.doesNotMatch(badPassword.text, /Wrong-Onvif-Pass-99/);
    // Not an ONVIF endpoint (the NVR's own API at another path).
    const notOnvif = await admin.post<ErrorReply>('/api/v1/cameras/onvif/inspect', { address: `https://${address}/api/v1/health`, fingerprint256: firstFingerprint, username: ACCOUNT.username, password: ACCOUNT.password });
    assert.equal(notOnvif.body.error.code, 'VIGIL_ONVIF_NOT_ONVIF', notOnvif.text);
  });

  test('step 2: profiles and the RTSPS stream over the pinned connection; the stream certificate is the device certificate', async () => {
    const inspect = await admin.post<{ device: { manufacturer: string; model: string }; profiles: Array<{ token: string; encoding: string; width: number; height: number }>; profileToken: string; stream: { url: string; secure: boolean; certificate: Cert; sameCertificateAsDevice: boolean } }>(
      '/api/v1/cameras/onvif/inspect', { address, fingerprint256: firstFingerprint.replace(/:/g, '').toLowerCase(), username: ACCOUNT.username, password: ACCOUNT.password });
    assert.equal(inspect.status, 200, inspect.text);
    assert.match(inspect.body.device.manufacturer, /Vigil/i);
    assert.deepEqual(inspect.body.profiles.map((p) => [p.encoding, p.width, p.height]), [['H264', 320, 240]]);
    assert.equal(inspect.body.stream.url, `rtsps://${CAMERA_HOST}:${CAMERA_RTSPS}/live`);
    assert.equal(inspect.body.stream.secure, true);
    assert.equal(inspect.body.stream.sameCertificateAsDevice, true);
    assert.equal(inspect.body.stream.certificate.fingerprint256, firstFingerprint);
  });

  test('step 3: added with the pin, recorded over RTSPS for more than 20 s (catalog and ffprobe of the playback)', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const added = await admin.post<{ camera: { id: string; url: string; tlsFingerprint256: string; tlsCaPem: string; hasCredentials: boolean } }>('/api/v1/cameras/onvif', {
      address, fingerprint256: firstFingerprint, username: ACCOUNT.username, password: ACCOUNT.password, name: 'Gate camera',
    });
    assert.equal(added.status, 201, added.text);
    cameraId = added.body.camera.id;
    assert.equal(added.body.camera.url, `rtsps://${CAMERA_HOST}:${CAMERA_RTSPS}/live`);
    assert.equal(added.body.camera.tlsFingerprint256, firstFingerprint);
    assert.equal(new X509Certificate(added.body.camera.tlsCaPem).fingerprint256, firstFingerprint);
    assert.equal(added.body.camera.hasCredentials, true);
    assert.doesNotMatch(added.text, new RegExp(ACCOUNT.password));
    await sleep(25_000);
    assert.equal((await admin.request('PATCH', `/api/v1/cameras/${cameraId}`, { enabled: false })).status, 200);
    let segments: SegmentRow[] = [];
    for (let i = 0; i < 50 && !(segments.length > 0 && segments.every((s) => s.state === 'complete')); i++) {
      await sleep(200);
      segments = (await admin.get<{ segments: SegmentRow[] }>(`/api/v1/cameras/${cameraId}/recordings?${RANGE}`)).body.segments;
    }
    const recordedMs = segments.reduce((sum, s) => sum + (Date.parse(s.endedAt ?? s.startedAt) - Date.parse(s.startedAt)), 0);
    assert.ok(segments.length >= 2 && recordedMs >= 20_000, `recorded ${recordedMs} ms in ${segments.length} segments: ${JSON.stringify(segments)}`);
    const from = segments[0]?.startedAt ?? '';
    const to = segments[segments.length - 1]?.endedAt ?? '';
    const clip = await admin.request('GET', `/api/v1/cameras/${cameraId}/playback?from=${from}&to=${to}`);
    assert.equal(clip.status, 200, clip.text.slice(0, 200));
    const file = path.join(nvr.dir, 'gate.mp4');
    writeFileSync(file, clip.raw);
    const probe = await runTool(ffprobe, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]);
    assert.equal(probe.code, 0, probe.stderr);
    const parsed = JSON.parse(probe.stdout) as { format: { duration: string }; streams: Array<{ codec_name: string; width: number; height: number }> };
    assert.deepEqual([parsed.streams[0]?.codec_name, parsed.streams[0]?.width, parsed.streams[0]?.height], ['h264', 320, 240]);
    assert.ok(Number(parsed.format.duration) >= 20, `played back ${parsed.format.duration} s`);
    console.log(`# recorded ${(recordedMs / 1000).toFixed(1)} s in ${segments.length} segments; playback ${Number(parsed.format.duration).toFixed(1)} s`);
    const events = await auditEvents((e) => e.action === 'camera.tls_trust', (e) => e.action === 'camera.onvif_probe', (e) => e.action === 'camera.create');
    const trust = events.find((e) => e.action === 'camera.tls_trust');
    assert.equal(trust?.target, `camera:${cameraId}`);
    assert.equal(trust?.actor, `user:${ADMIN.username}`);
    assert.equal(trust?.details['deviceFingerprint256'], firstFingerprint);
    assert.equal(trust?.details['streamFingerprint256'], firstFingerprint);
    assert.ok(events.some((e) => e.action === 'camera.onvif_probe' && e.details['fingerprint256'] === firstFingerprint));
    assert.ok(events.some((e) => e.action === 'camera.onvif_inspect' && e.outcome === 'failure' && e.details['error'] === 'VIGIL_ONVIF_AUTH_REFUSED'));
    assert.ok(!JSON.stringify(events).includes(ACCOUNT.password), 'no credential in the audit log');
  });

  test('CLI: `vigil cameras add-onvif` shows the fingerprint, refuses without confirmation, adds with --fingerprint', async () => {
    const base = ['cameras', 'add-onvif', address, '--username', ACCOUNT.username, '--config', nvr.configFile];
    const unconfirmed = await runVigil(base, { input: `${ACCOUNT.password}\n`, timeoutMs: 60_000 });
    assert.equal(unconfirmed.code, 3, unconfirmed.stderr);
    assert.ok(unconfirmed.stdout.includes(`SHA-256 fingerprint: ${firstFingerprint}`), unconfirmed.stdout);
    assert.match(unconfirmed.stderr, /not confirmed; nothing was sent/);
    const wrong = await runVigil([...base, '--fingerprint', 'CD'.repeat(32)], { input: `${ACCOUNT.password}\n`, timeoutMs: 60_000 });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout + wrong.stderr, /VIGIL_ONVIF_FINGERPRINT_MISMATCH|another certificate/);
    const added = await runVigil([...base, '--fingerprint', firstFingerprint, '--name', 'Cli camera', '--mode', 'off'], { input: `${ACCOUNT.password}\n`, timeoutMs: 60_000 });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`added camera Cli camera: [0-9a-f-]{36}\\n  stream rtsps://${CAMERA_HOST.replace(/\./g, '\\.')}:${CAMERA_RTSPS}/live\\n  pinned certificate ${firstFingerprint}`));
    assert.ok(!(added.stdout + added.stderr).includes(ACCOUNT.password));
  });

  test('a camera restarted with another certificate is refused, with an alarm naming both fingerprints; an admin re-pin clears it', async () => {
    assert.ok(cameraId !== '', 'the camera was added');
    await camera.stop();
    rmSync(path.join(camera.dataDir, 'tls', 'device.crt'));
    rmSync(path.join(camera.dataDir, 'tls', 'device.key.sealed'));
    camera = await startVigil({ host: CAMERA_HOST, config: cameraConfig, dir: camera.dir });
    const second = new X509Certificate(camera.caPem).fingerprint256;
    assert.notEqual(second, firstFingerprint);
    const before = (await admin.get<{ segments: SegmentRow[] }>(`/api/v1/cameras/${cameraId}/recordings?${RANGE}`)).body.segments.length;
    assert.equal((await admin.request('PATCH', `/api/v1/cameras/${cameraId}`, { enabled: true })).status, 200);
    let alarm: AlarmRow | undefined;
    for (let i = 0; i < 60 && alarm === undefined; i++) {
      await sleep(250);
      alarm = (await alarms()).find((a) => a.type === 'video.camera_certificate_refused' && a.source === `camera:${cameraId}` && a.state === 'active');
    }
    assert.ok(alarm !== undefined, JSON.stringify(await alarms()));
    assert.equal(alarm.details['expected'], firstFingerprint);
    assert.equal(alarm.details['seen'], second);
    assert.match(alarm.message, /Gate camera.*another TLS certificate/);
    await sleep(3000);
    const during = (await admin.get<{ segments: SegmentRow[] }>(`/api/v1/cameras/${cameraId}/recordings?${RANGE}`)).body.segments.length;
    assert.equal(during, before, 'nothing recorded from the other certificate');
    // The same refusal for a new enrolment attempt with the old fingerprint: the device changed.
    const stale = await admin.post<ErrorReply>('/api/v1/cameras/onvif/inspect', { address, fingerprint256: firstFingerprint, username: ACCOUNT.username, password: ACCOUNT.password });
    assert.equal(stale.body.error.code, 'VIGIL_ONVIF_FINGERPRINT_MISMATCH');
    // Re-pinning needs the admin to confirm the certificate the camera now presents.
    const wrong = await admin.post<ErrorReply>(`/api/v1/cameras/${cameraId}/trust-certificate`, { fingerprint256: firstFingerprint });
    assert.equal(wrong.body.error.code, 'VIGIL_ONVIF_FINGERPRINT_MISMATCH');
    const repinned = await admin.post<{ tlsFingerprint256: string }>(`/api/v1/cameras/${cameraId}/trust-certificate`, { fingerprint256: second });
    assert.equal(repinned.status, 200, repinned.text);
    assert.equal(repinned.body.tlsFingerprint256, second);
    let cleared = false;
    for (let i = 0; i < 60 && !cleared; i++) {
      await sleep(250);
      cleared = (await alarms()).some((a) => a.type === 'video.camera_certificate_refused' && a.source === `camera:${cameraId}` && a.state === 'cleared');
    }
    assert.ok(cleared, 'the alarm clears once the re-pinned camera connects');
    const events = await auditEvents((e) => e.action === 'camera.tls_trust' && e.details['via'] === 're-pin', (e) => e.action === 'video.camera_certificate_refused');
    const repin = events.find((e) => e.action === 'camera.tls_trust' && e.details['via'] === 're-pin');
    assert.deepEqual([repin?.details['previous'], repin?.details['confirmed'], repin?.actor], [firstFingerprint, second, `user:${ADMIN.username}`]);
    assert.ok(events.some((e) => e.action === 'camera.tls_trust' && e.outcome === 'failure' && e.details['seen'] === second));
  });
});
