// credentials: vendor default credentials (HTTP Basic and the JSON login), user enumeration by
// answer and timing, session cookie flags, logout invalidation and — with --intrusive — lockout
// (NVR-5.4.1.1b, NVR-5.4.2.1b/d, NVR-5.4.3.1b, CAM-T-auth-1/4/5, ACS-5.1.1.1/2, ACS-5.2.1.13).
import { credentialPlan } from './default-credentials.ts';
import { excerpt, httpProbe, type WebEndpoint } from './http-probe.ts';
import { logout, tryLogin, unknownUsername, type LoginAttempt } from './login-probe.ts';
import { VIGIL_AUTH_PATHS } from './declaration.ts';
import type { AssessContext } from './context.ts';
import type { Credentials, Finding } from './types.ts';

const LOCKOUT_ATTEMPTS = 6;

function basicHeader(u: string, p: string): string {
  return `Basic ${Buffer.from(`${u}:${p}`, 'utf8').toString('base64')}`;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Bodies compared without values that differ per request anyway (ids, times). */
export function normalizeBody(body: string): string {
  return body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g, '<time>').replace(/\b(req|request)[-_]?id["':= ]+[\w-]+/gi, '<reqid>');
}

async function defaultCredentialFinding(ctx: AssessContext, web: WebEndpoint, hasJsonLogin: boolean): Promise<Finding> {
  const plan = credentialPlan(ctx.intrusive);
  const accepted: string[] = [];
  const notes: string[] = [];
  // HTTP Basic where the interface asks for it.
  const challenge = await httpProbe(web, { path: '/', timeoutMs: 8000 });
  const basic = challenge.status === 401 && /basic/i.test(challenge.headers['www-authenticate'] ?? '');
  if (basic) {
    for (const [u, p] of plan) {
      const r = await httpProbe(web, { path: '/', headers: { authorization: basicHeader(u, p) }, timeoutMs: 8000 });
      if (r.status >= 200 && r.status < 300) accepted.push(`HTTP Basic ${u}/${p === '' ? '(empty)' : p} → ${r.status}`);
      if (r.status === 429) {
        notes.push('Basic: rate limited');
        break;
      }
    }
  }
  if (hasJsonLogin) {
    for (const [u, p] of plan) {
      const a = await tryLogin(web, u, p);
      if (a.outcome === 'authenticated' || a.outcome === 'mfa-required') accepted.push(`JSON login ${u}/${p === '' ? '(empty)' : p} → ${a.outcome}`);
      if (a.outcome === 'rate-limited') {
        notes.push(`JSON login: rate limited after some attempts (HTTP 429)`);
        break;
      }
      if (a.outcome === 'setup-required') {
        notes.push('JSON login: the target is in first-run setup and refuses every login (no default account)');
        break;
      }
    }
  }
  const tried = `${plan.length} pairs${ctx.intrusive ? '' : ' (at most 3 passwords per user name without --intrusive)'} via ${[basic ? 'HTTP Basic' : '', hasJsonLogin ? `JSON ${VIGIL_AUTH_PATHS.login}` : ''].filter((x) => x !== '').join(' and ') || 'no login interface found'}`;
  const noInterface = !basic && !hasJsonLogin;
  return {
    id: 'credentials.defaults',
    check: 'credentials',
    title: 'No vendor default credential is accepted',
    status: accepted.length > 0 ? 'fail' : noInterface ? 'manual' : 'pass',
    clauses: [{ id: 'NVR-5.4.2.1b' }, { id: 'ACS-5.1.1.1' }, { id: 'CAM-T-auth-4', partial: 'GCB password rules and forced change need an account' }],
    evidence: `${accepted.length > 0 ? `accepted: ${accepted.join('; ')}. ` : ''}tried ${tried}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
    ...(accepted.length > 0 ? { severity: 'critical' as const, fix: 'Ship no default password: a per-device secret or a forced first-run setup (design: setup token).' } : {}),
  };
}

async function enumerationFinding(ctx: AssessContext, web: WebEndpoint, creds: Credentials | undefined): Promise<Finding> {
  const rounds = 3;
  const known = creds?.username ?? 'admin';
  const diffs: string[] = [];
  const knownMs: number[] = [];
  const unknownMs: number[] = [];
  let inconclusive: string | undefined;
  for (let r = 0; r < rounds; r++) {
    const wrong = `Wrong-${r}-${Date.now() % 100000}-pw`;
    const a = await tryLogin(web, known, wrong);
    const b = await tryLogin(web, unknownUsername(), wrong);
    if ([a, b].some((x) => x.outcome === 'rate-limited' || x.outcome === 'setup-required' || x.outcome === 'no-login-api')) {
      inconclusive = `${a.outcome}/${b.outcome}`;
      break;
    }
    knownMs.push(a.response.elapsedMs);
    unknownMs.push(b.response.elapsedMs);
    if (a.response.status !== b.response.status) diffs.push(`status ${a.response.status} for "${known}" vs ${b.response.status} for an unknown user`);
    else if (normalizeBody(a.response.body) !== normalizeBody(b.response.body)) diffs.push(`body "${excerpt(a.response.body, 100)}" for "${known}" vs "${excerpt(b.response.body, 100)}" for an unknown user`);
  }
  const ratio = median(knownMs) / median(unknownMs);
  const timing = `median ${median(knownMs).toFixed(1)} ms for "${known}" vs ${median(unknownMs).toFixed(1)} ms for unknown users (ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : '?'}, ${knownMs.length} rounds)`;
  // A wrong-password path that hashes and an unknown-user path that does not differ many-fold.
  if (knownMs.length > 0 && Math.min(...knownMs, ...unknownMs) > 5 && (ratio > 2.5 || ratio < 0.4)) diffs.push(`timing: ${timing}`);
  if (creds !== undefined) await tryLogin(web, creds.username, creds.password); // resets the failure counter
  const clauses = [{ id: 'NVR-5.4.1.1b' }, { id: 'ACS-5.1.1.2' }, { id: 'CAM-T-auth-1', partial: 'replay resistance is not probed' }];
  if (diffs.length > 0) {
    return { id: 'credentials.enumeration', check: 'credentials', title: 'Login errors do not reveal valid user names', status: 'fail', clauses, evidence: [...new Set(diffs)].slice(0, 4).join('; '), severity: 'medium', fix: 'Answer an unknown user exactly as a wrong password (same status, body and hashing work).' };
  }
  return {
    id: 'credentials.enumeration',
    check: 'credentials',
    title: 'Login errors do not reveal valid user names',
    status: inconclusive !== undefined || creds === undefined ? 'manual' : 'pass',
    clauses,
    evidence:
      inconclusive !== undefined
        ? `inconclusive: login answered ${inconclusive}`
        : `same status and body for "${known}" and unknown users; ${timing}${creds === undefined ? '; no known account was given (--credentials), so "admin" may not exist' : ''}`,
  };
}

function cookieFindings(web: WebEndpoint, attempt: LoginAttempt): Finding[] {
  const s = attempt.session;
  if (s === undefined) {
    return [{ id: 'credentials.session-cookie', check: 'credentials', title: 'Session cookie is HttpOnly, Secure, SameSite', status: 'fail', clauses: [{ id: 'ACS-5.2.1.13', partial: 'randomness' }], evidence: `login succeeded (${attempt.response.status}) but set no session cookie`, severity: 'low', fix: 'Carry the session in an HttpOnly, Secure, SameSite=Strict cookie.' }];
  }
  const line = s.cookieLine;
  const problems: string[] = [];
  if (!/;\s*httponly/i.test(line)) problems.push('no HttpOnly');
  if (web.scheme === 'https' && !/;\s*secure/i.test(line)) problems.push('no Secure');
  if (web.scheme === 'http') problems.push('sent over plain HTTP');
  if (!/;\s*samesite=(strict|lax)/i.test(line)) problems.push('no SameSite=Strict/Lax');
  const value = s.cookie.slice(s.cookieName.length + 1);
  if (value.length < 22) problems.push(`value of ${value.length} characters (< 128 bits)`);
  const attrs = line.split(';').slice(1).map((a) => a.trim()).join('; ');
  return [{
    id: 'credentials.session-cookie',
    check: 'credentials',
    title: 'Session cookie is HttpOnly, Secure, SameSite and long enough',
    status: problems.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'ACS-5.2.1.13', partial: 'the generator cannot be seen from outside' }, { id: 'CAM-T-auth-5', partial: 'roles and idle timeout need manual steps' }],
    evidence: `${problems.length > 0 ? `${problems.join(', ')}. ` : ''}cookie ${s.cookieName} (${value.length} characters), attributes: ${attrs}`,
    ...(problems.length === 0 ? {} : { severity: 'medium' as const, fix: 'Set HttpOnly, Secure and SameSite=Strict on the session cookie; 256 random bits.' }),
  }];
}

async function logoutFinding(web: WebEndpoint, attempt: LoginAttempt): Promise<Finding> {
  const s = attempt.session;
  const clauses = [{ id: 'ACS-5.2.1.13', partial: 'the generator cannot be seen from outside' }, { id: 'NVR-5.4.3.1b', partial: 'the idle timeout is not waited for' }, { id: 'CAM-T-auth-5', partial: 'roles and idle timeout need manual steps' }];
  if (s === undefined) return { id: 'credentials.logout', check: 'credentials', title: 'Logout invalidates the session at once', status: 'manual', clauses, evidence: 'no session cookie to replay' };
  const before = await httpProbe(web, { path: VIGIL_AUTH_PATHS.me, headers: { cookie: s.cookie, accept: 'application/json' } });
  const out = await logout(web, s);
  const after = await httpProbe(web, { path: VIGIL_AUTH_PATHS.me, headers: { cookie: s.cookie, accept: 'application/json' } });
  const valid = before.status >= 200 && before.status < 300;
  const stillValid = after.status >= 200 && after.status < 300;
  return {
    id: 'credentials.logout',
    check: 'credentials',
    title: 'Logout invalidates the session at once (the old cookie replayed is refused)',
    status: !valid ? 'manual' : stillValid ? 'fail' : 'pass',
    clauses,
    evidence: `GET ${VIGIL_AUTH_PATHS.me} with the session: ${before.status}; logout: ${out.status}; the same cookie replayed after logout: ${after.status}${!valid ? ' (the session did not work before logout: inconclusive)' : ''}`,
    ...(valid && stillValid ? { severity: 'high' as const, fix: 'Delete the session on the server at logout; a replayed cookie must get 401.' } : {}),
  };
}

async function lockoutFinding(ctx: AssessContext, web: WebEndpoint, creds: Credentials | undefined): Promise<Finding> {
  const clauses = [{ id: 'NVR-5.4.2.1d' }, { id: 'CAM-T-auth-4', partial: 'GCB password rules and forced change need an account' }];
  const base = { id: 'credentials.lockout', check: 'credentials' as const, title: `The account locks after at most 5 failed logins`, clauses };
  if (!ctx.intrusive) return { ...base, status: 'manual', evidence: 'not run: the lockout probe locks an account; run with --intrusive' };
  const account = creds?.lockout ?? creds;
  if (account === undefined) return { ...base, status: 'manual', evidence: 'not run: needs a valid account (--credentials, optionally "lockout": a sacrificial account) to show the right password is refused once locked' };
  const outcomes: string[] = [];
  for (let i = 0; i < LOCKOUT_ATTEMPTS; i++) outcomes.push((await tryLogin(web, account.username, `Not-The-Password-${i}-x`)).outcome);
  const right = await tryLogin(web, account.username, account.password);
  const evidence = `${LOCKOUT_ATTEMPTS} wrong passwords for "${account.username}": ${outcomes.join(', ')}; then the right password: ${right.outcome} (HTTP ${right.response.status})`;
  if (right.outcome === 'authenticated' || right.outcome === 'mfa-required') {
    return { ...base, status: 'fail', evidence, severity: 'high', fix: 'Lock the account for ≥ 1 minute (GCB: 15) after at most 5 consecutive failures.' };
  }
  if (right.outcome === 'rate-limited' || outcomes.includes('rate-limited')) return { ...base, status: 'manual', evidence: `${evidence}; rate limiting interfered, so lockout is not shown` };
  return { ...base, status: 'pass', evidence: `${evidence}; the account "${account.username}" stays locked for the target's lockout period` };
}

export async function runCredentialsCheck(ctx: AssessContext): Promise<Finding[]> {
  const web = ctx.web;
  if (web === undefined) {
    return [{ id: 'credentials.interface', check: 'credentials', title: 'A login interface to test', status: 'manual', clauses: [{ id: 'NVR-5.4.2.1b' }], evidence: `no HTTP(S) interface answered on ${ctx.host}:${ctx.port}${ctx.trustNote === '' ? '' : ` (${ctx.trustNote})`}` }];
  }
  const creds = ctx.credentials;
  const findings: Finding[] = [];
  // A first login with the given account: session probes, and it clears earlier failures.
  let attempt: LoginAttempt | undefined;
  if (creds !== undefined) {
    attempt = await tryLogin(web, creds.username, creds.password);
    ctx.progress(`credentials: login with the given account: ${attempt.outcome}`);
  }
  const probe = await tryLogin(web, unknownUsername(), 'Probe-Only-Password-1');
  // A JSON login API answers JSON and is not an HTTP Basic challenge.
  const hasJsonLogin = probe.outcome !== 'no-login-api' && probe.response.headers['www-authenticate'] === undefined && (probe.response.headers['content-type'] ?? '').includes('json');
  if (attempt?.outcome === 'authenticated') {
    findings.push(...cookieFindings(web, attempt));
    findings.push(await logoutFinding(web, attempt));
  } else if (creds !== undefined) {
    findings.push({ id: 'credentials.session-cookie', check: 'credentials', title: 'Session cookie and logout', status: 'manual', clauses: [{ id: 'ACS-5.2.1.13' }], evidence: `the given account did not yield a session: ${attempt?.outcome ?? '?'} (HTTP ${attempt?.response.status ?? '?'}); an account without a second factor is needed` });
  } else {
    findings.push({ id: 'credentials.session-cookie', check: 'credentials', title: 'Session cookie and logout', status: 'manual', clauses: [{ id: 'ACS-5.2.1.13' }], evidence: 'no account given (--credentials)' });
  }
  findings.push(await defaultCredentialFinding(ctx, web, hasJsonLogin));
  if (creds !== undefined) await tryLogin(web, creds.username, creds.password);
  findings.push(hasJsonLogin ? await enumerationFinding(ctx, web, creds) : { id: 'credentials.enumeration', check: 'credentials', title: 'Login errors do not reveal valid user names', status: 'manual', clauses: [{ id: 'NVR-5.4.1.1b' }], evidence: `no JSON login API at ${VIGIL_AUTH_PATHS.login} (HTTP ${probe.response.status}); test the device's own login form by hand` });
  findings.push(await lockoutFinding(ctx, web, creds));
  return findings;
}
