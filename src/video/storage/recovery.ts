// After a crash (kill -9, power cut): segments left 'recording' are cut back to their last whole,
// authenticated record on every copy, the best copy is made the reference, and the row is
// finished and signed. Nothing half-written stays indexed; at most the fragment in flight is lost.
import { createHash } from 'node:crypto';
import { copyFile, stat, truncate } from 'node:fs/promises';
import type { AuditSink } from '../../audit/types.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceSigner } from '../../crypto/signer.ts';
import type { SegmentCatalog, SegmentRow } from './catalog.ts';
import { scanSegmentFile, sha256File, type ScanResult } from './segment-reader.ts';
import { signRow } from './segment-seal.ts';
import { segmentPath, type VolumeSet } from './volumes.ts';

export interface RecoveryDeps {
  catalog: SegmentCatalog;
  volumes: VolumeSet;
  signer: DeviceSigner;
  unwrap(row: SegmentRow): Promise<Buffer>;
  logger: Logger;
  audit: AuditSink;
}

const BATCH = 100;
/** SHA-256 of no bytes: the hash of a segment of which nothing survived. */
const EMPTY_HASH = createHash('sha256').digest('hex');

export async function recoverInterrupted(deps: RecoveryDeps): Promise<number> {
  let recovered = 0;
  for (;;) {
    const rows = await deps.catalog.inState('recording', BATCH);
    if (rows.length === 0) return recovered;
    for (const row of rows) {
      await recoverOne(row, deps);
      recovered++;
    }
  }
}

async function recoverOne(row: SegmentRow, deps: RecoveryDeps): Promise<void> {
  const dek = await deps.unwrap(row);
  const copies: Array<{ volume: string; file: string; scan: ScanResult }> = [];
  try {
    for (const v of deps.volumes.online()) {
      const file = segmentPath(v, row.camera_id, row.id);
      if (!(await stat(file).then(() => true, () => false))) continue;
      copies.push({ volume: v.id, file, scan: await scanSegmentFile(file, row.id, dek) });
    }
  } finally {
    dek.fill(0);
  }
  const best = copies.filter((c) => c.scan.records > 0).sort((a, b) => b.scan.goodBytes - a.scan.goodBytes)[0];
  if (best === undefined) {
    // Nothing usable was written: the row goes, with the key (no video existed).
    await deps.catalog.update(row.id, { state: 'shredded', wrapped_dek: null, ended_at: row.started_at, hash: EMPTY_HASH, fragments: 0, bytes: 0, volumes: '[]' });
    const done = await deps.catalog.get(row.id);
    if (done !== undefined) await deps.catalog.update(row.id, signRow(done, deps.signer));
    return;
  }
  await truncate(best.file, best.scan.goodBytes);
  for (const c of copies) if (c !== best) await copyFile(best.file, c.file);
  const finished: SegmentRow = {
    ...row,
    state: 'complete',
    ended_at: row.started_at + best.scan.endMs,
    fragments: best.scan.fragments,
    bytes: best.scan.goodBytes,
    hash: await sha256File(best.file),
    volumes: JSON.stringify(copies.map((c) => c.volume)),
  };
  const sig = signRow(finished, deps.signer);
  await deps.catalog.update(row.id, { state: finished.state, ended_at: finished.ended_at, fragments: finished.fragments, bytes: finished.bytes, hash: finished.hash, volumes: finished.volumes, ...sig });
  deps.logger.warn({ segment: row.id, camera: row.camera_id, fragments: finished.fragments, cutAt: best.scan.problem }, 'recovered an interrupted segment');
  deps.audit.record({ category: 'video', action: 'video.segment_recovered', actor: 'system', source: 'local', target: `camera:${row.camera_id}`, outcome: 'success', details: { segment: row.id, fragments: finished.fragments } });
}
