// Video backup and restore on real files and both databases: full backup round trip
// (NVR-5.2.9.1a), directory targets for a second disk or removable media (NVR-5.1.5.1a/b),
// manual + scheduled incremental runs (NVR-5.1.5.1c), encrypted backups (NVR-5.2.9.2a),
// tamper detection before restore, restore on a replacement device with the recovery passphrase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestStore, describeOnEachStore } from '../../test/helpers/stores.ts';
import { ManualClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { isVigilError } from '../core/errors.ts';
import { Keyring } from '../crypto/keyring.ts';
import type { Store } from '../store/database.ts';
import { RecordingAlarmSink, RecordingAuditSink, silentLogger } from '../audit/test-doubles.ts';
import { readSegmentFile } from '../video/storage/segment-reader.ts';
import { SEGMENT_KEY_PURPOSE, VideoStore } from '../video/storage/video-store.ts';
import { unwrapBackupKey } from './backup-keys.ts';
import { BackupService } from './backup-service.ts';
import { DirectoryTarget } from './directory-target.ts';
import { manifestObject, parseManifest, signatureObject } from './manifest.ts';
import { BackupScheduler } from './scheduler.ts';
import type { BackupTarget } from './target.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const PASSPHRASE = 'correct horse battery staple 42';
const H264_IDR = Buffer.from([0, 0, 0, 1, 0x65]);

/** A fake fMP4 fragment: recognisable box names and an H.264 start code around random bytes. */
function fragment(n: number): Buffer {
  return Buffer.concat([Buffer.from(`moof-mdat-${n}`), H264_IDR, randomBytes(1500 + n)]);
}
const INIT = Buffer.concat([Buffer.from('....ftypisom....moov'), randomBytes(200)]);

function videoConfig(root: string, disks: [string, string]): Config['video'] {
  return {
    volumes: disks.map((d) => ({ id: `disk-${d}`, path: path.join(root, d), role: 'mirror' as const })),
    mirrorCopies: 2,
    segmentSeconds: 60,
    signalLossSeconds: 5,
    syncEachFragment: false,
    freeSpaceWarnPercent: 1,
    healthCheckSeconds: 300,
    verifyEveryHours: 24,
  };
}

function keyringConfig(kekFile: string): Config['keyring'] {
  return { kek: 'file', kekFile, pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

interface Device {
  store: Store;
  keyring: Keyring;
  video: VideoStore;
  service: BackupService;
  audit: RecordingAuditSink;
  alarms: RecordingAlarmSink;
}

const clock = new ManualClock(T0);

async function openDevice(store: Store, keyring: Keyring, root: string, disks: [string, string]): Promise<Device> {
  const audit = new RecordingAuditSink();
  const alarms = new RecordingAlarmSink();
  const signer = await keyring.deviceSigner();
  const video = await VideoStore.open({ store, keyring, signer, alarms, audit, clock, logger: silentLogger(), config: videoConfig(root, disks), dataDir: root });
  const service = new BackupService({ video, keyring, signer, audit, clock, deviceName: 'nvr-test', mirrorCopies: 2 });
  return { store, keyring, video, service, audit, alarms };
}

/** Records `count` finished segments on `camera`; returns their ids and every record's payload. */
async function record(video: VideoStore, camera: string, count: number): Promise<Map<string, Buffer[]>> {
  const out = new Map<string, Buffer[]>();
  for (let s = 0; s < count; s++) {
    const start = clock.now();
    const writer = await video.startSegment(camera, INIT, start);
    const payloads: Buffer[] = [INIT];
    for (let i = 0; i < 3; i++) {
      const p = fragment(i);
      payloads.push(p);
      await writer.appendFragment(p, start + i * 1000, 1000);
    }
    out.set(writer.id, payloads);
    clock.advance(3000);
  }
  await video.finishSegment(camera);
  return out;
}

async function readBack(video: VideoStore, id: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const r of video.readSegment(id)) out.push(r.payload);
  return out;
}

async function newTarget(root: string, name: string): Promise<DirectoryTarget> {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return DirectoryTarget.open({ root: dir });
}

/** The device lost its video volumes (and catalog rows); keys and database survived. */
async function loseVideo(device: Device, root: string, cameras: string[], disks: [string, string]): Promise<Device> {
  await device.video.close();
  await device.store.db.deleteFrom('video_segments').where('camera_id', 'in', cameras).execute();
  for (const d of ['a', 'b', 'c', 'd']) rmSync(path.join(root, d), { recursive: true, force: true });
  return openDevice(device.store, device.keyring, root, disks);
}

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  writeFileSync(file, bytes);
}

async function segmentCount(store: Store, cameras: string[]): Promise<number> {
  return (await store.db.selectFrom('video_segments').select('id').where('camera_id', 'in', cameras).execute()).length;
}

describeOnEachStore('video backup', (get, dialect) => {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-backup-'));
  let keyring: Keyring | undefined;
  async function device(disks: [string, string] = ['a', 'b']): Promise<Device> {
    keyring ??= await Keyring.open({ config: keyringConfig(path.join(root, 'keyring', 'kek.key')), store: get().store, clock });
    return openDevice(get().store, keyring, root, disks);
  }

  test('NVR-5.2.9.1a, NVR-5.1.5.1a/b: full backup → verify → restore onto new volumes reads back byte-identical and verifies', async () => {
    let d = await device();
    const recorded = new Map([...(await record(d.video, 'cam-1', 3)), ...(await record(d.video, 'cam-2', 2))]);
    const target = await newTarget(root, 'usb-1');
    const run = await d.service.backup(target, { kind: 'full', cameras: ['cam-1', 'cam-2'] }, { actor: 'user:admin', source: 'local' });
    assert.equal(run.sets.length, 1);
    assert.equal(run.segments, 5);
    assert.equal(run.copied, 5);
    const id = run.sets[0] ?? '';
    assert.deepEqual(await d.service.list(target, { limit: 10 }), [id]);

    const v = await d.service.verify(target, id);
    assert.deepEqual(v.problems, []);
    assert.equal(v.ok, true);
    assert.equal(v.filesChecked, 5);
    assert.equal(v.signedBy, (await d.keyring.deviceSigner()).keyId);

    const before = d;
    d = await loseVideo(d, root, ['cam-1', 'cam-2'], ['c', 'd']);
    assert.equal(await segmentCount(d.store, ['cam-1', 'cam-2']), 0);
    const restored = await d.service.restore(target, id);
    assert.equal(restored.restored, 5);
    assert.equal(restored.resigned, false);
    for (const [segment, payloads] of recorded) {
      const check = await d.video.verifySegment(segment);
      assert.deepEqual(check.problems, [], segment);
      assert.equal(check.copiesChecked, 2, 'restored onto both mirrors');
      assert.deepEqual(await readBack(d.video, segment), payloads, 'byte-identical after restore');
    }
    // Restoring again skips what is present, writes nothing twice.
    assert.equal((await d.service.restore(target, id)).alreadyPresent, 5);
    const actions = [...before.audit.events, ...d.audit.events].filter((e) => e.category === 'backup').map((e) => `${e.action}:${e.outcome}`);
    assert.deepEqual(actions, ['backup.start:success', 'backup.finish:success', 'backup.verify:success', 'backup.restore:success', 'backup.restore:success']);
    assert.equal(before.audit.events.find((e) => e.action === 'backup.start')?.actor, 'user:admin');
    await d.video.close();
  });

  test('NVR-5.2.9.2a: the backup holds no plaintext video and no plaintext key, and a segment does not open without its key', async () => {
    const d = await device(['a', 'b']);
    const recorded = await record(d.video, 'cam-3', 2);
    const target = await newTarget(root, 'usb-2');
    const run = await d.service.backup(target, { kind: 'full', cameras: ['cam-3'], recoveryPassphrase: PASSPHRASE });
    const id = run.sets[0] ?? '';
    const manifest = parseManifest(readFileSync(path.join(root, 'usb-2', ...manifestObject(id).split('/'))));
    const secrets: Buffer[] = [];
    const backupKey = await unwrapBackupKey(manifest.keys, id, { keyring: d.keyring });
    secrets.push(backupKey);
    for (const segment of recorded.keys()) {
      const row = await d.video.catalog.get(segment);
      assert.ok(row?.wrapped_dek);
      secrets.push(await d.keyring.open(SEGMENT_KEY_PURPOSE, row.wrapped_dek, segment));
    }
    secrets.push(readFileSync(path.join(root, 'keyring', 'kek.key')));
    const files = filesUnder(path.join(root, 'usb-2'));
    assert.equal(files.filter((f) => f.endsWith('.vseg')).length, 2);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const needle of ['ftyp', 'moov', 'moof', 'mdat']) assert.equal(bytes.indexOf(needle), -1, `${needle} in ${f}`);
      assert.equal(bytes.indexOf(H264_IDR), -1, `an H.264 start code in clear in ${f}`);
      for (const s of secrets) {
        for (const form of [s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('base64'))]) assert.equal(bytes.indexOf(form), -1, `key material in ${f}`);
      }
      assert.equal(statSync(f).mode & 0o077, 0, 'backup files are private');
    }
    // A copied backup without its key: the sealed records do not open.
    const vseg = files.find((f) => f.endsWith('.vseg')) ?? '';
    const segment = path.basename(vseg).slice(0, 36);
    await assert.rejects(async () => {
      for await (const r of readSegmentFile(vseg, segment, randomBytes(32))) void r;
    }, (err: unknown) => isVigilError(err, 'VIGIL_VIDEO_SEGMENT_TAMPERED'));
    await assert.rejects(unwrapBackupKey(manifest.keys, id, { keyring: d.keyring, passphrase: 'not the passphrase!' }), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_KEY_UNAVAILABLE'));
    for (const s of secrets) s.fill(0);
    await d.video.close();
  });

  test('NVR-5.2.9.2a: after hardware loss the recovery passphrase restores the backup on a replacement device (fresh store, other KEK)', async () => {
    const d = await device(['a', 'b']);
    const recorded = await record(d.video, 'cam-4', 2);
    const target = await newTarget(root, 'usb-3');
    const id = (await d.service.backup(target, { kind: 'full', cameras: ['cam-4'], recoveryPassphrase: PASSPHRASE })).sets[0] ?? '';
    await d.video.close();

    const fresh = await createTestStore(dialect);
    const otherRoot = mkdtempSync(path.join(tmpdir(), 'vigil-replacement-'));
    try {
      const otherKeyring = await Keyring.open({ config: keyringConfig(path.join(otherRoot, 'keyring', 'kek.key')), store: fresh.store, clock });
      const replacement = await openDevice(fresh.store, otherKeyring, otherRoot, ['a', 'b']);
      await assert.rejects(replacement.service.restore(target, id), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_KEY_UNAVAILABLE'));
      await assert.rejects(replacement.service.restore(target, id, { recoveryPassphrase: 'wrong passphrase here' }), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_KEY_UNAVAILABLE'));
      assert.equal(await segmentCount(fresh.store, ['cam-4']), 0, 'a refused restore writes no row');
      assert.equal(filesUnder(otherRoot).filter((f) => f.endsWith('.vseg')).length, 0, 'a refused restore writes no file');

      const r = await replacement.service.restore(target, id, { recoveryPassphrase: PASSPHRASE });
      assert.equal(r.restored, 2);
      assert.equal(r.resigned, true, 'rows re-signed by the replacement device');
      assert.notEqual(r.signedBy, (await otherKeyring.deviceSigner()).keyId);
      for (const [segment, payloads] of recorded) {
        assert.deepEqual((await replacement.video.verifySegment(segment)).problems, [], segment);
        assert.deepEqual(await readBack(replacement.video, segment), payloads);
      }
      const event = replacement.audit.events.find((e) => e.action === 'backup.restore' && e.outcome === 'success');
      assert.equal(event?.details?.['resigned'], true);
      await replacement.video.close();
      await otherKeyring.close();
    } finally {
      await fresh.dispose();
      rmSync(otherRoot, { recursive: true, force: true });
    }
  });

  test('a flipped byte in a backed-up segment file or in the manifest is named by verify, and restore refuses writing nothing', async () => {
    let d = await device(['a', 'b']);
    await record(d.video, 'cam-5', 2);
    const dir = path.join(root, 'usb-4');
    const target = await newTarget(root, 'usb-4');
    const id = (await d.service.backup(target, { kind: 'full', cameras: ['cam-5'] })).sets[0] ?? '';
    d = await loseVideo(d, root, ['cam-5'], ['a', 'b']);

    const segmentFile = filesUnder(dir).find((f) => f.endsWith('.vseg')) ?? '';
    const segmentName = path.relative(dir, segmentFile).split(path.sep).join('/');
    flipByte(segmentFile, -100);
    const v = await d.service.verify(target, id);
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems.map((p) => p.object), [segmentName]);
    assert.match(v.problems[0]?.message ?? '', /does not match its signed SHA-256/);
    await assert.rejects(d.service.restore(target, id), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
    assert.equal(await segmentCount(d.store, ['cam-5']), 0);
    assert.equal(filesUnder(path.join(root, 'a')).filter((f) => f.endsWith('.vseg') || f.includes('.restore-')).length, 0);
    flipByte(segmentFile, -100);
    assert.equal((await d.service.verify(target, id)).ok, true, 'flipped back: verifies again');

    // One changed character in the manifest (still valid JSON): the signature no longer holds.
    const manifestFile = path.join(dir, ...manifestObject(id).split('/'));
    const text = readFileSync(manifestFile, 'utf8');
    writeFileSync(manifestFile, text.replace('"fragments":3', '"fragments":4'));
    const m = await d.service.verify(target, id);
    assert.equal(m.ok, false);
    assert.ok(m.problems.some((p) => p.object === manifestObject(id) && /signature/.test(p.message)), JSON.stringify(m.problems));
    await assert.rejects(d.service.restore(target, id), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
    writeFileSync(manifestFile, text);

    flipByte(path.join(dir, ...signatureObject(id).split('/')), 40);
    assert.equal((await d.service.verify(target, id)).ok, false, 'a changed signature object fails too');
    await assert.rejects(d.service.restore(target, id), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_INVALID'));
    assert.equal(await segmentCount(d.store, ['cam-5']), 0);
    const failures = d.audit.events.filter((e) => e.action === 'backup.restore' && e.outcome === 'failure');
    assert.equal(failures.length, 3);
    await d.video.close();
  });

  test('NVR-5.1.5.1c: incremental runs copy only segments the target does not hold (id + hash); all sets restore the chain', async () => {
    let d = await device(['a', 'b']);
    const first = await record(d.video, 'cam-6', 3);
    const dir = path.join(root, 'disk-2');
    const target = await newTarget(root, 'disk-2');
    const one = await d.service.backup(target, { kind: 'incremental', cameras: ['cam-6'], segmentsPerSet: 2 });
    assert.equal(one.copied, 3);
    assert.equal(one.sets.length, 2, 'sets are bounded: 3 segments at 2 per set');
    const firstFiles = new Map(filesUnder(dir).filter((f) => f.endsWith('.vseg')).map((f) => [f, statSync(f).mtimeMs]));

    const second = await record(d.video, 'cam-6', 1);
    const two = await d.service.backup(target, { kind: 'incremental', cameras: ['cam-6'] });
    assert.equal(two.copied, 1);
    assert.equal(two.alreadyPresent, 3);
    assert.equal(two.segments, 1);
    for (const [f, mtime] of firstFiles) assert.equal(statSync(f).mtimeMs, mtime, `${f} was not copied again`);

    const three = await d.service.backup(target, { kind: 'incremental', cameras: ['cam-6'] });
    assert.deepEqual([three.copied, three.sets.length], [0, 0], 'nothing new: nothing written');
    const full = await d.service.backup(target, { kind: 'full', cameras: ['cam-6'] });
    assert.deepEqual([full.copied, full.alreadyPresent, full.segments], [0, 4, 4]);
    assert.equal(filesUnder(dir).filter((f) => f.endsWith('.vseg')).length, 4);

    const sets = await d.service.list(target, { limit: 100 });
    assert.equal(sets.length, 4);
    d = await loseVideo(d, root, ['cam-6'], ['a', 'b']);
    let restored = 0;
    for (const id of [...one.sets, ...two.sets]) restored += (await d.service.restore(target, id)).restored;
    assert.equal(restored, 4);
    for (const [segment, payloads] of [...first, ...second]) {
      assert.deepEqual((await d.video.verifySegment(segment)).problems, [], 'chain intact after restoring the incremental sets');
      assert.deepEqual(await readBack(d.video, segment), payloads);
    }
    await d.video.close();
  });

  test('NVR-5.1.5.1c: a failed scheduled backup raises backup.failed, the next success clears it; runs never overlap', async () => {
    const d = await device(['a', 'b']);
    await record(d.video, 'cam-7', 1);
    const dir = path.join(root, 'usb-sched');
    const scheduler = new BackupScheduler({
      service: d.service,
      openTarget: () => DirectoryTarget.open({ root: dir }),
      targetName: 'usb-sched',
      everyHours: 24,
      alarms: d.alarms,
      logger: silentLogger(),
      runOptions: () => ({ cameras: ['cam-7'] }),
    });
    scheduler.start();
    assert.equal(await scheduler.tick(), undefined, 'medium not mounted: the run fails');
    const alarm = d.alarms.raised.find((a) => a.type === 'backup.failed');
    assert.ok(alarm !== undefined);
    assert.equal(alarm.severity, 'critical');
    assert.match(alarm.message, /usb-sched/);
    const backupCleared = (): string[] => d.alarms.cleared.map((c) => c.dedupeKey).filter((k) => k.startsWith('backup.'));
    assert.deepEqual(backupCleared(), []);

    mkdirSync(dir);
    const [a, b] = await Promise.all([scheduler.tick(), scheduler.tick()]);
    assert.equal(a?.copied, 1);
    assert.equal(b, undefined, 'a second tick while a run is going is skipped');
    assert.deepEqual(backupCleared(), [alarm.dedupeKey]);
    assert.equal(d.audit.events.filter((e) => e.action === 'backup.start').length, 1);
    await scheduler.stop();
    await d.video.close();
  });

  test('NVR-5.1.5.1c: a target failing mid-run fails the backup (audited) and leaves no listed set', async () => {
    const d = await device(['a', 'b']);
    await record(d.video, 'cam-8', 2);
    const inner = await newTarget(root, 'flaky');
    let puts = 0;
    const flaky: BackupTarget = {
      description: 'flaky',
      put: async (name, data, options) => {
        if (++puts === 2) throw new Error('EIO: medium removed');
        return inner.put(name, data, options);
      },
      get: (name) => inner.get(name),
      stat: (name) => inner.stat(name),
      list: (prefix, options) => inner.list(prefix, options),
      delete: (name) => inner.delete(name),
    };
    await assert.rejects(d.service.backup(flaky, { kind: 'full', cameras: ['cam-8'] }), /medium removed/);
    assert.deepEqual(await d.service.list(inner, { limit: 10 }), []);
    const finish = d.audit.events.find((e) => e.action === 'backup.finish');
    assert.equal(finish?.outcome, 'failure');
    await d.video.close();
  });

  test('NVR-5.2.9.1a: a full backup keeps shredded rows for the chain, leaves out a tampered local copy (tamper alarm), and a restore over other recordings refuses', async () => {
    let d = await device(['a', 'b']);
    const recorded = [...(await record(d.video, 'cam-9', 4))];
    const [shredded, kept, damaged, last] = recorded.map(([id]) => id);
    assert.ok(shredded !== undefined && kept !== undefined && damaged !== undefined && last !== undefined);
    await d.video.shred(shredded, 'retention');
    for (const disk of ['a', 'b']) flipByte(path.join(root, disk, 'cam-9', `${damaged}.vseg`), -50);
    const target = await newTarget(root, 'usb-5');
    const run = await d.service.backup(target, { kind: 'full', cameras: ['cam-9'] });
    assert.deepEqual([run.segments, run.copied, run.skippedCount], [3, 2, 1]);
    assert.equal(run.skipped[0]?.segment, damaged);
    assert.ok(d.alarms.raised.some((a) => a.type === 'video.tamper' && a.details?.['segment'] === damaged), 'the damaged local copy raises the tamper alarm');
    const id = run.sets[0] ?? '';
    assert.equal((await d.service.verify(target, id)).ok, true);

    // Another recording now occupies the camera's chain: the restore refuses, writing nothing.
    d = await loseVideo(d, root, ['cam-9'], ['a', 'b']);
    await record(d.video, 'cam-9', 1);
    await assert.rejects(d.service.restore(target, id), (err: unknown) => isVigilError(err, 'VIGIL_BACKUP_CONFLICT'));
    assert.equal(await segmentCount(d.store, ['cam-9']), 1);

    d = await loseVideo(d, root, ['cam-9'], ['a', 'b']);
    const r = await d.service.restore(target, id);
    assert.deepEqual([r.restored, r.rowsOnly], [2, 1]);
    assert.equal((await d.video.catalog.get(shredded))?.state, 'shredded');
    assert.deepEqual((await d.video.verifySegment(kept)).problems, [], 'chained to the restored shredded row');
    assert.deepEqual(await readBack(d.video, kept), recorded[1]?.[1]);
    assert.match((await d.video.verifySegment(last)).problems.map((p) => p.message).join(), /segment 3 of the chain is missing/, 'the left-out segment is reported, not hidden');
    await d.video.close();
  });

  test('cleanup', async () => {
    await keyring?.close();
    rmSync(root, { recursive: true, force: true });
  });
});
