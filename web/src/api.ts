// The one way the UI talks to Vigil: same-origin JSON, the session cookie (HttpOnly, set by the
// server), and the CSRF token kept in memory only (never in storage) on every state change.

export interface Grant { role: string; scopeKind: string; scopeId: string }

export interface Principal {
  userId: string;
  username: string;
  grants: Grant[];
  authMethod: string;
  mfaPassed: boolean;
  mfaEnrolmentRequired: boolean;
  passwordChangeRequired: boolean;
  passwordExpiresInDays: number;
  /** What the grants allow somewhere: pages and buttons follow it; the API decides each request. */
  permissions: string[];
}

/** CAM-T-priv-2: the login that opened the session. */
export interface LoginNotice { at: string; sourceIp: string; newSource: boolean }

export function can(principal: Principal, permission: string): boolean {
  return principal.permissions.includes(permission);
}

export interface SessionIssued {
  status: 'authenticated';
  csrfToken: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
  principal: Principal;
  login?: LoginNotice;
}

export interface MfaRequired { status: 'mfa_required'; mfaToken: string; methods: string[] }

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let csrfToken: string | null = null;
type Listener = (error: ApiError) => void;
const listeners = new Set<Listener>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called for errors that change what the whole app shows (session gone, a step required). */
export function onSessionError(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const SESSION_CODES = new Set(['VIGIL_AUTH_REQUIRED', 'VIGIL_AUTH_SESSION_EXPIRED', 'VIGIL_AUTH_MFA_ENROLMENT_REQUIRED', 'VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED']);

function errorOf(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'object' && e !== null) {
      const { code, message } = e as { code?: unknown; message?: unknown };
      return new ApiError(status, typeof code === 'string' ? code : 'VIGIL_UNKNOWN', typeof message === 'string' ? message : `HTTP ${status}`);
    }
  }
  return new ApiError(status, 'VIGIL_UNKNOWN', `HTTP ${status}`);
}

/** A JSON request. The response shape is the server's validated response schema. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: object, options: { quiet?: boolean; background?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // A poll is not user activity: the server's idle timeout keeps running (src/http/access.ts).
  if (options.background === true) headers['x-vigil-background'] = '1';
  if (method !== 'GET') {
    if (method !== 'DELETE' || body !== undefined) headers['content-type'] = 'application/json';
    if (csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  }
  const response = await fetch(path, {
    method,
    headers,
    body: method === 'GET' || (method === 'DELETE' && body === undefined) ? null : JSON.stringify(body ?? {}),
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'VIGIL_BAD_RESPONSE', `unexpected answer from the server (HTTP ${response.status})`);
    }
  }
  if (!response.ok) {
    const error = errorOf(response.status, parsed);
    if (options.quiet !== true && SESSION_CODES.has(error.code)) for (const l of listeners) l(error);
    throw error;
  }
  return parsed as T;
}

/**
 * A POST whose answer is a file (an evidence bundle): streamed with progress against the
 * server's estimate, returned as a Blob with the server-chosen file name.
 */
export async function downloadPost(path: string, body: object, onProgress: (received: number, estimated: number) => void): Promise<{ blob: Blob; filename: string }> {
  const headers: Record<string, string> = { accept: 'application/zip, application/octet-stream, application/json', 'content-type': 'application/json' };
  if (csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
  if (!response.ok || response.body === null) {
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    const error = errorOf(response.status, parsed);
    if (SESSION_CODES.has(error.code)) for (const l of listeners) l(error);
    throw error;
  }
  const estimated = Number(response.headers.get('x-vigil-export-estimated-bytes') ?? '0');
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress(received, estimated);
  }
  const filename = /filename="([A-Za-z0-9._-]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'evidence.bin';
  return { blob: new Blob(parts as BlobPart[], { type: response.headers.get('content-type') ?? 'application/octet-stream' }), filename };
}

/** Hands a Blob to the browser as a file download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A datetime-local input value (local time) as an ISO 8601 UTC string. */
export function isoFromLocal(value: string): string {
  return new Date(value).toISOString();
}

/** A Date as a datetime-local input value (local time, minutes). */
export function localInputValue(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function formatTime(iso: string | null): string {
  if (iso === null) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
