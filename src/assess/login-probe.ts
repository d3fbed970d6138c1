// The JSON login API as a client sees it (Vigil's shape: POST {username, password}, a session
// cookie, a CSRF token in the body). Used by the credential and web checks.
import { randomBytes } from 'node:crypto';
import { VIGIL_AUTH_PATHS } from './declaration.ts';
import { findCookie, httpProbe, type ProbeResponse, type WebEndpoint } from './http-probe.ts';

export type LoginOutcome = 'authenticated' | 'mfa-required' | 'refused' | 'locked' | 'rate-limited' | 'setup-required' | 'no-login-api';

export interface LoginAttempt {
  outcome: LoginOutcome;
  response: ProbeResponse;
  session: { cookieName: string; cookie: string; cookieLine: string; csrf: string | undefined } | undefined;
}

function errorCode(body: string): string | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === 'object' && v !== null && 'error' in v) {
      const e = v.error;
      if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
    }
  } catch {
    // Not JSON: classified by status alone.
  }
  return undefined;
}

function field(body: string, name: string): unknown {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined;
  } catch {
    return undefined;
  }
}

export function classifyLogin(r: ProbeResponse): LoginOutcome {
  const code = errorCode(r.body);
  if (r.status === 404 || r.status === 405) return 'no-login-api';
  if (r.status === 429) return 'rate-limited';
  if (code === 'VIGIL_SETUP_REQUIRED') return 'setup-required';
  if (code === 'VIGIL_AUTH_LOCKED' || (r.status >= 400 && /\block(ed|out)\b/i.test(r.body))) return 'locked';
  if (r.status >= 200 && r.status < 300) {
    if (field(r.body, 'status') === 'mfa_required') return 'mfa-required';
    const s = field(r.body, 'status');
    if (s === 'authenticated' || r.setCookies.length > 0 || typeof field(r.body, 'token') === 'string') return 'authenticated';
  }
  return 'refused';
}

export async function tryLogin(endpoint: WebEndpoint, username: string, password: string, loginPath: string = VIGIL_AUTH_PATHS.login): Promise<LoginAttempt> {
  const response = await httpProbe(endpoint, {
    method: 'POST',
    path: loginPath,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
    timeoutMs: 15_000,
  });
  const outcome = classifyLogin(response);
  let session: LoginAttempt['session'];
  if (outcome === 'authenticated') {
    const c = findCookie(response.setCookies, (n) => /sess|sid|auth|token/i.test(n)) ?? findCookie(response.setCookies, () => true);
    const csrf = field(response.body, 'csrfToken');
    if (c !== undefined) session = { cookieName: c.name, cookie: `${c.name}=${c.value}`, cookieLine: c.line, csrf: typeof csrf === 'string' ? csrf : undefined };
  }
  return { outcome, response, session };
}

/** A user name that certainly does not exist. */
export function unknownUsername(): string {
  return `nobody-${randomBytes(6).toString('hex')}`;
}

export async function logout(endpoint: WebEndpoint, session: NonNullable<LoginAttempt['session']>): Promise<ProbeResponse> {
  return httpProbe(endpoint, {
    method: 'POST',
    path: VIGIL_AUTH_PATHS.logout,
    headers: { 'content-type': 'application/json', cookie: session.cookie, ...(session.csrf === undefined ? {} : { 'x-csrf-token': session.csrf }) },
    body: '{}',
  });
}
