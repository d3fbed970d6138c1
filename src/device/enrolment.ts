// Device enrolment (ACS-5.1.1.11, ACS-5.1.1.4): an administrator creates a one-time token for a
// device id and kind; the device generates its own P-256 key pair, presents the token, its
// public key and a signature over the token with that key (proof of possession), and receives
// its certificate and the CA certificate. Tokens are stored only as SHA-256 hashes, expire
// (24 h by default), are spent once, and every step is audited. One identity per device: an
// enrolled id cannot get a second token until revoked, and a key already in use is refused.
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import { publicKeyId, verifySignature } from '../crypto/signer.ts';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, type DeviceCa, type DeviceKind, type IssuedCertificate } from './device-ca.ts';
import type { DeviceRepository } from './device-repository.ts';
import type { Actor } from './device-registry.ts';

export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;
const MAX_TOKEN_TTL_MS = 7 * 24 * 3_600_000;
const TOKEN_PREFIX = 'vgl-enrol-';
const TOKEN_PATTERN = /^vgl-enrol-[A-Za-z0-9_-]{43}$/;
const MAX_PUBLIC_KEY_PEM = 4096;
const MAX_PROOF_BYTES = 256;

/** What the device signs with its new key: domain-separated, so the signature means nothing else. */
export function enrolmentProofMessage(token: string): Buffer {
  return Buffer.from(`vigil-device-enrolment-v1\n${token}`, 'utf8');
}

export interface EnrolmentRequest {
  token: string;
  publicKeyPem: string;
  /** Base64 ECDSA P-256/SHA-256 signature over enrolmentProofMessage(token). */
  proof: string;
  /** Source address of the request, for the audit log. */
  source: string;
}

export interface EnrolmentResult {
  deviceId: string;
  kind: DeviceKind;
  certPem: string;
  caCertPem: string;
  serial: string;
  /** The platform's public key that signs credential sets: the device pins it from here. */
  platformKeyPem: string;
}

export class DeviceEnrolment {
  readonly #repository: DeviceRepository;
  readonly #ca: DeviceCa;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #platformKeyPem: string;

  constructor(o: { repository: DeviceRepository; ca: DeviceCa; audit: AuditSink; clock: Clock; platformKeyPem: string }) {
    this.#platformKeyPem = o.platformKeyPem;
    this.#repository = o.repository;
    this.#ca = o.ca;
    this.#audit = o.audit;
    this.#clock = o.clock;
  }

  /** A one-time token; shown once to the administrator, never stored in clear. */
  async createToken(o: { deviceId: string; kind: DeviceKind; ttlMs?: number; by: Actor }): Promise<{ token: string; expiresAt: number }> {
    if (!DEVICE_ID_PATTERN.test(o.deviceId)) throw new VigilError('VIGIL_VALIDATION', 'a device id is 1 to 64 letters, digits, dot, dash or underscore');
    if (!(DEVICE_KINDS as readonly string[]).includes(o.kind)) throw new VigilError('VIGIL_VALIDATION', `a device kind is one of ${DEVICE_KINDS.join(', ')}`);
    const ttl = o.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 60_000 || ttl > MAX_TOKEN_TTL_MS) throw new VigilError('VIGIL_VALIDATION', 'an enrolment token lives 1 minute to 7 days');
    const existing = await this.#repository.get(o.deviceId);
    // ACS-5.1.1.11: an id names one device. Enrolling a replacement means revoking the old one.
    if (existing !== undefined && (existing.status === 'enrolled' || existing.kind !== o.kind)) {
      this.#audit.record({ category: 'device', action: 'device.enrolment_token.create', actor: o.by.actor, source: o.by.source, target: `device:${o.deviceId}`, outcome: 'failure', details: { reason: `device exists (${existing.status} ${existing.kind})` } });
      throw new VigilError('VIGIL_DEVICE_EXISTS', `device ${o.deviceId} exists as an ${existing.status} ${existing.kind}; revoke it first`);
    }
    const now = this.#clock.now();
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.#repository.upsertPending(o.deviceId, o.kind, now);
    await this.#repository.insertToken({ token_hash: hashToken(token), device_id: o.deviceId, kind: o.kind, created_by: o.by.actor, created_at: now, expires_at: now + ttl, used_at: null });
    this.#audit.record({ category: 'device', action: 'device.enrolment_token.create', actor: o.by.actor, source: o.by.source, target: `device:${o.deviceId}`, outcome: 'success', details: { kind: o.kind, expiresAt: new Date(now + ttl).toISOString() } });
    return { token, expiresAt: now + ttl };
  }

  /** The device's side of enrolment. Every refusal has the same message (ACS-5.2.1.7). */
  async enrol(request: EnrolmentRequest): Promise<EnrolmentResult> {
    const now = this.#clock.now();
    const hash = TOKEN_PATTERN.test(request.token) ? hashToken(request.token) : null;
    const row = hash === null ? undefined : await this.#repository.getToken(hash);
    const refuse = (reason: string): VigilError => {
      const target = row === undefined ? '' : `device:${row.device_id}`;
      this.#audit.record({ category: 'device', action: 'device.enrol', actor: row === undefined ? 'anonymous' : `device:${row.device_id}`, source: request.source, target, outcome: 'denied', details: { reason } });
      return new VigilError('VIGIL_DEVICE_ENROLMENT_INVALID', 'enrolment refused: the token is invalid, spent or expired, or the key is not acceptable');
    };
    if (hash === null || row === undefined) throw refuse('unknown token');
    if (row.used_at !== null) throw refuse('token already used');
    if (now > row.expires_at) throw refuse('token expired');
    if (request.publicKeyPem.length > MAX_PUBLIC_KEY_PEM || request.proof.length > MAX_PROOF_BYTES * 2) throw refuse('oversized key or proof');
    let keyId: string;
    try {
      keyId = publicKeyId(createPublicKey(request.publicKeyPem));
    } catch {
      throw refuse('unreadable public key');
    }
    if (!verifySignature(request.publicKeyPem, enrolmentProofMessage(request.token), Buffer.from(request.proof, 'base64'))) throw refuse('no proof of possession of the key');
    const device = await this.#repository.get(row.device_id);
    if (device === undefined || device.status !== 'pending') throw refuse('device is not awaiting enrolment');
    // ACS-5.2.1.3: device keys are unique; a key seen before is a cloned or replayed device.
    if ((await this.#repository.findByPublicKeyId(keyId)) !== undefined) throw refuse('public key already enrolled');
    let issued: IssuedCertificate;
    try {
      issued = await this.#ca.issueDeviceCertificate(row.device_id, row.kind as DeviceKind, request.publicKeyPem);
    } catch (err) {
      if (err instanceof VigilError && err.code === 'VIGIL_DEVICE_ENROLMENT_INVALID') throw refuse('key is not ECDSA P-256');
      throw err;
    }
    // Spend before storing the certificate: of two racing enrolments only one gets through.
    if (!(await this.#repository.spendToken(row.token_hash, now))) throw refuse('token already used');
    await this.#repository.markEnrolled(row.device_id, { serial: issued.serial, notAfter: issued.notAfter, publicKeyId: keyId }, now);
    await this.#repository.voidTokens(row.device_id, now);
    this.#audit.record({ category: 'device', action: 'device.enrol', actor: `device:${row.device_id}`, source: request.source, target: `device:${row.device_id}`, outcome: 'success', details: { kind: row.kind, serial: issued.serial, keyId } });
    return { deviceId: row.device_id, kind: row.kind as DeviceKind, certPem: issued.certPem, caCertPem: this.#ca.certPem, serial: issued.serial, platformKeyPem: this.#platformKeyPem };
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
