// The signed catalog row of a finished segment (NVR-5.2.8.1b): the segment file's SHA-256,
// chained to the camera's previous segment and signed with the device key, so an edited file,
// an edited row, a removed or a reordered segment is detected and named.
import { verifySignature, type DeviceSigner } from '../../crypto/signer.ts';
import type { SegmentRow } from './catalog.ts';

/** The fields the signature covers, in a fixed order. */
export function signedPayload(row: Pick<SegmentRow, 'id' | 'camera_id' | 'seq' | 'started_at' | 'ended_at' | 'fragments' | 'bytes' | 'hash' | 'prev_hash'>): Buffer {
  return Buffer.from(
    JSON.stringify(['vigil.segment.v1', row.id, row.camera_id, row.seq, row.started_at, row.ended_at, row.fragments, row.bytes, row.hash, row.prev_hash]),
    'utf8',
  );
}

export function signRow(row: SegmentRow, signer: DeviceSigner): { signature: string; key_id: string } {
  return { signature: signer.sign(signedPayload(row)).toString('base64'), key_id: signer.keyId };
}

export function rowSignatureValid(row: SegmentRow, publicKeyPem: string): boolean {
  if (row.signature === null || row.hash === null) return false;
  return verifySignature(publicKeyPem, signedPayload(row), Buffer.from(row.signature, 'base64'));
}
