// The contract every component uses to write to the security event log. Writing never blocks
// the caller and never throws: a failure to store is itself alarmed (NVR-5.2.7.2a, ACS-5.6.1.4).
import type { AuditEventsTable } from '../store/schema.ts';

export const AUDIT_CATEGORIES = ['auth', 'session', 'user', 'config', 'audit', 'alarm', 'video', 'access', 'device', 'update', 'backup', 'system'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEventInput {
  category: AuditCategory;
  /** Dotted verb, e.g. 'auth.login', 'user.create', 'video.playback'. */
  action: string;
  /** Who: 'user:<username>', 'token:<name>', 'system', 'device:<id>', or 'anonymous'. */
  actor: string;
  /** Source address (IP) or 'local' for the console/CLI. */
  source: string;
  /** What was acted on, e.g. 'user:alice', 'camera:<id>', '' when none. */
  target: string;
  outcome: AuditOutcome;
  /** Extra facts. Never secrets: keys named like secrets are refused by the writer. */
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditSink {
  record(event: AuditEventInput): void;
}

/**
 * Signs checkpoints and exports. Structurally the crypto component's DeviceSigner
 * (src/crypto/signer.ts), declared here so the audit log does not depend on that file.
 */
export interface AuditSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(data: Uint8Array): Buffer;
}

/** One stored event as the read API returns it, details parsed (ACS-5.6.1.1, ACS-5.6.1.17). */
export interface AuditEvent extends Omit<AuditEventsTable, 'details'> {
  details: Record<string, string | number | boolean | null>;
}
