// Test doubles shared by the audit and alarm tests. Not used by the product.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { AlarmInput, AlarmSink } from '../alarms/types.ts';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import type { Store } from '../store/database.ts';
import type { AuditEventInput, AuditSigner, AuditSink } from './types.ts';

export interface TestSigner extends AuditSigner {
  readonly privateKey: KeyObject;
}

/** An Ed25519 signer with the shape of src/crypto's DeviceSigner. */
export function createTestSigner(keyId = 'test-device-key'): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { keyId, publicKeyPem, privateKey, sign: (data: Uint8Array) => sign(null, data, privateKey) };
}

export class RecordingAlarmSink implements AlarmSink {
  readonly raised: AlarmInput[] = [];
  readonly cleared: Array<{ dedupeKey: string; reason: string }> = [];
  raise(alarm: AlarmInput): void {
    this.raised.push(alarm);
  }
  clear(dedupeKey: string, reason: string): void {
    this.cleared.push({ dedupeKey, reason });
  }
}

export class RecordingAuditSink implements AuditSink {
  readonly events: AuditEventInput[] = [];
  record(event: AuditEventInput): void {
    this.events.push(event);
  }
}

export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}

export function auditConfig(overrides: Partial<Config['audit']> = {}): Config['audit'] {
  return { retentionMonths: 12, capacityEvents: 50_000_000, checkpointEveryEvents: 10, checkpointEverySeconds: 3600, ...overrides };
}

export function testEvent(i: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    category: 'auth',
    action: 'auth.login',
    actor: `user:u${String(i % 7)}`,
    source: '127.0.0.1',
    target: `user:u${String(i % 7)}`,
    outcome: i % 5 === 0 ? 'failure' : 'success',
    details: { i, method: 'password' },
    ...overrides,
  };
}

/** Empties the audit tables between tests (test-only SQL: the product has no such delete). */
export async function resetAuditTables(store: Store): Promise<void> {
  await sql`delete from audit_events`.execute(store.db);
  await sql`delete from audit_checkpoints`.execute(store.db);
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
