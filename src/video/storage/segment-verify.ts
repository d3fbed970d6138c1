// Verification of one catalogued segment (NVR-5.2.8.1b): the row's signature, its link to the
// camera's previous segment, and the SHA-256 of every copy. Each problem names what failed.
import { sha256File } from './segment-reader.ts';
import { rowSignatureValid } from './segment-seal.ts';
import { GENESIS_HASH, type SegmentCatalog, type SegmentRow } from './catalog.ts';
import { segmentPath, type VolumeSet } from './volumes.ts';

export interface SegmentProblem {
  /** Volume id for a copy problem, '' for a catalog problem. */
  volume: string;
  message: string;
}

export interface SegmentVerification {
  segment: string;
  ok: boolean;
  copiesChecked: number;
  problems: SegmentProblem[];
}

export async function verifySegmentRow(row: SegmentRow, deps: { catalog: SegmentCatalog; volumes: VolumeSet; publicKeyPem: string }): Promise<SegmentVerification> {
  const problems: SegmentProblem[] = [];
  let copiesChecked = 0;
  if (row.state === 'recording') return { segment: row.id, ok: true, copiesChecked, problems };
  if (!rowSignatureValid(row, deps.publicKeyPem)) problems.push({ volume: '', message: 'catalog row signature is invalid (row edited?)' });
  const previous = await deps.catalog.previous(row.camera_id, row.seq);
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (previous !== undefined && previous.seq !== row.seq - 1) problems.push({ volume: '', message: `segment ${row.seq - 1} of the chain is missing` });
  if (row.prev_hash !== expectedPrev) problems.push({ volume: '', message: 'chain link does not match the previous segment' });
  if (row.state !== 'shredded') {
    for (const volumeId of JSON.parse(row.volumes) as string[]) {
      const volume = deps.volumes.get(volumeId);
      if (volume === undefined || volume.state === 'failed') continue;
      copiesChecked++;
      const hash = await sha256File(segmentPath(volume, row.camera_id, row.id)).catch((err: NodeJS.ErrnoException) => `unreadable (${err.code ?? err.message})`);
      if (hash !== row.hash) problems.push({ volume: volumeId, message: hash.startsWith('unreadable') ? `copy is ${hash}` : 'copy does not match its signed hash (changed bytes)' });
    }
  }
  return { segment: row.id, ok: problems.length === 0, copiesChecked, problems };
}
