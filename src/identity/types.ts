// Identity contracts shared by the services, the HTTP layer and the CLI. The crypto primitives
// are narrow interfaces so identity does not depend on how crypto implements them: the real
// Keyring and PasswordHasher (src/crypto) satisfy them structurally.
import type { AlarmSink } from '../alarms/types.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Store } from '../store/database.ts';
import type { Grant, Role, ScopeKind } from './permissions.ts';

/** AES-256-GCM sealing under a keyring DEK (NVR-5.2.4.1a). */
export interface SecretSealer {
  seal(purpose: string, plaintext: Uint8Array | string, aad?: string): Promise<Buffer>;
  open(purpose: string, sealed: Uint8Array, aad?: string): Promise<Buffer>;
}

/** PBKDF2-HMAC-SHA256 in a bounded worker pool (design §4). */
export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(password: string, encoded: string): Promise<boolean>;
  /** Same cost as verify, for unknown users, so timing does not reveal them (NVR-5.4.1.1b). */
  verifyDummy(password: string): Promise<false>;
}

export type SecurityConfig = Config['security'];

export interface IdentityDeps {
  store: Store;
  sealer: SecretSealer;
  hasher: PasswordHashing;
  audit: AuditSink;
  alarms: AlarmSink;
  clock: Clock;
  config: SecurityConfig;
}

/** Who is asking, from where. `actor` is absent before authentication. */
export interface RequestContext {
  sourceIp: string;
  userAgent: string;
  actor?: Principal;
  /** The page asked on its own (a poll): not user activity, so the idle timeout keeps running. */
  background?: boolean;
}

export type AuthMethod = 'session' | 'api-token';
export type MfaMethod = 'totp' | 'webauthn';

/** The authenticated caller, as every access decision sees it. */
export interface Principal {
  userId: string;
  username: string;
  grants: Grant[];
  authMethod: AuthMethod;
  /** SHA-256 (hex) of the session token; identifies the session without being it. */
  sessionIdHash?: string;
  mfaPassed: boolean;
  /** A role requires MFA and the user has none: only enrolment, whoami and logout are allowed. */
  mfaEnrolmentRequired: boolean;
  /** First access after creation/reset (NVR-5.4.2.1c) or password past its maximum age (ACS-5.1.3.1). */
  passwordChangeRequired: boolean;
  /** Whole days until the password expires; 0 or less when it has (ACS-5.1.1.7 reminder). */
  passwordExpiresInDays: number;
}

/** A session handed to the client once: the token and CSRF token are never stored. */
export interface IssuedSession {
  token: string;
  csrfToken: string;
  /** Absolute end of the session (epoch ms). */
  expiresAt: number;
  idleTimeoutMs: number;
  principal: Principal;
  /** CAM-T-priv-2: set when the session comes from a login (not a password change). */
  login?: LoginNotice;
}

export type LoginResult =
  | { kind: 'session'; session: IssuedSession }
  | { kind: 'mfa'; mfaToken: string; methods: MfaMethod[] };

export interface LoginInput {
  username: string;
  password: string;
}

/** CAM-T-priv-2: what a new-login notice shows. */
export interface LoginNotice {
  userId: string;
  username: string;
  sourceIp: string;
  userAgent: string;
  at: number;
  /** No earlier login of this user from this address. */
  newSource: boolean;
  /** SHA-256 of the session the login opened: lets that session leave its own login out. */
  sessionIdHash: string;
}

export type LoginListener = (notice: LoginNotice) => void;

export interface GrantInput {
  role: string;
  scopeKind: string;
  /** Omitted or '' for global grants. */
  scopeId?: string;
}

export interface UserProfile {
  displayName: string;
  email: string;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  email: string;
  grants: Grant[];
  disabled: boolean;
  mustChangePassword: boolean;
  passwordChangedAt: number;
  lockedUntil: number | null;
  totpEnabled: boolean;
  webauthnCredentials: number;
  createdAt: number;
  updatedAt: number;
  /** The most recent successful login and its address (null before the first). */
  lastLoginAt: number | null;
  lastLoginFrom: string | null;
}

export interface NewUserInput {
  username: string;
  password: string;
  displayName?: string;
  email?: string;
  grants?: GrantInput[];
}

export interface UserPatch {
  displayName?: string;
  email?: string;
  disabled?: boolean;
}

export interface SessionView {
  /** The session's id hash: enough to revoke it, useless to authenticate with. */
  id: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  mfaPassed: boolean;
  sourceIp: string;
  userAgent: string;
}

export interface TotpEnrolment {
  /** Base32 secret for manual entry; shown once, sealed when confirmed. */
  secret: string;
  otpauthUrl: string;
}

export interface WebauthnCredentialView {
  id: string;
  name: string;
  transports: string[];
  createdAt: number;
  /** Last login it signed; null if never. */
  lastUsedAt: number | null;
}

/** A user's second factors as the user sees them (Account page, NVR-5.4.1.2a). */
export interface MfaStatus {
  /** A role of the user requires a second factor (config.mfaRequiredRoles). */
  required: boolean;
  totpEnabled: boolean;
  passkeys: WebauthnCredentialView[];
}

export interface ApiTokenView {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revoked: boolean;
}

export interface NewApiToken {
  /** `vgl_<id>_<secret>`: shown once, only its SHA-256 is kept. */
  token: string;
  apiToken: ApiTokenView;
}

export type { Grant, Role, ScopeKind };
