// The recording store on real files and both databases: encryption at rest (NVR-5.1.2.1b),
// signed hash chain and tamper alarm (NVR-5.2.8.1b), mirror + hot spare (NVR-5.1.5.2a/b),
// crash recovery, retention by crypto-shredding (CAM-T-priv-1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeOnEachStore } from '../../../test/helpers/stores.ts';
import { ManualClock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { isVigilError } from '../../core/errors.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { RecordingAlarmSink, RecordingAuditSink, silentLogger } from '../../audit/test-doubles.ts';
import { VideoStore, parseVolumes } from './video-store.ts';
import { segmentPath } from './volumes.ts';
import { encodeRecordHeader } from './segment-format.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');

/** A fake fMP4 fragment: random bytes around recognisable box names and an H.264 start code. */
function fragment(n: number): Buffer {
  return Buffer.concat([Buffer.from(`moof-mdat-${n}`), Buffer.from([0, 0, 0, 1, 0x65]), randomBytes(2000 + n)]);
}
const INIT = Buffer.concat([Buffer.from('....ftypisom....moov'), randomBytes(300)]);

function videoConfig(root: string, overrides: Partial<Config['video']> = {}): Config['video'] {
  return {
    volumes: [
      { id: 'disk-a', path: path.join(root, 'a'), role: 'mirror' },
      { id: 'disk-b', path: path.join(root, 'b'), role: 'mirror' },
      { id: 'disk-s', path: path.join(root, 's'), role: 'spare' },
    ],
    mirrorCopies: 2,
    segmentSeconds: 60,
    signalLossSeconds: 5,
    syncEachFragment: true,
    freeSpaceWarnPercent: 1,
    healthCheckSeconds: 300,
    verifyEveryHours: 24,
    ...overrides,
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

describeOnEachStore('video store', (get) => {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-video-'));
  const kekFile = path.join(root, 'keyring', 'kek.key');
  const clock = new ManualClock(T0);
  const alarms = new RecordingAlarmSink();
  const audit = new RecordingAuditSink();
  let keyring: Keyring | undefined;

  async function openVideo(config: Config['video'] = videoConfig(root), spaceOf?: (dir: string) => Promise<{ freeBytes: number; totalBytes: number }>): Promise<VideoStore> {
    keyring ??= await Keyring.open({ config: { kek: 'file', kekFile, pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: get().store, clock });
    return VideoStore.open({ store: get().store, keyring, signer: await keyring.deviceSigner(), alarms, audit, clock, logger: silentLogger(), config, dataDir: root, ...(spaceOf === undefined ? {} : { spaceOf }) });
  }

  async function record(video: VideoStore, camera: string, start: number, fragments: number): Promise<{ id: string; payloads: Buffer[] }> {
    const writer = await video.startSegment(camera, INIT, start);
    const payloads: Buffer[] = [];
    for (let i = 0; i < fragments; i++) {
      const p = fragment(i);
      payloads.push(p);
      await writer.appendFragment(p, start + i * 1000, 1000);
    }
    return { id: writer.id, payloads };
  }

  test('NVR-5.1.2.1b: segments are mirrored, read back exactly, and nothing readable is on disk', async () => {
    const video = await openVideo();
    const first = await record(video, 'cam-1', T0, 5);
    const second = await record(video, 'cam-1', T0 + 5000, 3);
    const done = await video.finishSegment('cam-1');
    assert.equal(done?.id, second.id);
    const row1 = await video.catalog.get(first.id);
    assert.equal(row1?.state, 'complete');
    assert.deepEqual(parseVolumes(row1?.volumes ?? '[]'), ['disk-a', 'disk-b']);
    assert.equal(row1?.fragments, 5);
    assert.equal(row1?.ended_at, T0 + 5000);
    assert.equal(done?.prev_hash, row1?.hash, 'the second segment is chained to the first');

    const back = [];
    for await (const r of video.readSegment(first.id)) back.push(r);
    assert.deepEqual(back[0]?.payload, INIT);
    assert.deepEqual(back.slice(1).map((r) => r.payload), first.payloads);
    assert.deepEqual(back.slice(1).map((r) => r.startMs), [0, 1000, 2000, 3000, 4000]);
    const seeked = [];
    for await (const r of video.readSegment(first.id, { fromMs: 2500 })) seeked.push(r.kind === 'init' ? 'init' : r.startMs);
    assert.deepEqual(seeked, ['init', 2000, 3000, 4000]);

    for (const disk of ['a', 'b']) {
      const files = filesUnder(path.join(root, disk)).filter((f) => f.endsWith('.vseg'));
      assert.equal(files.length, 2, disk);
      for (const f of files) {
        const bytes = readFileSync(f);
        for (const needle of ['ftyp', 'moov', 'moof', 'mdat']) assert.equal(bytes.indexOf(needle), -1, `${needle} in ${f}`);
        assert.equal(bytes.indexOf(Buffer.from([0, 0, 0, 1, 0x65])), -1, 'an H.264 start code in clear');
        assert.equal(statSync(f).mode & 0o077, 0, 'segment files are private');
      }
    }
    assert.equal((await video.verifySegment(first.id)).ok, true);
    assert.equal((await video.verifySegment(second.id)).copiesChecked, 2);
    await video.close();
  });

  test('NVR-5.2.8.1b: one flipped byte raises a tamper alarm naming the segment and fails reading', async () => {
    const video = await openVideo();
    const { id } = await record(video, 'cam-2', T0, 4);
    await video.finishSegment('cam-2');
    const file = segmentPath({ path: path.join(root, 'b') }, 'cam-2', id);
    const bytes = readFileSync(file);
    bytes[bytes.length - 700] = (bytes[bytes.length - 700] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);

    const result = await video.verifySegment(id);
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems.map((p) => p.volume), ['disk-b']);
    const alarm = alarms.raised.find((a) => a.type === 'video.tamper' && a.details?.['segment'] === id);
    assert.ok(alarm !== undefined, 'video.tamper alarm');
    assert.equal(alarm.severity, 'critical');
    assert.match(alarm.message, new RegExp(id));
    assert.equal((await video.catalog.get(id))?.state, 'tampered');

    // Reading the damaged copy fails at the damaged record, not silently.
    const row = await video.catalog.get(id);
    await video.catalog.update(id, { volumes: JSON.stringify(['disk-b']) });
    await assert.rejects(async () => {
      for await (const r of video.readSegment(id)) void r;
    }, (err: unknown) => isVigilError(err, 'VIGIL_VIDEO_SEGMENT_TAMPERED'));
    await video.catalog.update(id, { volumes: row?.volumes ?? '[]' });
    await video.close();
  });

  test('an edited catalog row or a removed segment breaks the signed chain', async () => {
    const video = await openVideo();
    const a = await record(video, 'cam-3', T0, 2);
    const b = await record(video, 'cam-3', T0 + 2000, 2);
    const c = await record(video, 'cam-3', T0 + 4000, 2);
    await video.finishSegment('cam-3');
    await video.catalog.update(a.id, { ended_at: T0 + 99_000 });
    assert.match((await video.verifySegment(a.id)).problems[0]?.message ?? '', /signature is invalid/);
    await get().store.db.deleteFrom('video_segments').where('id', '=', b.id).execute();
    const problems = (await video.verifySegment(c.id)).problems.map((p) => p.message).join(' | ');
    assert.match(problems, /segment 2 of the chain is missing/);
    await video.close();
  });

  test('NVR-5.1.5.2a/b: a failed mirror is replaced by the spare, rebuilt with no lost fragment', async () => {
    const video = await openVideo();
    const before = await record(video, 'cam-4', T0, 3);
    await video.finishSegment('cam-4');
    const writer = await video.startSegment('cam-4', INIT, T0 + 3000);
    await writer.appendFragment(fragment(0), T0 + 3000, 1000);
    // The disk goes away under the recorder.
    rmSync(path.join(root, 'b'), { recursive: true, force: true });
    await video.volumes.probe();
    await video.settled();
    assert.equal(video.volumes.get('disk-b')?.state, 'failed');
    assert.equal(video.volumes.get('disk-s')?.state, 'online', JSON.stringify(alarms.raised.filter((a) => a.type.startsWith('storage'))));
    assert.ok(alarms.raised.some((a) => a.type === 'storage.volume_failed' && a.source === 'volume:disk-b'));
    for (let i = 1; i < 4; i++) await writer.appendFragment(fragment(i), T0 + 3000 + i * 1000, 1000);
    const done = await video.finishSegment('cam-4');
    assert.deepEqual(parseVolumes(done?.volumes ?? '[]').sort(), ['disk-a', 'disk-s']);
    assert.equal(done?.fragments, 4);
    assert.deepEqual(parseVolumes((await video.catalog.get(before.id))?.volumes ?? '[]').sort(), ['disk-a', 'disk-s']);
    for (const id of [before.id, writer.id]) {
      const v = await video.verifySegment(id);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      assert.equal(v.copiesChecked, 2);
      assert.ok(existsSync(segmentPath({ path: path.join(root, 's') }, 'cam-4', id)));
    }
    // What the storage page shows: the spare in the mirror, the lost disk failed with its reason.
    const health = await video.health();
    assert.equal(health.mirror.state, 'healthy');
    assert.deepEqual(health.volumes.map((v) => [v.id, v.role, v.state, v.inMirror]), [['disk-a', 'mirror', 'online', true], ['disk-b', 'mirror', 'failed', false], ['disk-s', 'spare', 'online', true]]);
    assert.match(health.volumes[1]?.reason ?? '', /marker/);
    const onSpare = health.volumes[2];
    assert.ok((onSpare?.segments ?? 0) >= 2 && (onSpare?.segmentBytes ?? 0) > 0, JSON.stringify(onSpare));
    assert.equal(health.volumes[1]?.segments, 0, 'no catalog row points at the failed disk any more');
    await video.close();
  });

  test('after kill -9 mid-segment the torn record is cut and the segment finished and signed', async () => {
    const crashRoot = mkdtempSync(path.join(tmpdir(), 'vigil-video-crash-'));
    const config = videoConfig(crashRoot);
    const video = await openVideo(config);
    const writer = await video.startSegment('cam-5', INIT, T0);
    for (let i = 0; i < 3; i++) await writer.appendFragment(fragment(i), T0 + i * 1000, 1000);
    // The process dies: no finish, and half a record reached one disk.
    appendFileSync(segmentPath({ path: path.join(crashRoot, 'a') }, 'cam-5', writer.id), randomBytes(777));
    const reopened = await openVideo(config);
    const row = await reopened.catalog.get(writer.id);
    assert.equal(row?.state, 'complete');
    assert.equal(row?.fragments, 3);
    assert.equal(row?.ended_at, T0 + 3000);
    assert.equal((await reopened.verifySegment(writer.id)).ok, true);
    await reopened.close();
    rmSync(crashRoot, { recursive: true, force: true });
  });

  test('a segment still recording reads up to its last complete record; a half-written record is not tamper', async () => {
    const liveRoot = mkdtempSync(path.join(tmpdir(), 'vigil-video-open-'));
    const video = await openVideo(videoConfig(liveRoot));
    const writer = await video.startSegment('cam-open', INIT, T0);
    for (let i = 0; i < 3; i++) await writer.appendFragment(fragment(i), T0 + i * 1000, 1000);
    // The writer is in the middle of its next append on every copy: the header is out, part of the record too.
    const torn = Buffer.concat([encodeRecordHeader({ kind: 'fragment', index: 4, startMs: 3000, durationMs: 1000, sealedLength: 4096 }), randomBytes(100)]);
    for (const volume of ['a', 'b']) appendFileSync(segmentPath({ path: path.join(liveRoot, volume) }, 'cam-open', writer.id), torn);
    assert.equal((await video.catalog.get(writer.id))?.state, 'recording');
    const tampers = (): number => alarms.raised.filter((a) => a.type === 'video.tamper').length;
    const before = tampers();
    const kinds: string[] = [];
    for await (const r of video.readSegment(writer.id)) kinds.push(r.kind);
    assert.deepEqual(kinds, ['init', 'fragment', 'fragment', 'fragment']);
    assert.equal(tampers(), before, 'a torn tail of an open segment is no tamper');
    await video.close();
    rmSync(liveRoot, { recursive: true, force: true });
  });

  test('CAM-T-priv-1: retention shreds old segments (key first), the chain still verifies', async () => {
    const video = await openVideo();
    const old = await record(video, 'cam-6', T0, 2);
    const recent = await record(video, 'cam-6', T0 + 10 * 86_400_000, 2);
    await video.finishSegment('cam-6');
    clock.set(T0 + 12 * 86_400_000);
    assert.equal(await video.applyRetention('cam-6', 7), 1);
    const row = await video.catalog.get(old.id);
    assert.equal(row?.state, 'shredded');
    assert.equal(row?.wrapped_dek, null);
    assert.ok(!existsSync(segmentPath({ path: path.join(root, 'a') }, 'cam-6', old.id)));
    await assert.rejects(async () => {
      for await (const r of video.readSegment(old.id)) void r;
    }, (err: unknown) => isVigilError(err, 'VIGIL_VIDEO_SEGMENT_SHREDDED'));
    assert.equal((await video.verifySegment(recent.id)).ok, true);
    assert.ok(audit.events.some((e) => e.action === 'video.segment_shredded'));
    clock.set(T0);
    await video.close();
  });

  test('NVR-5.2.8.1b: the periodic walk re-verifies every segment and finds a changed one', async () => {
    const walkRoot = mkdtempSync(path.join(tmpdir(), 'vigil-video-walk-'));
    const video = await openVideo(videoConfig(walkRoot));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await record(video, 'cam-7', T0 + i * 3000, 2)).id);
    await video.finishSegment('cam-7');
    const victim = ids[3] ?? '';
    const file = segmentPath({ path: path.join(walkRoot, 'a') }, 'cam-7', victim);
    const bytes = readFileSync(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0x80;
    writeFileSync(file, bytes);
    const seen = new Map<string, boolean>();
    // Other tests' segments share this catalog: walk until the cursor has passed all of ours.
    for (let round = 0; round < 50 && seen.size < ids.length; round++) for (const r of await video.verifyNext(2)) if (ids.includes(r.segment)) seen.set(r.segment, r.ok);
    assert.equal(seen.size, 5, 'the walk covers every segment of the camera');
    assert.equal(seen.get(victim), false);
    assert.ok(alarms.raised.some((a) => a.type === 'video.tamper' && a.details?.['segment'] === victim));
    await video.close();
    rmSync(walkRoot, { recursive: true, force: true });
  });

  test('NVR-5.2.8.1a: a volume below the free-space threshold warns, and recording goes on over the oldest video', async () => {
    const fullRoot = mkdtempSync(path.join(tmpdir(), 'vigil-video-full-'));
    let free = 50;
    const video = await openVideo(videoConfig(fullRoot, { freeSpaceWarnPercent: 10 }), async () => ({ freeBytes: free, totalBytes: 100 }));
    const oldest = await record(video, 'cam-8', T0, 2);
    await record(video, 'cam-8', T0 + 2000, 2);
    await video.finishSegment('cam-8');
    assert.equal(await video.healthTick(), 0, 'nothing is deleted while there is room');
    free = 5;
    assert.ok((await video.healthTick()) >= 1);
    assert.equal((await video.catalog.get(oldest.id))?.state, 'shredded');
    assert.ok(alarms.raised.some((a) => a.type === 'storage.low_space' && a.severity === 'warning'));
    assert.ok(alarms.raised.some((a) => a.type === 'storage.overwriting'));
    assert.deepEqual((await video.health()).volumes.map((v) => [v.freePercent, v.lowSpace]), [[5, true], [5, true], [5, true]], 'every volume shows its space against the threshold, the spare too (it alarms too)');
    await video.close();
    rmSync(fullRoot, { recursive: true, force: true });
  });

  test('a camera id that could escape the volume directory is refused', async () => {
    const video = await openVideo();
    await assert.rejects(video.startSegment('../etc', INIT, T0), (err: unknown) => isVigilError(err, 'VIGIL_VALIDATION'));
    await video.close();
    await keyring?.close();
    rmSync(root, { recursive: true, force: true });
  });
});
