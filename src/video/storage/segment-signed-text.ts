// The exact text a finished segment's catalog signature covers (NVR-5.2.8.1b). No Node APIs: the
// recorder signs it (segment-seal.ts) and the offline evidence verifier, in the CLI and in the
// browser, checks it again from an evidence manifest.

export interface SignedSegmentFields {
  id: string;
  camera_id: string;
  seq: number;
  started_at: number;
  ended_at: number | null;
  fragments: number;
  bytes: number;
  hash: string | null;
  prev_hash: string;
}

export function segmentSignedText(row: SignedSegmentFields): string {
  return JSON.stringify(['vigil.segment.v1', row.id, row.camera_id, row.seq, row.started_at, row.ended_at, row.fragments, row.bytes, row.hash, row.prev_hash]);
}
