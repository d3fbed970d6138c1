// Opening and verifying a package file (NVR-5.2.3.1d, CAM-T-sys-6, ACS-5.5.1.2). Order matters:
// 1. the fixed prefix is split (bounded reads only), 2. the Ed25519 signature over magic+header
// is verified with the vendor key, and only then is the header parsed, 3. the file length must
// be exactly what the header announces, 4. the ciphertext+tag is streamed through SHA-256 and
// compared with the signed hash. Nothing is decrypted or written before all four pass.
import { createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { VigilError } from '../core/errors.ts';
import { publicKeyId } from '../crypto/signer.ts';
import { expectedPackageLength, GCM_TAG_BYTES, MAX_PREFIX_BYTES, parseHeader, splitPackagePrefix, type PackageHeader, type PackagePrefix } from './package-format.ts';

export const STREAM_CHUNK_BYTES = 64 * 1024;

export interface OpenedPackage {
  readonly handle: FileHandle;
  readonly header: PackageHeader;
  readonly prefix: PackagePrefix;
  /** Everything before the payload: signed bytes, signature length, signature. Kept with a slot. */
  readonly prefixBytes: Buffer;
  close(): Promise<void>;
}

/** Checks the Ed25519 signature over a split prefix, then parses the header. */
export function verifyPrefix(prefix: PackagePrefix, vendorPublicKey: KeyObject): PackageHeader {
  let ok = false;
  try {
    ok = nodeVerify(null, prefix.signed, vendorPublicKey, prefix.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VigilError('VIGIL_UPDATE_SIGNATURE_INVALID', 'update package: the vendor signature over the header does not verify (header or signature altered, or signed by another vendor key)', { details: { failed: 'signature' } });
  }
  const header = parseHeader(prefix.headerBytes);
  if (header.vendorKeyId !== publicKeyId(vendorPublicKey)) {
    throw new VigilError('VIGIL_UPDATE_SIGNATURE_INVALID', 'update package: the header names a different vendor key', { details: { failed: 'vendor-key-id' } });
  }
  return header;
}

async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** Opens `file` and verifies signature and length (steps 1-3). The caller closes it. */
export async function openSignedPackage(file: string, vendorPublicKey: KeyObject): Promise<OpenedPackage> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new VigilError('VIGIL_UPDATE_MALFORMED', `cannot open the update package ${file}`, { cause: err });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new VigilError('VIGIL_UPDATE_MALFORMED', 'update package: not a regular file');
    const head = await readAt(handle, Math.min(st.size, MAX_PREFIX_BYTES), 0);
    const prefix = splitPackagePrefix(head);
    if (prefix === undefined) throw new VigilError('VIGIL_UPDATE_MALFORMED', 'update package: truncated before the end of the signature', { details: { failed: 'length' } });
    const header = verifyPrefix(prefix, vendorPublicKey);
    const expected = expectedPackageLength(prefix, header);
    if (st.size !== expected) {
      throw new VigilError('VIGIL_UPDATE_TAMPERED', `update package: ${st.size} bytes where the signed header announces ${expected} (truncated or extended)`, { details: { failed: 'length' } });
    }
    const prefixBytes = Buffer.from(head.subarray(0, prefix.payloadOffset));
    return { handle, header, prefix, prefixBytes, close: () => handle.close() };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Streams ciphertext+tag through SHA-256 (bounded buffer) and compares with the signed hash. */
export async function checkPayloadHash(pkg: OpenedPackage): Promise<void> {
  const hash = createHash('sha256');
  const length = pkg.header.payload.length + GCM_TAG_BYTES;
  const stream = pkg.handle.createReadStream({ start: pkg.prefix.payloadOffset, end: pkg.prefix.payloadOffset + length - 1, highWaterMark: STREAM_CHUNK_BYTES, autoClose: false });
  let seen = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    seen += chunk.length;
    hash.update(chunk);
  }
  if (seen !== length || hash.digest('hex') !== pkg.header.payload.sha256) {
    throw new VigilError('VIGIL_UPDATE_TAMPERED', 'update package: the encrypted payload does not match the signed header hash', { details: { failed: 'payload-hash' } });
  }
}

/** Full verification of a package file without a device key: signature, length, payload hash. */
export async function verifyPackageFile(file: string, vendorPublicKey: KeyObject): Promise<PackageHeader> {
  const pkg = await openSignedPackage(file, vendorPublicKey);
  try {
    await checkPayloadHash(pkg);
    return pkg.header;
  } finally {
    await pkg.close();
  }
}
