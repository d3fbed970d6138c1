// The per-backup key (NVR-5.2.9.2a: backups encrypted with FIPS-approved algorithms). One random
// 256-bit key per backup set; from it HKDF-SHA256 (SP 800-56C) derives a key that wraps each
// segment's own AES-256-GCM key and a key that MACs the manifest. The backup key itself is kept
// in the manifest only wrapped: by the device keyring (restore on this device) and, optionally,
// by a recovery passphrase — PBKDF2-HMAC-SHA256 (SP 800-132, ≥600,000 iterations) + AES-256-GCM —
// so the backup can be restored on a replacement device after the hardware (and its KEK) is lost.
import { createHmac, hkdfSync, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { VigilError } from '../core/errors.ts';
import { KEY_BYTES, open as openSealed, seal } from '../crypto/aead.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { MAX_PASSWORD_BYTES, MAX_PBKDF2_ITERATIONS, MIN_PBKDF2_ITERATIONS } from '../crypto/password.ts';

const pbkdf2Async = promisify(pbkdf2);

/** Keyring purpose whose DEK wraps backup keys on this device. */
export const BACKUP_KEY_PURPOSE = 'backup.keys';
export const RECOVERY_KDF = 'pbkdf2-hmac-sha256';
export const MIN_RECOVERY_PASSPHRASE = 12;
const SALT_BYTES = 16;

export interface RecoveryWrap {
  kdf: typeof RECOVERY_KDF;
  iterations: number;
  /** base64 */
  salt: string;
  /** base64 aead.ts sealed backup key */
  sealed: string;
}

export interface WrappedBackupKey {
  /** base64: the backup key sealed by the device keyring (purpose backup.keys); null if not kept. */
  device: string | null;
  /** kek id of the keyring that sealed `device` (tells an operator which device can open it). */
  deviceKek: string | null;
  recovery: RecoveryWrap | null;
}

function wrapAad(backupId: string, how: 'device' | 'recovery'): string {
  return `vigil.backup.v1|${how}|${backupId}`;
}

export function newBackupKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function checkRecoveryPassphrase(passphrase: string): void {
  const bytes = Buffer.byteLength(passphrase, 'utf8');
  if (passphrase.length < MIN_RECOVERY_PASSPHRASE || bytes > MAX_PASSWORD_BYTES) {
    throw new VigilError('VIGIL_VALIDATION', `a recovery passphrase has ${MIN_RECOVERY_PASSPHRASE} to ${MAX_PASSWORD_BYTES} characters`);
  }
}

export async function wrapBackupKey(
  key: Buffer,
  backupId: string,
  options: { keyring: Keyring; passphrase?: string | undefined; iterations?: number | undefined },
): Promise<WrappedBackupKey> {
  const device = await options.keyring.seal(BACKUP_KEY_PURPOSE, key, wrapAad(backupId, 'device'));
  let recovery: RecoveryWrap | null = null;
  if (options.passphrase !== undefined) {
    checkRecoveryPassphrase(options.passphrase);
    const iterations = checkIterations(options.iterations ?? MIN_PBKDF2_ITERATIONS);
    const salt = randomBytes(SALT_BYTES);
    const kek = await derive(options.passphrase, salt, iterations);
    try {
      recovery = { kdf: RECOVERY_KDF, iterations, salt: salt.toString('base64'), sealed: seal(kek, key, Buffer.from(wrapAad(backupId, 'recovery'))).toString('base64') };
    } finally {
      kek.fill(0);
    }
  }
  return { device: device.toString('base64'), deviceKek: options.keyring.kekId, recovery };
}

/**
 * Opens the backup key: with the passphrase when one is given, else with this device's keyring.
 * Every failure is VIGIL_BACKUP_KEY_UNAVAILABLE with a reason an operator can act on.
 */
export async function unwrapBackupKey(wrapped: WrappedBackupKey, backupId: string, options: { keyring: Keyring; passphrase?: string | undefined }): Promise<Buffer> {
  if (options.passphrase !== undefined) {
    const r = wrapped.recovery;
    if (r === null) throw new VigilError('VIGIL_BACKUP_KEY_UNAVAILABLE', `backup ${backupId} was made without a recovery passphrase`);
    const kek = await derive(options.passphrase, Buffer.from(r.salt, 'base64'), checkIterations(r.iterations));
    try {
      return openSealed(kek, Buffer.from(r.sealed, 'base64'), Buffer.from(wrapAad(backupId, 'recovery')));
    } catch (err) {
      throw new VigilError('VIGIL_BACKUP_KEY_UNAVAILABLE', `the recovery passphrase does not open backup ${backupId}`, { cause: err });
    } finally {
      kek.fill(0);
    }
  }
  if (wrapped.device === null) throw new VigilError('VIGIL_BACKUP_KEY_UNAVAILABLE', `backup ${backupId} can only be opened with its recovery passphrase`);
  try {
    return await options.keyring.open(BACKUP_KEY_PURPOSE, Buffer.from(wrapped.device, 'base64'), wrapAad(backupId, 'device'));
  } catch (err) {
    throw new VigilError('VIGIL_BACKUP_KEY_UNAVAILABLE', `backup ${backupId} was made by another device or keyring (${wrapped.deviceKek ?? 'unknown'}); restore it with its recovery passphrase`, { cause: err });
  }
}

/** Sub-keys of a backup key (HKDF-SHA256, RFC 5869); the caller wipes them. */
export function backupSubkeys(key: Buffer, backupId: string): { segmentWrap: Buffer; manifestMac: Buffer } {
  const salt = Buffer.from(`vigil.backup.v1|${backupId}`);
  return {
    segmentWrap: Buffer.from(hkdfSync('sha256', key, salt, 'segment-key-wrap', KEY_BYTES)),
    manifestMac: Buffer.from(hkdfSync('sha256', key, salt, 'manifest-mac', KEY_BYTES)),
  };
}

export function sealSegmentKey(segmentWrap: Buffer, segmentId: string, dek: Buffer): string {
  return seal(segmentWrap, dek, Buffer.from(`vigil.backup.segment|${segmentId}`)).toString('base64');
}

export function openSegmentKey(segmentWrap: Buffer, segmentId: string, sealed: string): Buffer {
  return openSealed(segmentWrap, Buffer.from(sealed, 'base64'), Buffer.from(`vigil.backup.segment|${segmentId}`));
}

export function manifestMac(macKey: Buffer, manifestBytes: Buffer): string {
  return createHmac('sha256', macKey).update(manifestBytes).digest('base64');
}

export function manifestMacValid(macKey: Buffer, manifestBytes: Buffer, mac: string): boolean {
  const expected = createHmac('sha256', macKey).update(manifestBytes).digest();
  const given = Buffer.from(mac, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function checkIterations(n: number): number {
  // Bounds the work a (possibly hostile) manifest can ask of us, and never below the floor.
  if (!Number.isInteger(n) || n < MIN_PBKDF2_ITERATIONS || n > MAX_PBKDF2_ITERATIONS) {
    throw new VigilError('VIGIL_BACKUP_INVALID', `recovery key derivation iterations must be ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}`);
  }
  return n;
}

async function derive(passphrase: string, salt: Buffer, iterations: number): Promise<Buffer> {
  checkRecoveryPassphrase(passphrase);
  if (salt.length !== SALT_BYTES) throw new VigilError('VIGIL_BACKUP_INVALID', 'recovery salt has the wrong length');
  return pbkdf2Async(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, iterations, KEY_BYTES, 'sha256');
}
