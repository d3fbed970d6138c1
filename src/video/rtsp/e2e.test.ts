// End-to-end: our RTSP server serves an H.264 clip made by ffmpeg; ffprobe (a third-party
// client) and our client read it over RTSP and RTSPS with Digest (CAM-T-auth-1, CAM-T-com-1,
// NVR-5.4.1.1c/d). Loopback only; every server, socket and child process is closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { isVigilError } from '../../core/errors.ts';
import { createSelfSignedCertificate } from '../../crypto/certificate.ts';
import { groupAccessUnits, splitAnnexB } from '../rtp/annexb.ts';
import { RtspClient } from './client.ts';
import { RtspAuthenticator, staticCredentialVerifier } from './digest-server.ts';
import type { DigestAlgorithm } from './digest.ts';
import { LiveVideoSource } from './live-source.ts';
import { RtspServer } from './server.ts';

const USER = 'viewer';
const PASSWORD = 'Correct-Horse-9';
const FRAMES = 100; // 4 s at 25 fps, GOP 25 → keyframes at 0, 25, 50, 75

function requireTool(name: string): void {
  const r = spawnSync(name, ['-version'], { stdio: 'ignore' });
  if (r.error !== undefined || r.status !== 0) assert.fail(`${name} is missing: install the apt package "ffmpeg"`);
}

let dir = '';
let clip: Uint8Array[][] = [];

before(() => {
  requireTool('ffmpeg');
  requireTool('ffprobe');
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-rtsp-e2e-'));
  const file = path.join(dir, 'clip.h264');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '4', '-c:v', 'libx264', '-g', '25', '-bf', '0', '-f', 'h264', file], { timeout: 60_000 });
  assert.equal(r.status, 0, `ffmpeg failed: ${String(r.stderr)}`);
  clip = groupAccessUnits('H264', splitAnnexB(readFileSync(file)));
  assert.equal(clip.length, FRAMES);
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  server: RtspServer;
  source: LiveVideoSource;
  url: string;
  certPem: string;
}

async function startServer(secure: boolean, algorithms: DigestAlgorithm[]): Promise<Fixture> {
  const material = secure ? await createSelfSignedCertificate({ deviceName: 'vigil-test-camera', hostnames: ['localhost'], now: Date.now(), validityDays: 1 }) : undefined;
  const authenticator = new RtspAuthenticator({ realm: 'Vigil camera', verifier: staticCredentialVerifier(new Map([[USER, PASSWORD]])), algorithms });
  const server = new RtspServer({ authenticator, ...(material === undefined ? {} : { tls: material }) });
  const source = new LiveVideoSource({ codec: 'H264' });
  server.addStream('/live', source);
  const address = await server.listen();
  return { server, source, url: `${secure ? 'rtsps' : 'rtsp'}://127.0.0.1:${address.port}/live`, certPem: material?.certPem ?? '' };
}

/** Pushes the clip `loops` times, paced, with continuous 90 kHz timestamps; stops early on `stop()`. */
function pump(source: LiveVideoSource, loops: number, intervalMs: number): { done: Promise<void>; stop: () => void } {
  let stopped = false;
  const done = (async () => {
    for (let i = 0; i < loops * FRAMES && !stopped; i += 1) {
      source.pushAccessUnit(clip[i % FRAMES] ?? [], i * 3600);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return { done, stop: () => (stopped = true) };
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ffprobe(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ffprobe', ['-hide_banner', '-v', 'error', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'default=nw=1', url], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('RTSP end to end (CAM-T-auth-1, CAM-T-com-1)', () => {
  test('ffprobe reads the stream with Digest credentials in the URL; a wrong password gets 401', async () => {
    const f = await startServer(false, ['SHA-256', 'MD5']); // ffmpeg speaks Digest MD5 only
    const feed = pump(f.source, 20, 10);
    try {
      const ok = await ffprobe(f.url.replace('rtsp://', `rtsp://${USER}:${PASSWORD}@`));
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /codec_name=h264/);
      assert.match(ok.stdout, /width=640/);
      assert.match(ok.stdout, /height=360/);
      const bad = await ffprobe(f.url.replace('rtsp://', `rtsp://${USER}:wrong-password@`));
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /401|Unauthorized/i);
    } finally {
      feed.stop();
      await feed.done;
      await f.server.close();
    }
  });

  for (const [secure, algorithm] of [[false, 'SHA-256'], [false, 'MD5'], [true, 'SHA-256'], [true, 'MD5']] as const) {
    test(`our client reads every access unit over ${secure ? 'RTSPS (pinned certificate)' : 'RTSP'} with Digest ${algorithm}`, async () => {
      const f = await startServer(secure, [algorithm]);
      const received: Array<{ ts: number; keyframe: boolean; bytes: number }> = [];
      const tlsOptions = secure ? { tls: { ca: f.certPem, pinnedFingerprint256: new X509Certificate(f.certPem).fingerprint256 } } : {};
      const client = await RtspClient.connect({
        url: f.url, username: USER, password: PASSWORD, ...tlsOptions,
        onAccessUnit: (_track, au) => received.push({ ts: au.timestamp, keyframe: au.keyframe, bytes: au.data.length }),
      });
      try {
        assert.equal(client.tracks.length, 1);
        assert.equal(client.tracks[0]?.codec, 'H264');
        await waitFor(() => f.source.viewerCount === 1, 5000);
        const feed = pump(f.source, 1, 2);
        await feed.done;
        await waitFor(() => received.length === FRAMES, 10_000);
        assert.equal(received.length, FRAMES);
        assert.deepEqual(received.filter((r) => r.keyframe).map((r) => r.ts), [0, 25, 50, 75].map((i) => i * 3600));
        const expectedBytes = clip.reduce((sum, au) => sum + au.reduce((s, nal) => s + 4 + nal.length, 0), 0);
        assert.equal(received.reduce((s, r) => s + r.bytes, 0), expectedBytes);
        assert.equal(client.stats.payloadErrors, 0);
      } finally {
        await client.close();
        await f.server.close();
      }
      assert.equal(f.server.connectionCount, 0);
    });
  }

  test('CAM-T-auth-1: a wrong password is refused with 401 (VIGIL_RTSP_AUTH_FAILED) and no media', async () => {
    const f = await startServer(false, ['SHA-256']);
    try {
      await assert.rejects(RtspClient.connect({ url: f.url, username: USER, password: 'not-the-password', onAccessUnit: () => assert.fail('media without auth') }), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_AUTH_FAILED'));
      await assert.rejects(RtspClient.connect({ url: f.url }), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_AUTH_FAILED'));
      assert.equal(f.source.viewerCount, 0);
    } finally {
      await f.server.close();
    }
  });

  test('NVR-5.4.1.1c: RTSPS with a certificate that is neither trusted nor pinned is refused', async () => {
    const f = await startServer(true, ['SHA-256']);
    const other = await createSelfSignedCertificate({ deviceName: 'someone-else', hostnames: [], now: Date.now(), validityDays: 1 });
    try {
      await assert.rejects(RtspClient.connect({ url: f.url, username: USER, password: PASSWORD }), (e: unknown) => isVigilError(e, 'VIGIL_TLS_CERT_INVALID'));
      await assert.rejects(
        RtspClient.connect({ url: f.url, username: USER, password: PASSWORD, tls: { ca: f.certPem, pinnedFingerprint256: new X509Certificate(other.certPem).fingerprint256 } }),
        (e: unknown) => isVigilError(e, 'VIGIL_TLS_CERT_INVALID'),
      );
    } finally {
      await f.server.close();
    }
  });
});
