// The signed catalog row of a finished segment (NVR-5.2.8.1b): the segment file's SHA-256,
// chained to the camera's previous segment and signed with the device key, so an edited file,
// an edited row, a removed or a reordered segment is detected and named.
import { verifySignature, type DeviceSigner } from '../../crypto/signer.ts';
import type { SegmentRow } from './catalog.ts';
import { segmentSignedText, type SignedSegmentFields } from './segment-signed-text.ts';

/** The fields the signature covers, in a fixed order (segment-signed-text.ts). */
export function signedPayload(row: SignedSegmentFields): Buffer {
  return Buffer.from(segmentSignedText(row), 'utf8');
}

export function signRow(row: SegmentRow, signer: DeviceSigner): { signature: string; key_id: string } {
  return { signature: signer.sign(signedPayload(row)).toString('base64'), key_id: signer.keyId };
}

export function rowSignatureValid(row: SegmentRow, publicKeyPem: string): boolean {
  if (row.signature === null || row.hash === null) return false;
  return verifySignature(publicKeyPem, signedPayload(row), Buffer.from(row.signature, 'base64'));
}
