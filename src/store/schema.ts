// Table types for Kysely. Conventions, the same on SQLite and PostgreSQL:
// - times are epoch milliseconds in bigint columns (`*_at`), except audit's ISO 8601 `ts`;
// - booleans are integers 0/1;
// - sealed values (AES-256-GCM under a keyring DEK) are blobs named `*_sealed`;
// - ids are random UUIDs (text) unless a sequence is part of the meaning (audit seq).
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  password_changed_at: number;
  must_change_password: number;
  disabled: number;
  failed_logins: number;
  last_failed_at: number | null;
  locked_until: number | null;
  /** Display name, e-mail and other personal data, sealed (NVR-5.2.4.1a). */
  profile_sealed: Buffer | null;
  totp_secret_sealed: Buffer | null;
  totp_enabled: number;
  created_at: number;
  updated_at: number;
  /** Last TOTP time-step accepted (NVR-5.4.1.1a replay guard); null before the first. (002) */
  totp_last_step: number | null;
}

export interface PasswordHistoryTable {
  id: string;
  user_id: string;
  password_hash: string;
  created_at: number;
}

export interface RoleGrantsTable {
  id: string;
  user_id: string;
  role: string;
  /** 'global' | 'site' | 'camera' | 'door' */
  scope_kind: string;
  /** '' when scope_kind is 'global' */
  scope_id: string;
  created_at: number;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  mfa_passed: number;
  csrf_hash: string;
  source_ip: string;
  user_agent: string;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  public_key: Buffer;
  counter: number;
  transports: string;
  name: string;
  created_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  /** SHA-256 (hex) of the token secret. */
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked: number;
}

export interface KeysTable {
  /** Purpose of the data-encryption key, e.g. 'identity', 'audit', 'video:segment:<id>'. */
  purpose: string;
  /** DEK wrapped (AES-256-GCM / AES key wrap) by the KEK. */
  wrapped_dek: Buffer;
  kek_id: string;
  created_at: number;
}

export interface AuditEventsTable {
  seq: number;
  /** ISO 8601 UTC (ACS-5.6.1.5). */
  ts: string;
  category: string;
  action: string;
  actor: string;
  source: string;
  target: string;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  ts: string;
  signature: string;
  key_id: string;
}

export interface AlarmsTable {
  id: string;
  type: string;
  severity: string;
  source: string;
  message: string;
  state: string;
  dedupe_key: string;
  details: string;
  raised_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  ack_comment: string | null;
  cleared_at: number | null;
}

/** Addresses a user has logged in from (CAM-T-priv-2 new-source notice). (002) */
export interface LoginSourcesTable {
  user_id: string;
  source_ip: string;
  first_seen_at: number;
  last_seen_at: number;
}

/** One recording segment file and its copies (003). Times are epoch ms. */
export interface VideoSegmentsTable {
  id: string;
  camera_id: string;
  /** Position in the camera's chain, from 1. */
  seq: number;
  /** recording → complete; complete → tampered | shredded. */
  state: string;
  started_at: number;
  ended_at: number | null;
  fragments: number;
  bytes: number;
  /** JSON array of the volume ids holding a copy. */
  volumes: string;
  /** The segment's AES-256-GCM key sealed by the keyring; null once shredded. */
  wrapped_dek: Buffer | null;
  /** SHA-256 (hex) of the segment file; null while recording. */
  hash: string | null;
  /** `hash` of the camera's previous segment, or 64 zeros for the first. */
  prev_hash: string;
  /** Ed25519 signature (base64) of the row's canonical form; null while recording. */
  signature: string | null;
  key_id: string | null;
}

/** A camera the recorder records (004). */
export interface CamerasTable {
  id: string;
  name: string;
  /** rtsp:// or rtsps:// without user information. */
  url: string;
  /** JSON {username, password} sealed by the keyring (purpose camera.credentials, AAD = id). */
  sealed_credentials: Buffer | null;
  /** Pinned SHA-256 fingerprint of the camera's RTSPS certificate (AA:BB:...), if any. */
  tls_fingerprint256: string | null;
  /** PEM of the CA (or the camera's own self-signed certificate) trusted for RTSPS, if any. */
  tls_ca_pem: string | null;
  /** continuous | scheduled | off */
  recording_mode: string;
  /** JSON array of weekly windows {days, from, to}. */
  schedule: string;
  retention_days: number;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  password_history: PasswordHistoryTable;
  role_grants: RoleGrantsTable;
  sessions: SessionsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  api_tokens: ApiTokensTable;
  keys: KeysTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  alarms: AlarmsTable;
  settings: SettingsTable;
  login_sources: LoginSourcesTable;
  video_segments: VideoSegmentsTable;
  cameras: CamerasTable;
}
