// Errors with stable codes. Every error that can reach a client or an operator is a VigilError
// with a code from ERROR_CODES: the code never changes once released, the message is safe to
// show (ACS-5.2.1.7: no internals, no secrets), and `status` is the HTTP status it maps to.

export const ERROR_CODES = {
  // core
  VIGIL_CONFIG_INVALID: 500,
  VIGIL_CONFIG_FILE_UNREADABLE: 500,
  VIGIL_INTERNAL: 500,
  VIGIL_VALIDATION: 400,
  VIGIL_NOT_FOUND: 404,
  VIGIL_CONFLICT: 409,
  VIGIL_RATE_LIMITED: 429,
  VIGIL_PAYLOAD_TOO_LARGE: 413,
  // crypto / keyring
  VIGIL_KEYRING_UNAVAILABLE: 500,
  VIGIL_KEYRING_KEK_PERMISSIONS: 500,
  VIGIL_CRYPTO_OPEN_FAILED: 500,
  VIGIL_CRYPTO_BAD_INPUT: 400,
  VIGIL_TLS_CERT_INVALID: 400,
  VIGIL_PKCS11_FAILED: 500,
  // store
  VIGIL_STORE_UNAVAILABLE: 503,
  VIGIL_STORE_MIGRATION_FAILED: 500,
  // identity
  VIGIL_SETUP_REQUIRED: 503,
  VIGIL_SETUP_ALREADY_DONE: 409,
  VIGIL_SETUP_TOKEN_INVALID: 401,
  VIGIL_AUTH_REQUIRED: 401,
  VIGIL_AUTH_FAILED: 401,
  VIGIL_AUTH_LOCKED: 401,
  VIGIL_AUTH_MFA_REQUIRED: 401,
  VIGIL_AUTH_MFA_FAILED: 401,
  VIGIL_AUTH_MFA_ENROLMENT_REQUIRED: 403,
  VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED: 403,
  VIGIL_AUTH_SESSION_EXPIRED: 401,
  VIGIL_AUTH_CSRF: 403,
  VIGIL_FORBIDDEN: 403,
  VIGIL_PASSWORD_POLICY: 400,
  VIGIL_USER_EXISTS: 409,
  VIGIL_USER_NOT_FOUND: 404,
  VIGIL_ROLE_UNKNOWN: 400,
  VIGIL_LAST_ADMIN: 409,
  VIGIL_MFA_ENROLMENT_FAILED: 400,
  // audit
  VIGIL_AUDIT_WRITE_FAILED: 503,
  VIGIL_AUDIT_CHAIN_BROKEN: 500,
  VIGIL_AUDIT_IMMUTABLE: 405,
  // alarms
  VIGIL_ALARM_NOT_FOUND: 404,
  VIGIL_ALARM_STATE: 409,
  VIGIL_WEBHOOK_URL_INVALID: 400,
  // video: mp4
  VIGIL_MP4_MALFORMED: 400,
  VIGIL_MP4_TOO_LARGE: 413,
  VIGIL_MP4_UNSUPPORTED: 415,
  VIGIL_MP4_BAD_ACCESS_UNIT: 400,
  VIGIL_MP4_PARAMETER_SETS_CHANGED: 409,
  VIGIL_MP4_INCOMPATIBLE: 409,
  // video: storage
  VIGIL_VIDEO_SEGMENT_MALFORMED: 422,
  VIGIL_VIDEO_SEGMENT_TAMPERED: 409,
  VIGIL_VIDEO_SEGMENT_SHREDDED: 410,
  VIGIL_VIDEO_STORAGE_UNAVAILABLE: 503,
  // http
  VIGIL_ROUTE_PERMISSION_MISSING: 500,
  VIGIL_TLS_PROFILE: 500,
  // access: osdp / wiegand
  VIGIL_OSDP_MALFORMED: 400,
  VIGIL_OSDP_CHECK_FAILED: 400,
  VIGIL_OSDP_SECURE_CHANNEL: 401,
  VIGIL_OSDP_DEFAULT_KEY_REFUSED: 403,
  VIGIL_OSDP_QUEUE_FULL: 503,
  VIGIL_OSDP_TRANSPORT: 503,
  VIGIL_WIEGAND_MALFORMED: 400,
  // video: rtsp / rtp
  VIGIL_RTSP_MALFORMED: 400,
  VIGIL_RTSP_LIMIT_EXCEEDED: 413,
  VIGIL_RTSP_TIMEOUT: 504,
  VIGIL_RTSP_CLOSED: 502,
  VIGIL_RTSP_STATUS: 502,
  VIGIL_RTSP_UNSUPPORTED: 415,
  VIGIL_RTSP_AUTH_FAILED: 401,
  VIGIL_RTSP_AUTH_INSECURE: 403,
  VIGIL_SDP_MALFORMED: 400,
  VIGIL_RTP_MALFORMED: 400,
  VIGIL_RTP_LIMIT_EXCEEDED: 413,
  // assess
  VIGIL_ASSESS_TARGET_REFUSED: 400,
  VIGIL_ASSESS_OPTIONS_INVALID: 400,
  VIGIL_ASSESS_DECLARATION_INVALID: 400,
  VIGIL_ASSESS_CREDENTIALS_INVALID: 400,
  VIGIL_ASSESS_CHECK_TIMEOUT: 504,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Safe, structured details for the client (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { details?: Record<string, unknown>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options?.details;
  }
}

export function isVigilError(value: unknown, code?: ErrorCode): value is VigilError {
  return value instanceof VigilError && (code === undefined || value.code === code);
}

/** Narrow an unknown thrown value to an Error for logging. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
