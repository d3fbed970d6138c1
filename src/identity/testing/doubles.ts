// Test doubles for identity tests: real AES-256-GCM and real PBKDF2 (fewer iterations, tests
// only — production iterations are enforced by src/crypto), and sinks that remember events.
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { AlarmInput, AlarmSink } from '../../alarms/types.ts';
import type { AuditEventInput, AuditSink } from '../../audit/types.ts';
import { ManualClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config.ts';
import type { Store } from '../../store/database.ts';
import { IdentityService } from '../identity-service.ts';
import type { PasswordHashing, RequestContext, SecretSealer, SecurityConfig } from '../types.ts';

const pbkdf2Async = promisify(pbkdf2);

/** AES-256-GCM under a random key; layout iv(12) | tag(16) | ciphertext. */
export class AesGcmSealer implements SecretSealer {
  readonly #key = randomBytes(32);
  async seal(purpose: string, plaintext: Uint8Array | string, aad = ''): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`${purpose}\0${aad}`));
    const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  async open(purpose: string, sealed: Uint8Array, aad = ''): Promise<Buffer> {
    const buf = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${purpose}\0${aad}`));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
  }
}

/** PBKDF2-HMAC-SHA256, `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`; counts calls. */
export class CountingPasswordHasher implements PasswordHashing {
  readonly #iterations: number;
  calls = { hash: 0, verify: 0, verifyDummy: 0 };
  constructor(iterations = 1000) {
    this.#iterations = iterations;
  }
  async hash(password: string): Promise<string> {
    this.calls.hash += 1;
    const salt = randomBytes(16);
    const dk = await pbkdf2Async(password, salt, this.#iterations, 32, 'sha256');
    return `pbkdf2-sha256$${this.#iterations}$${salt.toString('base64')}$${dk.toString('base64')}`;
  }
  async verify(password: string, encoded: string): Promise<boolean> {
    this.calls.verify += 1;
    const [scheme, iterations, salt, hash] = encoded.split('$');
    if (scheme !== 'pbkdf2-sha256' || iterations === undefined || salt === undefined || hash === undefined) return false;
    const expected = Buffer.from(hash, 'base64');
    const dk = await pbkdf2Async(password, Buffer.from(salt, 'base64'), Number(iterations), expected.length, 'sha256');
    return timingSafeEqual(dk, expected);
  }
  async verifyDummy(password: string): Promise<false> {
    this.calls.verifyDummy += 1;
    await pbkdf2Async(password, Buffer.alloc(16), this.#iterations, 32, 'sha256');
    return false;
  }
}

export class RecordingAudit implements AuditSink {
  readonly events: AuditEventInput[] = [];
  record(event: AuditEventInput): void {
    this.events.push(event);
  }
  actions(action: string): AuditEventInput[] {
    return this.events.filter((e) => e.action === action);
  }
}

export class RecordingAlarms implements AlarmSink {
  readonly raised: AlarmInput[] = [];
  readonly cleared: string[] = [];
  raise(alarm: AlarmInput): void {
    this.raised.push(alarm);
  }
  clear(dedupeKey: string): void {
    this.cleared.push(dedupeKey);
  }
}

export function testSecurityConfig(overrides: Partial<SecurityConfig> = {}): SecurityConfig {
  return { ...loadConfig({ env: {}, baseDir: '/tmp' }).security, ...overrides };
}

export interface IdentityFixture {
  identity: IdentityService;
  clock: ManualClock;
  audit: RecordingAudit;
  alarms: RecordingAlarms;
  hasher: CountingPasswordHasher;
  sealer: AesGcmSealer;
  config: SecurityConfig;
}

export function identityFixture(store: Store, overrides: Partial<SecurityConfig> = {}): IdentityFixture {
  const clock = new ManualClock();
  const audit = new RecordingAudit();
  const alarms = new RecordingAlarms();
  const hasher = new CountingPasswordHasher();
  const sealer = new AesGcmSealer();
  const config = testSecurityConfig(overrides);
  const identity = new IdentityService({ store, sealer, hasher, audit, alarms, clock, config });
  return { identity, clock, audit, alarms, hasher, sealer, config };
}

export function requestFrom(sourceIp = '192.0.2.10', actor?: RequestContext['actor']): RequestContext {
  const ctx: RequestContext = { sourceIp, userAgent: 'identity-test' };
  if (actor !== undefined) ctx.actor = actor;
  return ctx;
}

/** Empties every identity table between tests (the store is shared by a suite). */
export async function clearIdentityTables(store: Store): Promise<void> {
  await store.db.deleteFrom('login_sources').execute();
  await store.db.deleteFrom('sessions').execute();
  await store.db.deleteFrom('api_tokens').execute();
  await store.db.deleteFrom('webauthn_credentials').execute();
  await store.db.deleteFrom('role_grants').execute();
  await store.db.deleteFrom('password_history').execute();
  await store.db.deleteFrom('users').execute();
  await store.db.deleteFrom('settings').execute();
}

export const ADMIN_PASSWORD = 'Correct-Horse-42';
export const USER_PASSWORD = 'Blue-Lantern-77';
