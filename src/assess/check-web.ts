// web: security headers, anonymous access to protected API paths, reflected input (XSS, SQL
// error) on discovered query parameters, and CSRF on a state change (NVR-5.2.5.1a,
// NVR-5.2.6.1a-c, ACS-5.2.3.3/6, CAM-T-sys-9/10).
import { randomBytes } from 'node:crypto';
import { excerpt, httpProbe, type ProbeResponse, type WebEndpoint } from './http-probe.ts';
import { tryLogin, type LoginAttempt } from './login-probe.ts';
import { VIGIL_AUTH_PATHS } from './declaration.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

const MAX_PATHS = 16;
const MAX_PARAMS = 24;
const WEB_CLAUSES: ClauseRef[] = [
  { id: 'NVR-5.2.5.1a', partial: 'stored XSS and injection classes beyond reflected input are not probed' },
  { id: 'ACS-5.2.3.3', partial: 'only part of the OWASP Top 10 is probed' },
  { id: 'ACS-5.2.3.6', partial: 'only part of the OWASP Top 10 is probed' },
  { id: 'CAM-T-sys-9', partial: 'no known-vulnerability scanner (Nessus-class) run' },
];

export function headerProblems(r: ProbeResponse, scheme: 'http' | 'https'): string[] {
  const h = r.headers;
  const problems: string[] = [];
  if (scheme === 'http') problems.push('served over plain HTTP (HSTS impossible)');
  else {
    const maxAge = Number(/max-age=(\d+)/i.exec(h['strict-transport-security'] ?? '')?.[1] ?? '0');
    if (maxAge < 15_552_000) problems.push(h['strict-transport-security'] === undefined ? 'no Strict-Transport-Security' : `HSTS max-age ${maxAge} < 180 days`);
  }
  const csp = h['content-security-policy'];
  if (csp === undefined) problems.push('no Content-Security-Policy');
  else {
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0] !== undefined && d[0] !== '').map((d) => [(d[0] ?? '').toLowerCase(), d.slice(1)] as const));
    const script = directives.get('script-src') ?? directives.get('default-src');
    if (script === undefined) problems.push('CSP without script-src or default-src');
    else if (script.some((s) => s === "'unsafe-inline'" || s === '*' || s === "'unsafe-eval'")) problems.push(`CSP script source allows ${script.filter((s) => s === "'unsafe-inline'" || s === '*' || s === "'unsafe-eval'").join(' ')}`);
    if (!directives.has('frame-ancestors') && !/^(deny|sameorigin)$/i.test(h['x-frame-options'] ?? '')) problems.push('no frame-ancestors and no X-Frame-Options');
  }
  if (csp === undefined && !/^(deny|sameorigin)$/i.test(h['x-frame-options'] ?? '')) problems.push('no X-Frame-Options');
  if ((h['x-content-type-options'] ?? '').toLowerCase() !== 'nosniff') problems.push('no X-Content-Type-Options: nosniff');
  return problems;
}

async function headersFinding(web: WebEndpoint): Promise<Finding> {
  const paths = ['/', VIGIL_AUTH_PATHS.me];
  const lines: string[] = [];
  let bad = false;
  for (const path of paths) {
    const r = await httpProbe(web, { path });
    const p = headerProblems(r, web.scheme);
    if (p.length > 0) bad = true;
    lines.push(`${path} (${r.status}): ${p.length === 0 ? 'HSTS, CSP, frame-ancestors, nosniff present' : p.join(', ')}`);
  }
  return {
    id: 'web.headers',
    check: 'web',
    title: 'Security headers: HSTS, CSP without unsafe-inline, frame-ancestors, nosniff',
    status: bad ? 'fail' : 'pass',
    clauses: WEB_CLAUSES,
    evidence: lines.join('; '),
    ...(bad ? { severity: 'medium' as const, fix: "Send HSTS (≥ 1 year), a CSP with script-src 'self' and frame-ancestors 'none', and X-Content-Type-Options: nosniff on every answer." } : {}),
  };
}

async function anonymousAccessFinding(ctx: AssessContext, web: WebEndpoint): Promise<Finding> {
  const clauses: ClauseRef[] = [
    { id: 'NVR-5.2.6.1a-c', partial: 'replay, password and role rules of the API are tested elsewhere or by hand' },
    { id: 'ACS-5.1.1.9', partial: 'only the HTTP interface' },
    { id: 'ACS-5.4.1.3', partial: 'only the declared protected paths' },
    { id: 'CAM-T-sys-10', partial: 'only anonymous access is probed' },
  ];
  const paths = ctx.declaration.protectedPaths.slice(0, 32);
  if (paths.length === 0) return { id: 'web.anonymous-access', check: 'web', title: 'Protected API paths refuse anonymous requests', status: 'manual', clauses, evidence: 'no protected paths declared (declaration "protectedPaths")' };
  const open: string[] = [];
  const seen: string[] = [];
  for (const path of paths) {
    const r = await httpProbe(web, { path, headers: { accept: 'application/json' } });
    seen.push(`${path} ${r.status}`);
    if (r.status >= 200 && r.status < 300) open.push(`${path} → ${r.status} "${excerpt(r.body, 80)}"`);
  }
  return {
    id: 'web.anonymous-access',
    check: 'web',
    title: 'Protected API paths refuse anonymous requests',
    status: open.length === 0 ? 'pass' : 'fail',
    clauses,
    evidence: open.length === 0 ? `all refused: ${seen.join(', ')}` : `answered without authentication: ${open.join('; ')}`,
    ...(open.length === 0 ? {} : { severity: 'high' as const, fix: 'Require authentication on every API route (default-deny), except health and login.' }),
  };
}

/** Query parameter names: from the path's own query, same-origin links and GET-form inputs. */
export function discoverParameters(path: string, html: string): Array<{ path: string; param: string }> {
  const found: Array<{ path: string; param: string }> = [];
  const add = (p: string, q: string): void => {
    if (found.length < MAX_PARAMS && /^[\w.\-[\]]{1,64}$/.test(q) && !found.some((f) => f.path === p && f.param === q)) found.push({ path: p, param: q });
  };
  const own = new URL(path, 'http://x');
  for (const k of own.searchParams.keys()) add(own.pathname, k);
  for (const m of html.slice(0, 256 * 1024).matchAll(/href\s*=\s*["']([^"'#]*\?[^"'#]*)["']/gi)) {
    const href = m[1] ?? '';
    if (/^[a-z]+:/i.test(href) || href.startsWith('//')) continue; // other origins are not the target
    const u = new URL(href.replace(/&amp;/g, '&'), new URL(path, 'http://x'));
    for (const k of u.searchParams.keys()) add(u.pathname, k);
  }
  for (const form of html.slice(0, 256 * 1024).matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = form[1] ?? '';
    if (/method\s*=\s*["']?post/i.test(attrs)) continue;
    const action = /action\s*=\s*["']([^"']*)["']/i.exec(attrs)?.[1] ?? own.pathname;
    if (/^[a-z]+:/i.test(action) || action.startsWith('//')) continue;
    const target = new URL(action || own.pathname, new URL(path, 'http://x')).pathname;
    for (const input of (form[2] ?? '').matchAll(/<(?:input|select|textarea)\b[^>]*name\s*=\s*["']([^"']+)["']/gi)) add(target, input[1] ?? '');
  }
  return found;
}

const SQL_ERRORS = /SQL syntax|SQLITE_ERROR|sqlite3?\.|unterminated quoted string|pg_query|PostgreSQL.*ERROR|ORA-\d{5}|ODBC|syntax error at or near/i;

async function reflectionFinding(ctx: AssessContext, web: WebEndpoint, cookie: string | undefined): Promise<Finding> {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie };
  const targets: Array<{ path: string; param: string }> = [];
  for (const path of ctx.declaration.webPaths.slice(0, MAX_PATHS)) {
    const r = await httpProbe(web, { path, headers });
    for (const t of discoverParameters(path, r.body)) if (targets.length < MAX_PARAMS && !targets.some((x) => x.path === t.path && x.param === t.param)) targets.push(t);
  }
  const hits: string[] = [];
  for (const t of targets) {
    const marker = `vgl${randomBytes(4).toString('hex')}`;
    const payload = `${marker}'"><${marker}>`;
    const u = new URL(t.path, 'http://x');
    u.searchParams.set(t.param, payload);
    const r = await httpProbe(web, { path: `${u.pathname}${u.search}`, headers });
    const type = r.headers['content-type'] ?? '';
    const sniffable = type === '' || /html|xml/i.test(type) || (!/json|plain|css|javascript/i.test(type) && r.headers['x-content-type-options'] !== 'nosniff');
    if (r.body.includes(`<${marker}>`) && sniffable) hits.push(`reflected XSS: ${t.param} on ${t.path} is echoed unescaped into ${type || 'a response without Content-Type'} ("${excerpt(r.body.slice(Math.max(0, r.body.indexOf(marker) - 40)), 120)}")`);
    else if (SQL_ERRORS.test(r.body)) hits.push(`SQL error after a quote in ${t.param} on ${t.path}: "${excerpt(r.body, 120)}"`);
  }
  return {
    id: 'web.reflected-input',
    check: 'web',
    title: 'Query parameters are not reflected unescaped (XSS) and quotes raise no SQL error',
    status: hits.length > 0 ? 'fail' : targets.length === 0 ? 'manual' : 'pass',
    clauses: WEB_CLAUSES,
    evidence: hits.length > 0 ? hits.join('; ') : targets.length === 0 ? `no query parameter discovered on ${ctx.declaration.webPaths.length} path(s) (declaration "webPaths")` : `no reflection or SQL error on ${targets.length} parameter(s): ${targets.map((t) => `${t.path}?${t.param}`).join(', ')}`,
    ...(hits.length > 0 ? { severity: 'high' as const, fix: 'Encode output for its context (HTML-escape), send a strict CSP, and use parameterized queries.' } : {}),
  };
}

async function csrfFinding(web: WebEndpoint, attempt: LoginAttempt | undefined): Promise<Finding> {
  const clauses: ClauseRef[] = [{ id: 'ACS-5.2.3.3', partial: 'one state change is probed' }, { id: 'ACS-5.2.3.6', partial: 'one state change is probed' }];
  const base = { id: 'web.csrf', check: 'web' as const, title: 'A state change without the CSRF token is refused', clauses };
  if (attempt?.session === undefined) return { ...base, status: 'manual', evidence: attempt === undefined ? 'no account given (--credentials)' : `the given account did not yield a session (${attempt.outcome})` };
  // Logout is the state change: harmless to the target if the defence is missing.
  const forged = await httpProbe(web, { method: 'POST', path: VIGIL_AUTH_PATHS.logout, headers: { cookie: attempt.session.cookie, 'content-type': 'application/json', origin: 'https://attacker.example' }, body: '{}' });
  const still = await httpProbe(web, { path: VIGIL_AUTH_PATHS.me, headers: { cookie: attempt.session.cookie } });
  const accepted = forged.status >= 200 && forged.status < 300;
  return {
    ...base,
    status: accepted ? 'fail' : 'pass',
    evidence: `POST ${VIGIL_AUTH_PATHS.logout} with the session cookie, a foreign Origin and no x-csrf-token: ${forged.status} "${excerpt(forged.body, 100)}"; session afterwards: ${still.status}`,
    ...(accepted ? { severity: 'medium' as const, fix: 'Require a per-session CSRF token header on every cookie-authenticated state change.' } : {}),
  };
}

export async function runWebCheck(ctx: AssessContext): Promise<Finding[]> {
  const web = ctx.web;
  if (web === undefined) return [{ id: 'web.interface', check: 'web', title: 'A web interface to test', status: 'not-applicable', clauses: [], evidence: `no HTTP(S) interface answered on ${ctx.host}:${ctx.port}` }];
  const attempt = ctx.credentials === undefined ? undefined : await tryLogin(web, ctx.credentials.username, ctx.credentials.password);
  const findings = [await headersFinding(web), await anonymousAccessFinding(ctx, web), await reflectionFinding(ctx, web, attempt?.session?.cookie), await csrfFinding(web, attempt)];
  if (attempt?.session !== undefined) await httpProbe(web, { method: 'POST', path: VIGIL_AUTH_PATHS.logout, headers: { cookie: attempt.session.cookie, 'content-type': 'application/json', ...(attempt.session.csrf === undefined ? {} : { 'x-csrf-token': attempt.session.csrf }) }, body: '{}' });
  return findings;
}
