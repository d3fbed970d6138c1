// accounts (intrusive, Vigil targets, administrator API token): one temporary account with the
// auditor role (no video permission), made through the target's API and deleted after.
// - its first login can do nothing but change the initial password (NVR-5.4.2.1c);
// - the change refuses a short, a simple and a reused password; after an administrator's reset,
//   the two previous passwords are refused too (GCB length, complexity, history: NVR-5.4.2.1a);
// - playback is refused without a session (401) and to this account without the permission (403)
//   (NVR-5.2.8.1c);
// - once the account enrols TOTP, a password alone no longer logs in; the code is asked for and
//   works (NVR-5.4.1.2a); the spent one-time login token and the spent code replayed are refused
//   (NVR-5.4.1.1a, for the second factor).
// Every request is one bounded call; the account is removed in `finally`, and the log must show
// it made and removed.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AssessContext } from './context.ts';
import { excerpt, httpProbe, type WebEndpoint } from './http-probe.ts';
import { logout, tryLogin, type LoginAttempt } from './login-probe.ts';
import type { Finding } from './types.ts';
import { apiUnavailable, arrayField, isRecord, vigilApi, type VigilApi } from './vigil-api.ts';
import { base32Decode, totp } from './totp.ts';

type Session = NonNullable<LoginAttempt['session']>;

const REPLAY_CLAUSES = [{ id: 'NVR-5.4.1.1a', partial: 'a password-only login is protected against replay by TLS alone (no challenge): shown by the TLS checks, judged by the lab' }];

/** A password that meets GCB rules and that nobody else knows. */
function strongPassword(): string {
  return `Qz7-${randomBytes(9).toString('base64url')}-k`;
}

async function asSession(web: WebEndpoint, s: Session, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const r = await httpProbe(web, {
    method,
    path,
    headers: { cookie: s.cookie, accept: 'application/json', ...(s.csrf === undefined ? {} : { 'x-csrf-token': s.csrf }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: excerpt(r.body, 160) };
}

/** The error code of a JSON error answer, for the evidence. */
function code(body: string): string {
  return /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? body.slice(0, 60);
}

async function login(web: WebEndpoint, username: string, password: string): Promise<Session | undefined> {
  return (await tryLogin(web, username, password)).session;
}

export async function runAccountsCheck(ctx: AssessContext): Promise<Finding[]> {
  const manual = (evidence: string): Finding[] => [
    { id: 'accounts.first-login', check: 'accounts', title: 'First access forces a change of the initial password', status: 'manual', clauses: [{ id: 'NVR-5.4.2.1c' }], evidence },
    { id: 'accounts.password-policy', check: 'accounts', title: 'Password changes follow GCB length, complexity and history', status: 'manual', clauses: [{ id: 'NVR-5.4.2.1a' }], evidence },
    { id: 'accounts.playback-access', check: 'accounts', title: 'Playback needs a session and the permission', status: 'manual', clauses: [{ id: 'NVR-5.2.8.1c' }], evidence },
    { id: 'accounts.mfa', check: 'accounts', title: 'With TOTP enrolled, a password alone does not log in', status: 'manual', clauses: [{ id: 'NVR-5.4.1.2a' }], evidence },
    { id: 'accounts.replay', check: 'accounts', title: 'A spent login token or TOTP code replayed is refused', status: 'manual', clauses: REPLAY_CLAUSES, evidence },
  ];
  const unavailable = apiUnavailable(ctx);
  if (unavailable !== undefined) return manual(`not run: ${unavailable}`);
  if (!ctx.intrusive) return manual('not run: the probe adds a temporary account to the target and deletes it after; run with --intrusive');
  const web = ctx.web;
  const token = ctx.credentials?.apiToken;
  if (web === undefined || token === undefined) return manual('not run');
  const api = vigilApi(web, token);
  const username = `vigil-assess-${randomBytes(4).toString('hex')}`;
  const passwords = [strongPassword(), strongPassword(), strongPassword(), strongPassword()] as const;
  const created = await api.call('POST', '/api/v1/users', { username, password: passwords[0], grants: [{ role: 'auditor', scopeKind: 'global' }] });
  const userId = isRecord(created.json) && typeof created.json['id'] === 'string' ? created.json['id'] : undefined;
  if (created.status !== 201 || userId === undefined) return manual(`the temporary account could not be made (POST /api/v1/users → HTTP ${created.status}: ${created.body}); the token needs users.manage`);
  ctx.progress(`accounts: temporary account ${username} (auditor role)`);
  const findings: Finding[] = [];
  let cleanup = '';
  try {
    findings.push(await firstLoginFinding(web, username, passwords[0]));
    findings.push(await policyFinding(web, api, userId, username, passwords));
    findings.push(await playbackFinding(web, username, passwords[3]));
    findings.push(...(await mfaFindings(web, username, passwords[3])));
  } finally {
    cleanup = await removeAccount(api, userId, username);
  }
  // The clean-up is part of the evidence of each finding the lab reads.
  return findings.map((f) => ({ ...f, evidence: `${f.evidence}; clean-up: ${cleanup}` }));
}

async function firstLoginFinding(web: WebEndpoint, username: string, initial: string): Promise<Finding> {
  const base = { id: 'accounts.first-login', check: 'accounts' as const, title: 'First access forces a change of the initial password', clauses: [{ id: 'NVR-5.4.2.1c' }] };
  const s = await login(web, username, initial);
  if (s === undefined) return { ...base, status: 'manual', evidence: `the new account "${username}" could not log in with its initial password` };
  // The auditor role may read the log: before the change it must not.
  const read = await asSession(web, s, 'GET', '/api/v1/audit/events?limit=1');
  await logout(web, s);
  const forced = read.status === 403 && /PASSWORD_CHANGE/.test(read.body);
  return {
    ...base,
    status: forced ? 'pass' : 'fail',
    evidence: `first login of "${username}" (initial password set by an administrator): GET /api/v1/audit/events, which its role allows → HTTP ${read.status} ${code(read.body)}`,
    ...(forced ? {} : { severity: 'high' as const, fix: 'Let an initial or default password do nothing but be changed.' }),
  };
}

async function policyFinding(web: WebEndpoint, api: VigilApi, userId: string, username: string, pw: readonly [string, string, string, string]): Promise<Finding> {
  const base = { id: 'accounts.password-policy', check: 'accounts' as const, title: 'Password changes follow GCB length, complexity and history', clauses: [{ id: 'NVR-5.4.2.1a' }] };
  const seen: string[] = [];
  const accepted: string[] = [];
  const attempt = async (s: Session, current: string, next: string, label: string, expectOk: boolean): Promise<boolean> => {
    const r = await asSession(web, s, 'POST', '/api/v1/auth/password', { currentPassword: current, newPassword: next });
    const ok = r.status >= 200 && r.status < 300;
    seen.push(`${label} → ${r.status}${ok ? '' : ` ${code(r.body)}`}`);
    if (ok && !expectOk) accepted.push(label);
    return ok;
  };
  let s = await login(web, username, pw[0]);
  if (s === undefined) return { ...base, status: 'manual', evidence: 'the temporary account could not log in' };
  const weak: Array<[string, string]> = [
    ['11 characters, 4 classes', 'Ab1!cd2@ef3'],
    ['20 lower-case letters', 'lowercaseonlyletters'],
    ['the current password again', pw[0]],
  ];
  // A weak password the target wrongly accepts becomes the current one.
  let current: string = pw[0];
  for (const [label, candidate] of weak) if (await attempt(s, current, candidate, label, false)) current = candidate;
  if (!(await attempt(s, current, pw[1], 'a strong new password', true))) return { ...base, status: accepted.length > 0 ? 'fail' : 'manual', evidence: `no strong password was accepted: ${seen.join('; ')}` };
  // Voluntary changes wait out a minimum age; an administrator's reset forces one at once.
  const reset = await api.call('POST', `/api/v1/users/${userId}/password-reset`, { newPassword: pw[2] });
  seen.push(`administrator reset → ${reset.status}`);
  s = await login(web, username, pw[2]);
  if (reset.status !== 200 || s === undefined) return { ...base, status: 'manual', evidence: `the reset did not give a session: ${seen.join('; ')}` };
  await attempt(s, pw[2], pw[1], 'the previous password', false);
  await attempt(s, pw[2], pw[0], 'the password before that', false);
  const final = await attempt(s, pw[2], pw[3], 'another strong password', true);
  const problems = [...accepted.map((a) => `${a} was accepted`), ...(final ? [] : ['a strong password was refused'])];
  return {
    ...base,
    status: problems.length === 0 ? 'pass' : 'fail',
    evidence: `${seen.join('; ')}${problems.length > 0 ? `; problems: ${problems.join(', ')}` : ''}`,
    ...(problems.length === 0 ? {} : { severity: 'medium' as const, fix: 'Refuse passwords under 12 characters, with fewer than 3 character classes, or among the last 3 (GCB).' }),
  };
}

async function playbackFinding(web: WebEndpoint, username: string, password: string): Promise<Finding> {
  const base = { id: 'accounts.playback-access', check: 'accounts' as const, title: 'Playback needs a session and the permission', clauses: [{ id: 'NVR-5.2.8.1c' }] };
  const now = Date.now();
  const path = `/api/v1/cameras/${randomUUID()}/playback?from=${new Date(now - 60_000).toISOString()}&to=${new Date(now).toISOString()}`;
  const anon = await httpProbe(web, { path, headers: { accept: 'application/json' } });
  const s = await login(web, username, password);
  if (s === undefined) return { ...base, status: 'manual', evidence: `anonymous playback → ${anon.status}; the account without video permission could not log in` };
  const denied = await asSession(web, s, 'GET', path);
  await logout(web, s);
  const ok = anon.status === 401 && denied.status === 403;
  return {
    ...base,
    status: ok ? 'pass' : 'fail',
    evidence: `GET /api/v1/cameras/<id>/playback without a session → ${anon.status}; as "${username}" (auditor: no camera.playback) → ${denied.status} ${code(denied.body)}`,
    ...(ok ? {} : { severity: 'high' as const, fix: 'Serve recordings only to authenticated users holding the playback permission for that camera.' }),
  };
}

async function removeAccount(api: VigilApi, userId: string, username: string): Promise<string> {
  const del = await api.call('DELETE', `/api/v1/users/${userId}`);
  const after = await api.call('GET', `/api/v1/users/${userId}`);
  const log = await api.call('GET', '/api/v1/audit/events?action=user.delete&limit=50&order=newest');
  const logged = (arrayField(log.json, 'events') ?? []).filter(isRecord).some((e) => typeof e['target'] === 'string' && e['target'].includes(username));
  return `DELETE user → HTTP ${del.status}, afterwards → HTTP ${after.status}${after.status === 404 ? ' (gone)' : ` (REMOVE "${username}" BY HAND)`}, user.delete ${logged ? 'in the security log' : 'NOT in the security log'}`;
}

function jsonField(body: string, name: string): unknown {
  try {
    const v: unknown = JSON.parse(body);
    return isRecord(v) ? v[name] : undefined;
  } catch {
    return undefined;
  }
}

async function postJson(web: WebEndpoint, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const r = await httpProbe(web, { method: 'POST', path, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: r.body };
}

/** Enrols TOTP for the temporary account, then logs in with and without it and replays. */
async function mfaFindings(web: WebEndpoint, username: string, password: string): Promise<Finding[]> {
  const mfaBase = { id: 'accounts.mfa', check: 'accounts' as const, title: 'With TOTP enrolled, a password alone does not log in', clauses: [{ id: 'NVR-5.4.1.2a' }] };
  const replayBase = { id: 'accounts.replay', check: 'accounts' as const, title: 'A spent login token or TOTP code replayed is refused', clauses: REPLAY_CLAUSES };
  const inconclusive = (why: string): Finding[] => [{ ...mfaBase, status: 'manual', evidence: why }, { ...replayBase, status: 'manual', evidence: why }];
  const s = await login(web, username, password);
  if (s === undefined) return inconclusive('the temporary account could not log in to enrol a second factor');
  const enrol = await asSessionRaw(web, s, 'POST', '/api/v1/auth/mfa/totp/enrol', {});
  const secret = jsonField(enrol.body, 'secret');
  const key = typeof secret === 'string' ? base32Decode(secret) : undefined;
  if (enrol.status !== 200 || key === undefined) {
    await logout(web, s);
    return inconclusive(`TOTP enrolment not offered (POST /api/v1/auth/mfa/totp/enrol → HTTP ${enrol.status})`);
  }
  const now = Date.now();
  const confirm = await asSession(web, s, 'POST', '/api/v1/auth/mfa/totp/confirm', { code: totp(key, now) });
  await logout(web, s);
  if (confirm.status !== 200) return inconclusive(`TOTP enrolment not confirmed (HTTP ${confirm.status} ${code(confirm.body)})`);
  // The enrolment spent this step; the next one is what the user's app shows a moment later.
  const next = totp(key, now + 30_000);
  const first = await tryLogin(web, username, password);
  const mfaToken = jsonField(first.response.body, 'mfaToken');
  const seen = [`TOTP enrolled; password login → ${first.outcome}`];
  let secondOk = false;
  let replays: string[] = [];
  let replayStatuses: number[] = [];
  if (first.outcome === 'mfa-required' && typeof mfaToken === 'string') {
    const second = await postJson(web, '/api/v1/auth/login/totp', { mfaToken, code: next });
    secondOk = second.status === 200;
    seen.push(`code from the authenticator → ${second.status}`);
    const again = await postJson(web, '/api/v1/auth/login/totp', { mfaToken, code: next });
    const fresh = await tryLogin(web, username, password);
    const freshToken = jsonField(fresh.response.body, 'mfaToken');
    const reused = typeof freshToken === 'string' ? await postJson(web, '/api/v1/auth/login/totp', { mfaToken: freshToken, code: next }) : { status: 0, body: '' };
    replayStatuses = [again.status, reused.status];
    replays = [`the spent login token with its code again → ${again.status} ${code(again.body)}`, `a new login with the spent code → ${reused.status} ${code(reused.body)}`];
  }
  const mfaOk = first.outcome === 'mfa-required' && secondOk;
  const replayRefused = replayStatuses.length === 2 && replayStatuses.every((st) => st >= 400 && st < 500);
  return [
    { ...mfaBase, status: mfaOk ? 'pass' : first.outcome === 'authenticated' ? 'fail' : 'manual', evidence: seen.join('; '), ...(first.outcome === 'authenticated' ? { severity: 'high' as const, fix: 'Once a second factor is enrolled, require it at every login.' } : {}) },
    { ...replayBase, status: replays.length === 0 ? 'manual' : replayRefused ? 'pass' : 'fail', evidence: replays.length === 0 ? 'no second-factor login to replay' : replays.join('; '), ...(replays.length > 0 && !replayRefused ? { severity: 'high' as const, fix: 'Spend each login token and each TOTP time-step once.' } : {}) },
  ];
}

async function asSessionRaw(web: WebEndpoint, s: Session, method: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const r = await httpProbe(web, { method, path, headers: { cookie: s.cookie, accept: 'application/json', 'content-type': 'application/json', ...(s.csrf === undefined ? {} : { 'x-csrf-token': s.csrf }) }, body: JSON.stringify(body) });
  return { status: r.status, body: r.body };
}
