// ONVIF Profile S subset of the camera role end to end (issue #9): the real process with the
// camera role, driven by the `onvif` npm client over HTTPS with the device certificate trusted
// explicitly; the stream URI it returns plays in ffprobe over RTSPS. Raw SOAP shows the
// defences: a byte-identical replay of a valid UsernameToken is refused and audited
// (CAM-T-auth-1), a wrong password is NotAuthorized and counts towards the shared lockout
// (CAM-T-auth-4), DOCTYPE/entities are refused, faults carry no internals or user names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cam, type DeviceInformation } from 'onvif';
import { ROOT, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { auditEventsWhen, type AuditRow } from '../helpers/audit.ts';
import { requireTool, runTool } from '../helpers/tools.ts';
import { DEVICE_NS, MEDIA_NS, envelope, soapPost, usernameTokenXml } from '../helpers/onvif-soap.ts';

const ADMIN = { username: 'onvif-admin', password: 'Shutter-Aperture-1010' };
const VIEWER = { username: 'onvif-viewer', first: 'First-Lens-Pass-2020', password: 'Onvif-Lens-Pass-3030' };
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;


/** Promise wrappers over the callback client (its promise flavour is typed `any`). */
function call<T>(run: (cb: (err: Error | null, value: T | undefined) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((err, value) => (err === null ? resolve(value) : reject(err))));
}

describe('ONVIF Profile S subset of the camera role (real process, onvif client, RTSPS)', () => {
  let vigil: VigilProcess;
  let admin: ApiClient;

  before(async () => {
    vigil = await startVigil({
      config: {
        security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 },
        // The left half of the picture is private (CAM-5.5.1.2, checked on the snapshot).
        camera: { enabled: true, width: 320, height: 240, fps: 15, bitrateKbps: 600, gop: 15, rtspsPort: 0, digestAlgorithms: ['SHA-256', 'MD5'], privacyMasks: [{ x: 0, y: 0, width: 0.5, height: 1 }] },
      },
    });
    admin = new ApiClient(vigil.baseUrl, vigil.caPem);
    assert.equal((await admin.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN })).status, 201);
    admin.csrfToken = (await admin.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN)).body.csrfToken;
    const created = await admin.post('/api/v1/users', { username: VIEWER.username, password: VIEWER.first, grants: [{ role: 'viewer', scopeKind: 'global' }] });
    assert.equal(created.status, 201, created.text);
    const user = admin.anonymous();
    user.csrfToken = (await user.post<{ csrfToken: string }>('/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.first })).body.csrfToken;
    assert.equal((await user.post('/api/v1/auth/password', { currentPassword: VIEWER.first, newPassword: VIEWER.password })).status, 200);
  });
  after(async () => {
    await vigil?.dispose();
  });

  const post = (service: 'device' | 'media', body: string, contentType?: string) => soapPost(vigil.baseUrl, vigil.caPem, `/onvif/${service}_service`, body, contentType);

  /** The audit log is written asynchronously: read until every expected event is there (bounded). */
  const auditEvents = (...expected: Array<(e: AuditRow) => boolean>): Promise<AuditRow[]> => auditEventsWhen(admin, 'limit=500', ...expected);

  test('the onvif client reads device information, the profile and a stream URI that ffprobe plays over RTSPS', async () => {
    const ffprobe = requireTool('ffprobe', 'ffmpeg');
    const cam = new Cam({ hostname: vigil.host, port: vigil.port, username: VIEWER.username, password: VIEWER.password, useSecure: true, secureOpts: { ca: vigil.caPem }, autoconnect: false, timeout: 30_000 });
    await call<unknown>((cb) => cam.connect((err) => cb(err ?? null, undefined)));
    const info = await call<DeviceInformation>((cb) => cam.getDeviceInformation((err, v) => cb(err ?? null, v)));
    assert.equal(info?.manufacturer, 'Vigil');
    assert.equal(info?.firmwareVersion, VERSION);
    assert.match(info?.serialNumber ?? '', /^[0-9a-f]{64}$/);
    const profiles = await call<Array<{ $: { token: string }; videoEncoderConfiguration: { encoding: string; resolution: { width: number; height: number }; rateControl: { frameRateLimit: number; bitrateLimit: number }; H264: { govLength: number } } }>>((cb) => cam.getProfiles((err, v) => cb(err ?? null, v as never)));
    assert.equal(profiles?.length, 1);
    const encoder = profiles?.[0]?.videoEncoderConfiguration;
    assert.deepEqual([encoder?.encoding, encoder?.resolution.width, encoder?.resolution.height, encoder?.rateControl.frameRateLimit, encoder?.rateControl.bitrateLimit], ['H264', 320, 240, 15, 600]);
    const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: profiles?.[0]?.$.token ?? '' }, (err, v) => cb(err ?? null, v)));
    assert.match(stream?.uri ?? '', /^rtsps:\/\/127\.0\.0\.1:\d+\/live$/);
    const u = new URL(stream?.uri ?? '');
    u.username = VIEWER.username;
    u.password = VIEWER.password;
    const probe = await runTool(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', u.toString()], { timeoutMs: 60_000 });
    assert.equal(probe.code, 0, probe.stderr);
    const s = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width: number; height: number; profile: string }> }).streams[0];
    assert.deepEqual([s?.codec_name, s?.width, s?.height, s?.profile], ['h264', 320, 240, 'High']);
  });

  test('GetSnapshotUri: an HTTP Digest-protected JPEG of the masked stream; no credentials or a wrong password get 401 and count as failed logins', async () => {
    const curl = requireTool('curl', 'curl');
    const ffmpeg = requireTool('ffmpeg', 'ffmpeg');
    const cam = new Cam({ hostname: vigil.host, port: vigil.port, username: VIEWER.username, password: VIEWER.password, useSecure: true, secureOpts: { ca: vigil.caPem }, autoconnect: false, timeout: 30_000 });
    await call<unknown>((cb) => cam.connect((err) => cb(err ?? null, undefined)));
    const snapshot = await call<{ uri: string }>((cb) => cam.getSnapshotUri({ profileToken: 'vigil_main' }, (err, v) => cb(err ?? null, v)));
    assert.equal(snapshot?.uri, `${vigil.baseUrl}/onvif/snapshot`);
    const caFile = path.join(vigil.dir, 'ca.pem');
    writeFileSync(caFile, vigil.caPem);
    const jpegFile = path.join(vigil.dir, 'snapshot.jpg');
    const fetch = (...auth: string[]) => runTool(curl, ['-sS', '--cacert', caFile, '-o', jpegFile, '-w', '%{http_code} %{content_type}', ...auth, snapshot?.uri ?? ''], { timeoutMs: 30_000 });
    const anonymous = await fetch();
    assert.equal(anonymous.stdout.split(' ')[0], '401');
    // curl answers the SHA-256 challenge (RFC 7616) the camera offers first.
    const wrong = await fetch('--digest', '-u', `${VIEWER.username}:Wrong-Password-77`);
    assert.equal(wrong.stdout.split(' ')[0], '401');
    let ok = await fetch('--digest', '-u', `${VIEWER.username}:${VIEWER.password}`);
    // The first keyframe may still be on its way right after start: bounded retry on 503.
    for (let i = 0; i < 20 && ok.stdout.startsWith('503'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      ok = await fetch('--digest', '-u', `${VIEWER.username}:${VIEWER.password}`);
    }
    assert.equal(ok.stdout, '200 image/jpeg', ok.stderr);
    const grayFile = path.join(vigil.dir, 'snapshot.gray');
    const gray = await runTool(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', jpegFile, '-f', 'rawvideo', '-pix_fmt', 'gray', grayFile], { timeoutMs: 30_000 });
    assert.equal(gray.code, 0, gray.stderr);
    const frame = readFileSync(grayFile);
    assert.equal(frame.length, 320 * 240);
    const left: number[] = [];
    const right: number[] = [];
    for (let y = 0; y < 240; y++) for (let x = 0; x < 320; x++) (x < 152 ? left : x >= 168 ? right : []).push(frame[y * 320 + x] ?? 0);
    const spread = (v: number[]): number => Math.max(...v) - Math.min(...v);
    assert.ok(spread(left) <= 6, `masked half of the snapshot must be uniform (spread ${spread(left)})`);
    assert.ok(spread(right) > 50, `the rest of the picture is not (spread ${spread(right)})`);
    const taken = (e: AuditRow): boolean => e.action === 'camera.snapshot' && e.actor === `user:${VIEWER.username}` && e.outcome === 'success';
    const refused = (e: AuditRow): boolean => e.action === 'auth.login' && e.target === `user:${VIEWER.username}` && e.outcome === 'failure' && e.details['via'] === 'snapshot';
    const events = await auditEvents(taken, refused);
    assert.ok(events.some(taken), 'the snapshot is audited with its user');
    assert.ok(events.some(refused), 'the wrong password counted as a failed login');
  });

  test('only GetSystemDateAndTime answers without a token; every other operation is NotAuthorized', async () => {
    const time = await post('device', envelope(`<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>`));
    assert.equal(time.status, 200, time.text);
    assert.match(time.contentType, /application\/soap\+xml/);
    assert.match(time.text, /<tt:UTCDateTime>/);
    for (const [service, op] of [['device', `<GetDeviceInformation xmlns="${DEVICE_NS}"/>`], ['device', `<GetUsers xmlns="${DEVICE_NS}"/>`], ['media', `<GetStreamUri xmlns="${MEDIA_NS}"/>`], ['media', `<NoSuchThing xmlns="${MEDIA_NS}"/>`]] as const) {
      const r = await post(service, envelope(op));
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /<env:Value>env:Sender<\/env:Value><env:Subcode><env:Value>ter:NotAuthorized</);
      assert.doesNotMatch(r.text, /Vigil|rtsps|onvif-viewer/);
    }
  });

  test('CAM-T-auth-1: a byte-identical replay of a valid UsernameToken is refused and audited', async () => {
    const request = envelope(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, usernameTokenXml(VIEWER.username, VIEWER.password));
    const first = await post('device', request);
    assert.equal(first.status, 200, first.text);
    assert.match(first.text, /<tds:Manufacturer>Vigil<\/tds:Manufacturer>/);
    const replay = await post('device', request);
    assert.equal(replay.status, 400, replay.text);
    assert.match(replay.text, /ter:NotAuthorized/);
    assert.doesNotMatch(replay.text, /Manufacturer|onvif-viewer/);
    // A token created more than 5 minutes ago is refused even with a fresh nonce.
    const stale = await post('device', envelope(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, usernameTokenXml(VIEWER.username, VIEWER.password, { created: new Date(Date.now() - 10 * 60_000).toISOString() })));
    assert.equal(stale.status, 400);
    const replayed = (e: AuditRow): boolean => e.action === 'onvif.request' && e.outcome === 'denied' && e.details['reason'] === 'replay' && e.details['operation'] === 'GetDeviceInformation';
    const expired = (e: AuditRow): boolean => e.action === 'onvif.request' && e.details['reason'] === 'expired';
    const served = (e: AuditRow): boolean => e.action === 'onvif.request' && e.outcome === 'success' && e.actor === `user:${VIEWER.username}`;
    const failedLogin = (e: AuditRow): boolean => e.action === 'auth.login' && e.target === `user:${VIEWER.username}` && e.outcome === 'failure' && e.details['via'] === 'onvif';
    const events = await auditEvents(replayed, expired, served, failedLogin);
    assert.ok(events.some(replayed), 'replay audited');
    assert.ok(events.some(expired), 'stale Created audited');
    assert.ok(events.some(served), 'the accepted request audited with its user');
    assert.ok(events.some(failedLogin), 'the replay counted as a failed ONVIF login');
  });

  test('permissions: a viewer cannot list users; an administrator gets names and levels; user changes are refused as managed in Vigil', async () => {
    const viewer = await post('device', envelope(`<GetUsers xmlns="${DEVICE_NS}"/>`, usernameTokenXml(VIEWER.username, VIEWER.password)));
    assert.equal(viewer.status, 400);
    assert.match(viewer.text, /ter:NotAuthorized/);
    const listed = await post('device', envelope(`<GetUsers xmlns="${DEVICE_NS}"/>`, usernameTokenXml(ADMIN.username, ADMIN.password)));
    assert.equal(listed.status, 200, listed.text);
    assert.match(listed.text, /<tt:Username>onvif-admin<\/tt:Username><tt:UserLevel>Administrator<\/tt:UserLevel>/);
    assert.match(listed.text, /<tt:Username>onvif-viewer<\/tt:Username><tt:UserLevel>User<\/tt:UserLevel>/);
    assert.doesNotMatch(listed.text, /Password/);
    const create = await post('device', envelope(`<CreateUsers xmlns="${DEVICE_NS}"><User><Username>mallory</Username><Password>x</Password><UserLevel xmlns="http://www.onvif.org/ver10/schema">Administrator</UserLevel></User></CreateUsers>`, usernameTokenXml(ADMIN.username, ADMIN.password)));
    assert.equal(create.status, 500);
    assert.match(create.text, /ter:ActionNotSupported/);
    assert.match(create.text, /managed in Vigil/);
  });

  test('hostile XML: DOCTYPE/entities, malformed and oversized bodies, wrong media type get sender faults without internals', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="${DEVICE_NS}">&x;</GetSystemDateAndTime></s:Body></s:Envelope>`;
    for (const body of [xxe, '<s:Envelope><s:Body><Get', `<a>${'<b>'.repeat(200)}</a>`, 'x'.repeat(70_000)]) {
      const r = await post('device', body);
      assert.equal(r.status, 400, r.text.slice(0, 200));
      assert.match(r.text, /<env:Value>env:Sender<\/env:Value>/);
      assert.doesNotMatch(r.text, /root:|at .*\.ts|Error:/);
    }
    const wrongType = await post('device', envelope(`<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>`), 'application/json');
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.text, /env:Sender/);
    const textXml = await post('device', envelope(`<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>`), 'text/xml; charset=utf-8');
    assert.equal(textXml.status, 200);
    const refusals = ['ter:WellFormed', 'too-large', 'malformed'];
    const events = await auditEvents(...refusals.map((r) => (e: AuditRow): boolean => e.action === 'onvif.request' && e.details['reason'] === r));
    const reasons = events.filter((e) => e.action === 'onvif.request').map((e) => e.details['reason']);
    for (const r of refusals) assert.ok(reasons.includes(r), `refusal ${r} audited: ${reasons.join(', ')}`);
  });

  test('CAM-T-auth-4: wrong ONVIF passwords are NotAuthorized and lock the account for the web login too', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await post('media', envelope(`<GetProfiles xmlns="${MEDIA_NS}"/>`, usernameTokenXml(VIEWER.username, `Wrong-${i}-Password`)));
      assert.equal(r.status, 400);
      assert.match(r.text, /ter:NotAuthorized/);
    }
    const right = await post('media', envelope(`<GetProfiles xmlns="${MEDIA_NS}"/>`, usernameTokenXml(VIEWER.username, VIEWER.password)));
    assert.equal(right.status, 400, 'locked: the right password is refused on ONVIF');
    const web = await admin.anonymous().post<{ error: { code: string } }>('/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.password });
    assert.equal(web.body.error.code, 'VIGIL_AUTH_LOCKED');
    const lockout = (e: AuditRow): boolean => e.action === 'auth.lockout' && e.target === `user:${VIEWER.username}`;
    assert.ok((await auditEvents(lockout)).some(lockout));
  });
});
