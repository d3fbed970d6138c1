// Evidence export and its offline verifier (NVR-5.2.7.1a, NVR-5.2.8.1b): a bundle of real fMP4
// recorded into a real VideoStore verifies; every kind of tampering is named by file; a tampered
// recording is never exported; password-encrypted bundles need the password and detect changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { createTestStore, type TestStore } from '../../../test/helpers/stores.ts';
import { RecordingAlarmSink, RecordingAuditSink, silentLogger } from '../../audit/test-doubles.ts';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { deviceSignerFromPrivateKey, type DeviceSigner } from '../../crypto/signer.ts';
import { FragmentMuxer } from '../mp4/muxer.ts';
import { openSegment } from '../mp4/index.ts';
import { H264_PPS, H264_SPS_1080P } from '../mp4/fixtures.ts';
import { VideoStore } from '../storage/video-store.ts';
import { segmentPath } from '../storage/volumes.ts';
import { prepareEvidenceExport, type EvidenceDeps, type EvidenceRequest } from './evidence-export.ts';
import { ENTRY_MANIFEST, ENTRY_PUBLIC_KEY, ENTRY_SIGNATURE, type EvidenceManifest } from './evidence-format.ts';
import { verifyEvidence } from './evidence-verify.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const CAMERA = { id: 'cam-evidence', name: 'Loading dock' };
const root = mkdtempSync(path.join(tmpdir(), 'vigil-evidence-'));
const clock = new ManualClock(T0 + 3_600_000);
let testStore: TestStore;
let video: VideoStore;
let signer: DeviceSigner;
let deps: EvidenceDeps;
const segmentIds: string[] = [];

/** Records `seconds` of 25 fps H.264 (one GOP = one fragment = 1 s) as one finished segment. */
async function recordSegment(start: number, seconds: number): Promise<void> {
  const muxer = new FragmentMuxer([{ kind: 'video', codec: 'h264', timescale: 90000, parameterSets: [H264_SPS_1080P, H264_PPS] }]);
  const writer = await video.startSegment(CAMERA.id, Buffer.from(muxer.init), start);
  segmentIds.push(writer.id);
  let second = 0;
  const append = async (bytes: Uint8Array): Promise<void> => {
    await writer.appendFragment(Buffer.from(bytes), start + second * 1000, 1000);
    second++;
  };
  for (let i = 0; i < seconds * 25; i++) {
    const key = i % 25 === 0;
    const nal = Buffer.alloc(3000 + (i % 7) * 50, i & 0xff);
    nal[0] = key ? 0x65 : 0x41;
    const fragment = muxer.push(0, { data: [nal], dts: i * 3600, ctsOffset: 0, duration: 3600, keyframe: key });
    if (fragment !== undefined) await append(fragment.bytes);
  }
  const last = muxer.flush();
  if (last !== undefined) await append(last.bytes);
  await video.finishSegment(CAMERA.id);
}

async function collect(request: Partial<EvidenceRequest> = {}): Promise<Buffer> {
  const prepared = await prepareEvidenceExport(deps, { camera: CAMERA, from: T0, to: T0 + 20_000, exportedBy: 'user:alice', reason: 'incident 42', ...request });
  const parts: Uint8Array[] = [];
  for await (const chunk of prepared.stream()) parts.push(chunk);
  const bundle = Buffer.concat(parts);
  const summary = prepared.summary();
  assert.equal(summary.bytes, bundle.length);
  return bundle;
}

/** Re-packs an archive after `edit` changed its entries (what a forger with a ZIP tool does). */
function repack(bundle: Uint8Array, edit: (entries: Record<string, Uint8Array>) => void): Uint8Array {
  const entries = unzipSync(bundle);
  edit(entries);
  return zipSync(entries, { level: 0 });
}

before(async () => {
  testStore = await createTestStore('sqlite');
  const keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(root, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: testStore.store, clock });
  signer = await keyring.deviceSigner();
  video = await VideoStore.open({
    store: testStore.store, keyring, signer, alarms: new RecordingAlarmSink(), audit: new RecordingAuditSink(), clock, logger: silentLogger(), dataDir: root,
    config: {
      volumes: [{ id: 'disk-a', path: path.join(root, 'a'), role: 'mirror' }, { id: 'disk-b', path: path.join(root, 'b'), role: 'mirror' }],
      mirrorCopies: 2, segmentSeconds: 60, signalLossSeconds: 5, syncEachFragment: false, freeSpaceWarnPercent: 1, healthCheckSeconds: 300, verifyEveryHours: 24,
    },
  });
  deps = { video, signer, device: { name: 'nvr-test', product: 'Vigil', version: '0.1.0' }, now: () => clock.now() };
  await recordSegment(T0, 10);
  await recordSegment(T0 + 10_000, 10);
});

after(async () => {
  await video.close();
  await testStore.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('NVR-5.2.7.1a: a bundle holds playable clips, a signed manifest with the recording chain, and verifies offline', async () => {
  const bundle = await collect();
  const result = await verifyEvidence(bundle, { trustedPublicKeyPem: signer.publicKeyPem });
  assert.deepEqual(result.problems, []);
  assert.equal(result.ok, true);
  assert.equal(result.pinned, 'match');
  assert.equal(result.keyId, signer.keyId);
  const manifest = result.manifest as EvidenceManifest;
  assert.equal(manifest.camera.id, CAMERA.id);
  assert.equal(manifest.exportedBy, 'user:alice');
  assert.equal(manifest.reason, 'incident 42');
  assert.deepEqual(manifest.segments.map((s) => s.id), segmentIds);
  assert.equal(manifest.segments[1]?.prevHash, manifest.segments[0]?.hash);
  const clips = manifest.files.filter((f) => f.path.startsWith('clips/'));
  assert.equal(clips.length, 1);
  // The clip is a real fragmented MP4 with all 20 one-second fragments.
  const clip = openSegment(result.entries[clips[0]?.path ?? ''] as Uint8Array);
  assert.equal(clip.fragments.length, 20);
  assert.equal(result.checkedSegments, 2);
});

test('NVR-5.2.8.1b: a changed clip byte is named by file', async () => {
  const bundle = await collect();
  const clipName = Object.keys(unzipSync(bundle)).find((n) => n.startsWith('clips/')) as string;
  const tampered = repack(bundle, (e) => {
    const clip = e[clipName] as Uint8Array;
    clip[clip.length - 10] = (clip[clip.length - 10] as number) ^ 0x01;
  });
  const result = await verifyEvidence(tampered, { trustedPublicKeyPem: signer.publicKeyPem });
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems, [{ file: clipName, message: 'SHA-256 does not match the signed manifest (file changed)' }]);
});

test('NVR-5.2.8.1b: an edited manifest, an added file, a removed clip, a swapped key are each named', async () => {
  const bundle = await collect();
  const editManifest = (change: (m: EvidenceManifest) => void) => (e: Record<string, Uint8Array>): void => {
    const m = JSON.parse(Buffer.from(e[ENTRY_MANIFEST] as Uint8Array).toString('utf8')) as EvidenceManifest;
    change(m);
    e[ENTRY_MANIFEST] = Buffer.from(JSON.stringify(m, null, 2));
  };
  const edited = await verifyEvidence(repack(bundle, editManifest((m) => { m.exportedBy = 'user:mallory'; })));
  assert.deepEqual(edited.problems.map((p) => p.file), [ENTRY_SIGNATURE]);

  const added = await verifyEvidence(repack(bundle, (e) => { e['clips/99-extra.mp4'] = new Uint8Array(10); }));
  assert.deepEqual(added.problems, [{ file: 'clips/99-extra.mp4', message: 'not listed in the signed manifest (added after export)' }]);

  const removed = await verifyEvidence(repack(bundle, (e) => {
    for (const name of Object.keys(e)) if (name.startsWith('clips/')) delete e[name];
  }));
  assert.match(removed.problems[0]?.message ?? '', /missing from the bundle \(removed\)/);

  // A forger re-signs a doctored manifest (a segment dropped) with their own key: the chain
  // breaks, the recording-time signatures fail, and the pinned device key does not match.
  const forger = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
  const forged = repack(bundle, (e) => {
    editManifest((m) => {
      m.segments = m.segments.slice(1);
      m.device.signingKeyId = forger.keyId;
    })(e);
    e[ENTRY_PUBLIC_KEY] = Buffer.from(forger.publicKeyPem);
    e[ENTRY_SIGNATURE] = Buffer.from(forger.sign(e[ENTRY_MANIFEST] as Uint8Array).toString('base64'));
  });
  const unpinned = await verifyEvidence(forged);
  assert.equal(unpinned.ok, false);
  assert.equal(unpinned.pinned, 'not-given');
  assert.match(unpinned.problems.map((p) => `${p.file}: ${p.message}`).join('\n'), /signed by another device key/);
  const pinned = await verifyEvidence(forged, { trustedPublicKeyPem: signer.publicKeyPem });
  assert.equal(pinned.pinned, 'mismatch');
  assert.ok(pinned.problems.some((p) => p.file === ENTRY_PUBLIC_KEY && /not the trusted device key/.test(p.message)));
});

test('NVR-5.2.8.1b: a chain with a segment cut out or a link changed is named by segment', async () => {
  const bundle = await collect();
  const resign = (change: (m: EvidenceManifest) => void): Uint8Array => repack(bundle, (e) => {
    const m = JSON.parse(Buffer.from(e[ENTRY_MANIFEST] as Uint8Array).toString('utf8')) as EvidenceManifest;
    change(m);
    e[ENTRY_MANIFEST] = Buffer.from(JSON.stringify(m));
    e[ENTRY_SIGNATURE] = Buffer.from(signer.sign(e[ENTRY_MANIFEST] as Uint8Array).toString('base64')); // even with the device key
  });
  const relinked = await verifyEvidence(resign((m) => { (m.segments[1] as { prevHash: string }).prevHash = 'f'.repeat(64); }));
  assert.deepEqual(relinked.problems.map((p) => p.message), ['recording signature does not verify (catalog row edited)', 'chain link does not match the previous segment']);
  const gap = await verifyEvidence(resign((m) => { (m.segments[1] as { seq: number }).seq += 1; }));
  assert.ok(gap.problems.some((p) => p.message === `segment ${(gap.manifest?.segments[0]?.seq ?? 0) + 1} of the chain is missing`));
});

test('password-encrypted bundle: needs the password, wrong one refused, changed or truncated chunk detected', async () => {
  const password = 'correct horse battery staple';
  const bundle = await collect({ password });
  assert.equal(bundle.subarray(0, 8).toString('latin1'), 'VIGILENC');
  assert.equal(bundle.includes(Buffer.from('manifest.json')), false, 'no plaintext archive entry names');
  const none = await verifyEvidence(bundle);
  assert.equal(none.needsPassword, true);
  assert.equal(none.ok, false);
  const wrong = await verifyEvidence(bundle, { password: 'wrong password, long enough' });
  assert.deepEqual(wrong.problems, [{ file: '(bundle)', message: 'wrong password, or the encrypted bundle was changed' }]);
  const right = await verifyEvidence(bundle, { password, trustedPublicKeyPem: signer.publicKeyPem });
  assert.deepEqual(right.problems, []);
  assert.equal(right.encrypted, true);
  const flipped = Buffer.from(bundle);
  flipped[flipped.length - 100] = (flipped[flipped.length - 100] as number) ^ 0x80;
  assert.match((await verifyEvidence(flipped, { password })).problems[0]?.message ?? '', /chunk \d+ fails authentication/);
  // Cut at a chunk boundary: the last chunk present was not sealed as the last one.
  const headerEnd = 12 + bundle.readUInt32BE(8);
  const truncated = bundle.subarray(0, headerEnd + 1024 * 1024 + 16);
  assert.ok(bundle.length > truncated.length, 'the test bundle spans more than one chunk');
  assert.deepEqual((await verifyEvidence(truncated, { password })).problems[0]?.message, 'the encrypted bundle is truncated (its end is missing)');
});

test('bad requests: empty or too long range, short password, no recording — each a stable code', async () => {
  const codeOf = async (request: Partial<EvidenceRequest>): Promise<string> => {
    try {
      await prepareEvidenceExport(deps, { camera: CAMERA, from: T0, to: T0 + 20_000, exportedBy: 'user:alice', ...request });
      return 'none';
    } catch (err) {
      return isVigilError(err) ? err.code : String(err);
    }
  };
  assert.equal(await codeOf({ to: T0 }), 'VIGIL_VALIDATION');
  assert.equal(await codeOf({ to: T0 + 3_600_001 }), 'VIGIL_VALIDATION');
  assert.equal(await codeOf({ password: 'short' }), 'VIGIL_VALIDATION');
  assert.equal(await codeOf({ from: T0 - 600_000, to: T0 - 1000 }), 'VIGIL_NOT_FOUND');
  assert.equal(await codeOf({ camera: { id: 'other-camera', name: 'x' } }), 'VIGIL_NOT_FOUND');
});

test('NVR-5.2.8.1b: a recording whose stored copy was changed is refused, not exported as genuine', async () => {
  const row = await video.catalog.get(segmentIds[1] as string);
  assert.ok(row !== undefined);
  const file = segmentPath(video.volumes.get('disk-b') as NonNullable<ReturnType<typeof video.volumes.get>>, CAMERA.id, row.id);
  const bytes = readFileSync(file);
  bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
  writeFileSync(file, bytes);
  await assert.rejects(collect(), (err: unknown) => isVigilError(err, 'VIGIL_VIDEO_SEGMENT_TAMPERED') && /segment \d+ of the range fails verification/.test((err as Error).message));
});
