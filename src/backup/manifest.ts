// The backup set's manifest (NVR-5.2.9.1a): which segments it holds, each with its signed catalog
// row and its key re-wrapped under the per-backup key, and how that key is wrapped. The manifest
// is signed with the device key (Ed25519) and MACed under the backup key, in a sidecar object:
//
//   sets/<backupId>/manifest.json   canonical JSON (this file's serializeManifest)
//   sets/<backupId>/manifest.sig    {"format":"vigil.backup.sig.v1","signedBy","signature","mac"}
//   segments/<cameraId>/<segmentId>-<sha256>.vseg   sealed segment file, byte for byte
//
// Segment objects are named by id and hash, so sets share them and an incremental backup copies
// only what the target does not hold yet.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { VigilError } from '../core/errors.ts';
import { verifySignature, type DeviceSigner } from '../crypto/signer.ts';

export const MANIFEST_FORMAT = 'vigil.backup.v1';
export const SIGNATURE_FORMAT = 'vigil.backup.sig.v1';
/** Segments per backup set: bounds the manifest (~1 KiB per entry) a backup or restore holds. */
export const MAX_SEGMENTS_PER_SET = 5000;
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 4096;
export const MAX_CAMERAS = 1024;
const BACKUP_ID = '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$';
const HEX64 = '^[0-9a-f]{64}$';
const B64 = '^[A-Za-z0-9+/]*={0,2}$';
const CAMERA = '^[a-z0-9][a-z0-9-]{0,63}$';
const UUIDISH = '^[0-9a-f-]{36}$';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

const SegmentEntry = Type.Object(
  {
    id: Type.String({ pattern: UUIDISH }),
    cameraId: Type.String({ pattern: CAMERA }),
    seq: Type.Integer({ minimum: 1 }),
    state: Type.Union([Type.Literal('complete'), Type.Literal('shredded'), Type.Literal('tampered')]),
    startedAt: Type.Integer({ minimum: 0 }),
    endedAt: Nullable(Type.Integer({ minimum: 0 })),
    fragments: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    hash: Nullable(Type.String({ pattern: HEX64 })),
    prevHash: Type.String({ pattern: HEX64 }),
    signature: Nullable(Type.String({ pattern: B64, maxLength: 200 })),
    signedBy: Nullable(Type.String({ maxLength: 200 })),
    /** Object holding the sealed file; null for a row kept only for the chain (shredded, tampered). */
    object: Nullable(Type.String({ maxLength: 512 })),
    /** The segment key sealed under the backup's segment-wrap key (base64); null with object. */
    key: Nullable(Type.String({ pattern: B64, maxLength: 200 })),
  },
  { additionalProperties: false },
);

const ManifestSchema = Type.Object(
  {
    format: Type.Literal(MANIFEST_FORMAT),
    id: Type.String({ pattern: BACKUP_ID }),
    run: Type.String({ pattern: BACKUP_ID }),
    part: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    kind: Type.Union([Type.Literal('full'), Type.Literal('incremental')]),
    createdAt: Type.String({ maxLength: 40 }),
    device: Type.Object({ name: Type.String({ maxLength: 64 }), keyId: Type.String({ pattern: HEX64 }), publicKeyPem: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
    cameras: Type.Array(Type.String({ pattern: CAMERA }), { maxItems: MAX_CAMERAS }),
    range: Type.Object({ from: Nullable(Type.Integer()), to: Nullable(Type.Integer()) }, { additionalProperties: false }),
    keys: Type.Object(
      {
        device: Nullable(Type.String({ pattern: B64, maxLength: 200 })),
        deviceKek: Nullable(Type.String({ maxLength: 300 })),
        recovery: Type.Union([
          Type.Object(
            { kdf: Type.Literal('pbkdf2-hmac-sha256'), iterations: Type.Integer(), salt: Type.String({ pattern: B64, maxLength: 64 }), sealed: Type.String({ pattern: B64, maxLength: 200 }) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
      },
      { additionalProperties: false },
    ),
    segments: Type.Array(SegmentEntry, { maxItems: MAX_SEGMENTS_PER_SET }),
  },
  { additionalProperties: false },
);

const SignatureSchema = Type.Object(
  { format: Type.Literal(SIGNATURE_FORMAT), signedBy: Type.String({ pattern: HEX64 }), signature: Type.String({ pattern: B64, maxLength: 200 }), mac: Type.String({ pattern: B64, maxLength: 100 }) },
  { additionalProperties: false },
);

export type ManifestSegment = Static<typeof SegmentEntry>;
export type BackupManifest = Static<typeof ManifestSchema>;
export type ManifestSignature = Static<typeof SignatureSchema>;

const ajv = new Ajv({ allErrors: false, strict: false });
const validateManifest = ajv.compile<BackupManifest>(ManifestSchema);
const validateSignature = ajv.compile<ManifestSignature>(SignatureSchema);

export function newBackupId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export const manifestObject = (backupId: string): string => `sets/${backupId}/manifest.json`;
export const signatureObject = (backupId: string): string => `sets/${backupId}/manifest.sig`;
export const segmentObject = (cameraId: string, segmentId: string, hash: string): string => `segments/${cameraId}/${segmentId}-${hash}.vseg`;

export function serializeManifest(m: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m)}\n`, 'utf8');
}

/** What the device key signs: the exact manifest bytes, with a domain-separation prefix. */
function signedBytes(manifestBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MANIFEST_FORMAT}\0`), manifestBytes]);
}

export function signManifest(manifestBytes: Buffer, signer: DeviceSigner, mac: string): Buffer {
  const sig: ManifestSignature = { format: SIGNATURE_FORMAT, signedBy: signer.keyId, signature: signer.sign(signedBytes(manifestBytes)).toString('base64'), mac };
  return Buffer.from(`${JSON.stringify(sig)}\n`, 'utf8');
}

export function manifestSignatureValid(manifestBytes: Buffer, sig: ManifestSignature, publicKeyPem: string): boolean {
  return verifySignature(publicKeyPem, signedBytes(manifestBytes), Buffer.from(sig.signature, 'base64'));
}

export function parseManifest(bytes: Buffer): BackupManifest {
  const value = parseJson(bytes, 'manifest');
  if (!validateManifest(value)) throw new VigilError('VIGIL_BACKUP_INVALID', `manifest does not match ${MANIFEST_FORMAT}: ${ajv.errorsText(validateManifest.errors).slice(0, 200)}`);
  return value;
}

export function parseSignature(bytes: Buffer): ManifestSignature {
  const value = parseJson(bytes, 'manifest signature');
  if (!validateSignature(value)) throw new VigilError('VIGIL_BACKUP_INVALID', `manifest signature does not match ${SIGNATURE_FORMAT}`);
  return value;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new VigilError('VIGIL_BACKUP_INVALID', `${what} is not valid JSON`);
  }
}

/** Reads a whole small object, refusing more than `max` bytes before buffering them. */
export async function readBounded(chunks: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > max) throw new VigilError('VIGIL_BACKUP_TOO_LARGE', `${what} is larger than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}
