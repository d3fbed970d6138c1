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
  /** Last login this credential signed (migration 011); null until then. */
  last_used_at: number | null;
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

/** An access-control site: doors and areas belong to one (005). */
export interface AccessSitesTable {
  id: string;
  name: string;
  /** IANA time zone in which the site's schedules are read, e.g. 'Europe/Berlin'. */
  timezone: string;
  /** 1 while the site is locked down: every request is denied except authorised overrides. */
  lockdown: number;
  lockdown_changed_at: number | null;
  created_at: number;
  updated_at: number;
}

/** An area of a site, for anti-passback (005). */
export interface AccessAreasTable {
  id: string;
  site_id: string;
  name: string;
  /** off | soft | hard: the rule applied when entering this area. */
  anti_passback: string;
  created_at: number;
  updated_at: number;
}

/** A door: lock output, inputs, mode and rules (005). */
/** 010: the enrolled controller (device ID) that drives a door; at most one per door. */
export interface AccessDoorControllersTable {
  door_id: string;
  controller_id: string;
  assigned_at: number;
}

export interface AccessDoorsTable {
  id: string;
  site_id: string;
  name: string;
  /** Area left and area entered through this door (anti-passback); null when not tracked. */
  area_from: string | null;
  area_to: string | null;
  /** Controller relay number driving the lock. */
  lock_output: number;
  /** Controller input numbers of the door-position switch and request-to-exit; null when absent. */
  door_position_input: number | null;
  rex_input: number | null;
  /** card | card_and_pin | locked */
  mode: string;
  unlock_seconds: number;
  held_open_seconds: number;
  /** Doors sharing a group form an interlock (mantrap): one may open only while the others are shut. */
  interlock_group: string | null;
  /** Schedule during which the door stands unlocked; null for none. */
  unlock_schedule_id: string | null;
  /** 1: the unlock schedule starts only after the first granted person of the day. */
  first_person_in: number;
  created_at: number;
  updated_at: number;
}

/** Weekly intervals and holidays with their own intervals, both JSON (005). */
export interface AccessSchedulesTable {
  id: string;
  name: string;
  /** JSON array of {days, from, to}. */
  intervals: string;
  /** JSON array of {date: 'YYYY-MM-DD', name, intervals}. */
  holidays: string;
  created_at: number;
  updated_at: number;
}

/** A person holding credentials; personal data kept to a name (005). */
export interface AccessCardholdersTable {
  id: string;
  name: string;
  /** active | suspended */
  status: string;
  valid_from: number | null;
  valid_until: number | null;
  /** 1: may pass during a site lockdown (authorised override). */
  lockdown_override: number;
  created_at: number;
  updated_at: number;
}

/** A card, with an optional PIN and duress PIN stored as keyed HMAC-SHA256 only (005). */
export interface AccessCredentialsTable {
  id: string;
  cardholder_id: string;
  /** e.g. h10301, h10302, c1k35, raw */
  card_format: string;
  /** Decimal card number. */
  card_number: string;
  /** 'hmac-sha256$<base64>' of the PIN under the keyring's access.pin key; never the PIN. */
  pin_hash: string | null;
  duress_pin_hash: string | null;
  /**
   * The edge verifiers (src/access/edge-pin.ts) of the PIN and duress PIN, sealed by the keyring
   * (purpose access.pin.edge), base64; null without that PIN or for a PIN set before migration 012.
   */
  pin_edge_verifier: string | null;
  duress_pin_edge_verifier: string | null;
  /** active | suspended | lost | revoked */
  status: string;
  valid_from: number | null;
  valid_until: number | null;
  created_at: number;
  updated_at: number;
}

/** An access level: a set of doors under one schedule (005). */
export interface AccessLevelsTable {
  id: string;
  name: string;
  schedule_id: string;
  created_at: number;
  updated_at: number;
}

export interface AccessLevelDoorsTable {
  level_id: string;
  door_id: string;
}

export interface AccessCardholderLevelsTable {
  cardholder_id: string;
  level_id: string;
}

/** The area a cardholder was last granted into (anti-passback state) (005). */
export interface AccessPresenceTable {
  cardholder_id: string;
  site_id: string;
  area_id: string;
  updated_at: number;
}

/** One access decision or door event (ACS-5.6.1.1) (005). */
export interface AccessEventsTable {
  /** Event ID (UUID). */
  id: string;
  /** ISO 8601 UTC (ACS-5.6.1.5). */
  ts: string;
  /** Epoch ms of ts, for ranges. */
  at: number;
  /** access | door | lockdown */
  category: string;
  /** e.g. access.granted, access.denied, door.forced_open, door.held_open */
  type: string;
  /** granted | denied | alarm | info */
  outcome: string;
  reason: string;
  /** e.g. 'door:<id>', 'user:<name>' */
  source: string;
  site_id: string | null;
  door_id: string | null;
  cardholder_id: string | null;
  credential_id: string | null;
  /** JSON object of extra facts; never a PIN. */
  details: string;
}

/** Sealed RTSP Digest HA1 of an account, per algorithm (006). */
export interface RtspDigestCredentialsTable {
  user_id: string;
  algorithm: string;
  realm: string;
  sealed_ha1: Buffer;
  updated_at: number;
}

/** Sealed password of an account for ONVIF WS-Security PasswordDigest (008). */
export interface OnvifCredentialsTable {
  user_id: string;
  sealed_password: Buffer;
  updated_at: number;
}

/** An administrator's on/off choice for one discovery protocol (009); no row means off. */
export interface DiscoveryProtocolsTable {
  /** ws-discovery | ssdp | mdns | snmp */
  protocol: string;
  enabled: number;
  updated_by: string;
  updated_at: number;
}

/** The SNMPv3 USM user of the read-only agent (009): passphrases sealed, never in clear. */
export interface SnmpUsersTable {
  username: string;
  /** sha256 | sha512 ... (RFC 7860) */
  auth_protocol: string;
  /** aes128 (RFC 3826) */
  priv_protocol: string;
  sealed_passphrases: Buffer;
  updated_at: number;
}

/** A device of the site enrolled with the device CA (007): ACS-5.1.1.11, one row per identity. */
export interface DevicesTable {
  /** The identity in the certificate's SAN URI urn:vigil:device:<id>. */
  id: string;
  /** controller | lock | reader */
  kind: string;
  /** pending (token issued) | enrolled | revoked */
  status: string;
  /** unknown (not attested yet) | trusted | untrusted (attestation failed: ACS-5.1.1.6) */
  trust: string;
  /** Hex serial of the current certificate. */
  cert_serial: string | null;
  cert_not_after: number | null;
  /** Hex SHA-256 of the device key's SPKI DER. */
  public_key_id: string | null;
  /** Last software measurement the device attested (hex SHA-256). */
  measurement: string | null;
  created_at: number;
  enrolled_at: number | null;
  last_seen_at: number | null;
  updated_at: number;
}

/** One-time enrolment token (007), kept only as its SHA-256. */
export interface DeviceEnrolmentTokensTable {
  token_hash: string;
  device_id: string;
  kind: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Revoked device certificate serials (007), checked on every connection (ACS-5.1.1.4). */
export interface DeviceRevocationsTable {
  serial: string;
  device_id: string;
  reason: string;
  revoked_at: number;
}

/** Where each controller's forwarded event chain stands (007). */
export interface DeviceEventHeadsTable {
  device_id: string;
  /** Bumped when the device's log restarts from seq 1 (a reboot lost its memory). */
  epoch: number;
  last_seq: number;
  last_hash: string;
  updated_at: number;
}

/** Events forwarded by controllers (007), in their order, with their chain hashes (ACS-5.4.2.3). */
export interface DeviceEventsTable {
  device_id: string;
  epoch: number;
  seq: number;
  /** ISO 8601 UTC as the device recorded it. */
  ts: string;
  type: string;
  door_id: string;
  subject: string;
  reason: string;
  prev_hash: string;
  hash: string;
  received_at: number;
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
  access_sites: AccessSitesTable;
  access_areas: AccessAreasTable;
  access_doors: AccessDoorsTable;
  access_schedules: AccessSchedulesTable;
  access_cardholders: AccessCardholdersTable;
  access_credentials: AccessCredentialsTable;
  access_levels: AccessLevelsTable;
  access_level_doors: AccessLevelDoorsTable;
  access_cardholder_levels: AccessCardholderLevelsTable;
  access_presence: AccessPresenceTable;
  access_events: AccessEventsTable;
  access_door_controllers: AccessDoorControllersTable;
  rtsp_digest_credentials: RtspDigestCredentialsTable;
  onvif_credentials: OnvifCredentialsTable;
  devices: DevicesTable;
  device_enrolment_tokens: DeviceEnrolmentTokensTable;
  device_revocations: DeviceRevocationsTable;
  device_event_heads: DeviceEventHeadsTable;
  device_events: DeviceEventsTable;
  discovery_protocols: DiscoveryProtocolsTable;
  snmp_users: SnmpUsersTable;
}
