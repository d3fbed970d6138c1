// The update package file (NVR-5.2.3.1b/d, CAM-T-sys-4/6, ACS-5.5.1.2/3). Pure parse/serialize.
//
//   offset        size  field
//   0             8     magic "VIGILUPD"
//   8             2     format version, u16 BE = 1
//   10            4     header length H, u32 BE (1 ..= 65536)
//   14            H     header: UTF-8 JSON (PackageHeader below)
//   14+H          2     signature length S, u16 BE = 64
//   16+H          S     Ed25519 signature (RFC 8032) by the vendor key over bytes [0, 14+H)
//   16+H+S        P     payload: AES-256-GCM ciphertext of the archive (archive.ts), P = header.payload.length
//   16+H+S+P      16    GCM tag
//   (end of file: the file length must be exactly 32+H+S+P; nothing may follow)
//
//   +----------+-----+-------+-------------+-----+-----------+--------------------+---------+
//   | VIGILUPD | 0 1 | H (4) | header JSON | S(2)| signature | ciphertext (P)     | tag(16) |
//   +----------+-----+-------+-------------+-----+-----------+--------------------+---------+
//   |<------------- signed (Ed25519) ------>|
//
// Ed25519 signs a whole message, which for a multi-GB package would mean holding it in memory;
// so the signed header carries payload.sha256 = SHA-256(ciphertext || tag), and a verifier
// checks the signature, then streams the payload through SHA-256 before decrypting anything.
// The header also carries manifestSha256, the hash of the plaintext manifest inside the archive,
// which is what launch integrity re-checks later against the installed files.
//
// The archive is encrypted under a random 256-bit content key; that key is wrapped for each
// device key (recipients) with ECDH-ES (X25519 or P-256) + HKDF-SHA256 + AES-256-GCM (key-wrap.ts),
// so the package cannot be unpacked without a device private key (NVR-5.2.3.1b, CAM-T-sys-4).
import { VigilError } from '../core/errors.ts';
import { isVersion } from './semver.ts';

export const PACKAGE_MAGIC = Buffer.from('VIGILUPD', 'ascii');
export const PACKAGE_FORMAT = 1;
export const MAX_HEADER_BYTES = 64 * 1024;
export const SIGNATURE_BYTES = 64;
export const GCM_TAG_BYTES = 16;
export const GCM_IV_BYTES = 12;
/** magic + format + header length. */
export const FIXED_PREFIX_BYTES = 14;
/** The most a verifier ever reads before the payload. */
export const MAX_PREFIX_BYTES = FIXED_PREFIX_BYTES + MAX_HEADER_BYTES + 2 + SIGNATURE_BYTES;
export const MAX_RECIPIENTS = 16;
export const PAYLOAD_CIPHER = 'AES-256-GCM';

export type DeviceCurve = 'X25519' | 'P-256';

export interface Recipient {
  /** Hex SHA-256 of the device public key's SPKI DER. */
  deviceKeyId: string;
  curve: DeviceCurve;
  /** Base64 SPKI DER of the one-time ECDH key. */
  ephemeralPublicKey: string;
  /** Base64 12-byte IV of the key wrap. */
  wrapIv: string;
  /** Base64 AES-256-GCM(content key) || tag: 48 bytes. */
  wrappedKey: string;
}

export interface PackageHeader {
  format: 1;
  product: string;
  version: string;
  /** The oldest version this package may be installed over. */
  minimumFromVersion: string;
  /** When set, a security fix: once installed, nothing older than this may run again (rollback floor). */
  securityFloor: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** Hex SHA-256 of the vendor Ed25519 public key's SPKI DER. */
  vendorKeyId: string;
  manifestSha256: string;
  payload: { cipher: 'AES-256-GCM'; iv: string; length: number; sha256: string };
  recipients: Recipient[];
}

export interface PackagePrefix {
  /** Bytes [0, 14+H): what the signature covers. */
  signed: Buffer;
  headerBytes: Buffer;
  signature: Buffer;
  /** Offset of the first ciphertext byte. */
  payloadOffset: number;
}

function malformed(message: string): VigilError {
  return new VigilError('VIGIL_UPDATE_MALFORMED', `update package: ${message}`);
}

/**
 * Splits the start of a package into signed bytes, header and signature. Needs at most
 * MAX_PREFIX_BYTES; returns undefined if `bytes` is too short to hold the prefix it announces.
 * Does not parse the header: callers verify the signature first (NVR-5.2.3.1d).
 */
export function splitPackagePrefix(bytes: Uint8Array): PackagePrefix | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < FIXED_PREFIX_BYTES) return undefined;
  if (!b.subarray(0, 8).equals(PACKAGE_MAGIC)) throw malformed('not a Vigil update package (bad magic)');
  const format = b.readUInt16BE(8);
  if (format !== PACKAGE_FORMAT) throw malformed(`unknown format version ${format}`);
  const headerLength = b.readUInt32BE(10);
  if (headerLength === 0 || headerLength > MAX_HEADER_BYTES) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `update package: header length ${headerLength} is outside 1..${MAX_HEADER_BYTES}`);
  const signedEnd = FIXED_PREFIX_BYTES + headerLength;
  if (b.length < signedEnd + 2) return undefined;
  const signatureLength = b.readUInt16BE(signedEnd);
  if (signatureLength !== SIGNATURE_BYTES) throw malformed(`signature length ${signatureLength}, expected ${SIGNATURE_BYTES}`);
  const payloadOffset = signedEnd + 2 + signatureLength;
  if (b.length < payloadOffset) return undefined;
  return {
    signed: Buffer.from(b.subarray(0, signedEnd)),
    headerBytes: Buffer.from(b.subarray(FIXED_PREFIX_BYTES, signedEnd)),
    signature: Buffer.from(b.subarray(signedEnd + 2, payloadOffset)),
    payloadOffset,
  };
}

/** The signed bytes for a header: magic | format | length | header. */
export function serializeSignedPrefix(headerBytes: Uint8Array): Buffer {
  if (headerBytes.length === 0 || headerBytes.length > MAX_HEADER_BYTES) throw new VigilError('VIGIL_UPDATE_TOO_LARGE', `update package: header is ${headerBytes.length} bytes (max ${MAX_HEADER_BYTES})`);
  const fixed = Buffer.alloc(FIXED_PREFIX_BYTES);
  PACKAGE_MAGIC.copy(fixed, 0);
  fixed.writeUInt16BE(PACKAGE_FORMAT, 8);
  fixed.writeUInt32BE(headerBytes.length, 10);
  return Buffer.concat([fixed, headerBytes]);
}

/** signed prefix | signature length | signature: everything before the payload. */
export function serializePackagePrefix(signed: Uint8Array, signature: Uint8Array): Buffer {
  if (signature.length !== SIGNATURE_BYTES) throw malformed(`signature must be ${SIGNATURE_BYTES} bytes`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(signature.length, 0);
  return Buffer.concat([signed, len, signature]);
}

export function serializeHeader(h: PackageHeader): Buffer {
  // Fixed key order; the signature is over these exact bytes, so no canonical form is needed.
  return Buffer.from(
    JSON.stringify({
      format: h.format,
      product: h.product,
      version: h.version,
      minimumFromVersion: h.minimumFromVersion,
      securityFloor: h.securityFloor,
      createdAt: h.createdAt,
      vendorKeyId: h.vendorKeyId,
      manifestSha256: h.manifestSha256,
      payload: { cipher: h.payload.cipher, iv: h.payload.iv, length: h.payload.length, sha256: h.payload.sha256 },
      recipients: h.recipients.map((r) => ({ deviceKeyId: r.deviceKeyId, curve: r.curve, ephemeralPublicKey: r.ephemeralPublicKey, wrapIv: r.wrapIv, wrappedKey: r.wrappedKey })),
    }),
    'utf8',
  );
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]{1,512}={0,2}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function exactKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  if (Object.keys(o).sort().join(',') !== [...keys].sort().join(',')) throw malformed(`${what} has missing or unexpected fields`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, re: RegExp, what: string): string {
  const v = o[k];
  if (typeof v !== 'string' || !re.test(v)) throw malformed(`${what}.${k} is invalid`);
  return v;
}

function base64Bytes(text: string, bytes: number | undefined, what: string): string {
  const decoded = Buffer.from(text, 'base64');
  if (decoded.toString('base64') !== text || (bytes !== undefined && decoded.length !== bytes)) throw malformed(`${what} is not valid base64 of the right length`);
  return text;
}

/** Parses and strictly validates header JSON (only call after the signature checked out). */
export function parseHeader(bytes: Uint8Array): PackageHeader {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw malformed('header is not JSON');
  }
  const h = obj(value, 'header');
  exactKeys(h, ['format', 'product', 'version', 'minimumFromVersion', 'securityFloor', 'createdAt', 'vendorKeyId', 'manifestSha256', 'payload', 'recipients'], 'header');
  if (h['format'] !== 1) throw malformed('header.format is not 1');
  const product = str(h, 'product', /^[a-z0-9-]{1,32}$/, 'header');
  const version = str(h, 'version', /^.{1,32}$/, 'header');
  const minimumFromVersion = str(h, 'minimumFromVersion', /^.{1,32}$/, 'header');
  if (!isVersion(version) || !isVersion(minimumFromVersion)) throw malformed('header versions must be MAJOR.MINOR.PATCH');
  const floor = h['securityFloor'];
  if (floor !== null && (typeof floor !== 'string' || !isVersion(floor))) throw malformed('header.securityFloor is invalid');
  const createdAt = str(h, 'createdAt', ISO_UTC, 'header');
  const vendorKeyId = str(h, 'vendorKeyId', HEX64, 'header');
  const manifestSha256 = str(h, 'manifestSha256', HEX64, 'header');
  const p = obj(h['payload'], 'header.payload');
  exactKeys(p, ['cipher', 'iv', 'length', 'sha256'], 'header.payload');
  if (p['cipher'] !== PAYLOAD_CIPHER) throw malformed('header.payload.cipher is not AES-256-GCM');
  const iv = base64Bytes(str(p, 'iv', B64, 'header.payload'), GCM_IV_BYTES, 'header.payload.iv');
  const length = p['length'];
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw malformed('header.payload.length is invalid');
  const sha256 = str(p, 'sha256', HEX64, 'header.payload');
  const list = h['recipients'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_RECIPIENTS) throw malformed(`header.recipients must list 1..${MAX_RECIPIENTS} device keys`);
  const recipients: Recipient[] = (list as unknown[]).map((item, i) => {
    const r = obj(item, `header.recipients[${i}]`);
    const what = `header.recipients[${i}]`;
    exactKeys(r, ['deviceKeyId', 'curve', 'ephemeralPublicKey', 'wrapIv', 'wrappedKey'], what);
    const curve = r['curve'];
    if (curve !== 'X25519' && curve !== 'P-256') throw malformed(`${what}.curve is not X25519 or P-256`);
    return {
      deviceKeyId: str(r, 'deviceKeyId', HEX64, what),
      curve,
      ephemeralPublicKey: base64Bytes(str(r, 'ephemeralPublicKey', B64, what), undefined, `${what}.ephemeralPublicKey`),
      wrapIv: base64Bytes(str(r, 'wrapIv', B64, what), GCM_IV_BYTES, `${what}.wrapIv`),
      wrappedKey: base64Bytes(str(r, 'wrappedKey', B64, what), 32 + GCM_TAG_BYTES, `${what}.wrappedKey`),
    };
  });
  return {
    format: 1,
    product,
    version,
    minimumFromVersion,
    securityFloor: floor,
    createdAt,
    vendorKeyId,
    manifestSha256,
    payload: { cipher: PAYLOAD_CIPHER, iv, length, sha256 },
    recipients,
  };
}

/** The exact file length a header announces, given where the payload starts. */
export function expectedPackageLength(prefix: PackagePrefix, header: PackageHeader): number {
  return prefix.payloadOffset + header.payload.length + GCM_TAG_BYTES;
}

/** Additional authenticated data of the payload: binds the ciphertext to product and version. */
export function payloadAad(product: string, version: string): Buffer {
  return Buffer.from(`vigil-update/1 ${product} ${version}`, 'utf8');
}
