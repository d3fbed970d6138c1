// audit (Vigil targets, administrator API token; read-only but for two logins): the security
// event log as the lab reads it through the target's API.
// - fields: a failed and a successful login made by this check, and the file accesses of earlier
//   probes, are in the log with a full timestamp, the user, the source, the action and the
//   outcome (NVR-5.2.7.1a);
// - integrity: anonymous and unprivileged reads are refused, no method of the API changes or
//   deletes an event, the chain verifies and an event read before reads the same after
//   (NVR-5.2.7.1b; tampering with the database file itself is an on-device test);
// - retention: the configured capacity and retention are reported (NVR-5.2.7.1c, partly).
import type { AssessContext } from './context.ts';
import { httpProbe, type WebEndpoint } from './http-probe.ts';
import { logout, tryLogin, unknownUsername } from './login-probe.ts';
import type { Finding } from './types.ts';
import { apiUnavailable, arrayField, isFullTimestamp, isRecord, vigilApi, type VigilApi } from './vigil-api.ts';

const EVENTS = '/api/v1/audit/events';
const OUTCOMES = new Set(['success', 'failure', 'denied']);
/** Write attempts on the log: none may succeed, whoever asks. */
const WRITE_ATTEMPTS: Array<[string, string]> = [['DELETE', EVENTS], ['PUT', EVENTS], ['PATCH', EVENTS], ['POST', EVENTS], ['DELETE', `${EVENTS}/1`], ['PATCH', `${EVENTS}/1`], ['POST', '/api/v1/audit/purge']];

type Event = Record<string, unknown>;

async function events(api: VigilApi, query: string): Promise<{ status: number; events: Event[] }> {
  const r = await api.call('GET', `${EVENTS}?${query}`);
  return { status: r.status, events: (arrayField(r.json, 'events') ?? []).filter(isRecord) };
}

/** What an event lacks of the fields the clause asks for. */
export function eventProblems(e: Event): string[] {
  const p: string[] = [];
  if (!isFullTimestamp(e['ts'])) p.push(`ts ${JSON.stringify(e['ts'] ?? null)} is not a full ISO 8601 timestamp`);
  for (const f of ['actor', 'source', 'category', 'action']) if (typeof e[f] !== 'string' || e[f] === '') p.push(`no ${f}`);
  if (typeof e['outcome'] !== 'string' || !OUTCOMES.has(e['outcome'])) p.push(`outcome ${JSON.stringify(e['outcome'] ?? null)}`);
  return p;
}

async function fieldsFinding(ctx: AssessContext, web: WebEndpoint, api: VigilApi): Promise<Finding> {
  const base = { id: 'audit.fields', check: 'audit' as const, title: 'Logins and file accesses are in the security log with time, user, source, action and outcome' };
  const newest = await events(api, 'limit=1&order=newest');
  const startSeq = typeof newest.events[0]?.['seq'] === 'number' ? newest.events[0]['seq'] : 0;
  // Two logins of our own: one that fails (an unknown user) and, with an account, one that works.
  const stranger = unknownUsername();
  await tryLogin(web, stranger, 'Assess-Wrong-Password-1');
  const creds = ctx.credentials;
  let loggedIn = false;
  if (creds !== undefined) {
    const ok = await tryLogin(web, creds.username, creds.password);
    if (ok.session !== undefined) {
      loggedIn = true;
      await logout(web, ok.session);
    }
  }
  const fresh = await events(api, `afterSeq=${startSeq}&limit=200&order=oldest`);
  const recent = await events(api, 'limit=500&order=newest');
  const all = [...fresh.events, ...recent.events];
  const login = (target: string, outcome: string): Event | undefined => fresh.events.find((e) => e['action'] === 'auth.login' && e['outcome'] === outcome && typeof e['target'] === 'string' && e['target'].toLowerCase().includes(target.toLowerCase()));
  const failed = login(stranger, 'failure');
  const succeeded = creds === undefined ? undefined : login(creds.username, 'success');
  const access = recent.events.find((e) => typeof e['action'] === 'string' && /^video\.(playback|export)$/.test(e['action']));
  const problems: string[] = [];
  if (fresh.status !== 200) problems.push(`GET ${EVENTS} → HTTP ${fresh.status}: the token cannot read the log`);
  if (failed === undefined) problems.push(`the failed login of unknown user "${stranger}" is not in the log`);
  if (loggedIn && succeeded === undefined) problems.push(`the successful login of "${creds?.username ?? ''}" is not in the log`);
  const bad = all.map((e) => ({ e, p: eventProblems(e) })).filter((x) => x.p.length > 0);
  if (bad.length > 0) problems.push(`${bad.length} of ${all.length} events lack fields, e.g. seq ${String(bad[0]?.e['seq'])}: ${bad[0]?.p.join(', ') ?? ''}`);
  const show = (e: Event | undefined): string => (e === undefined ? '—' : `${String(e['ts'])} ${String(e['action'])} ${String(e['outcome'])} actor=${String(e['actor'])} source=${String(e['source'])} target=${String(e['target'])}`);
  const evidence = `${all.length} events read (from seq ${startSeq}); failed login: ${show(failed)}; successful login: ${creds === undefined ? 'no account given' : show(succeeded)}; file access: ${show(access)}${problems.length > 0 ? `; problems: ${problems.join('; ')}` : ''}`;
  if (problems.length > 0) return { ...base, status: 'fail', clauses: [{ id: 'NVR-5.2.7.1a' }], evidence, severity: 'medium', fix: 'Log every login (success and failure) and every access to recordings with a full timestamp, the user, the source address, the action and the outcome.' };
  // File access is shown only when a recording was asked for (the intrusive alarms probe does).
  const partial = access === undefined ? 'no access to a recording was made during the assessment (run the alarms probe with --intrusive)' : !loggedIn ? 'no account given (--credentials) for a successful login' : undefined;
  return { ...base, status: 'pass', clauses: [partial === undefined ? { id: 'NVR-5.2.7.1a' } : { id: 'NVR-5.2.7.1a', partial }], evidence };
}

async function integrityFinding(ctx: AssessContext, web: WebEndpoint, api: VigilApi): Promise<Finding> {
  const base = { id: 'audit.integrity', check: 'audit' as const, title: 'The security log is access-controlled, unchangeable through the API, and its chain verifies' };
  const problems: string[] = [];
  const seen: string[] = [];
  const anon = await httpProbe(web, { path: `${EVENTS}?limit=1`, headers: { accept: 'application/json' } });
  seen.push(`anonymous read → ${anon.status}`);
  if (anon.status !== 401 && anon.status !== 403) problems.push(`an anonymous read got HTTP ${anon.status}`);
  const creds = ctx.credentials;
  if (creds !== undefined) {
    const s = await tryLogin(web, creds.username, creds.password);
    if (s.session !== undefined) {
      const r = await httpProbe(web, { path: `${EVENTS}?limit=1`, headers: { accept: 'application/json', cookie: s.session.cookie } });
      seen.push(`read as "${creds.username}" → ${r.status}${r.status === 200 ? ' (this account holds the read permission)' : ''}`);
      await logout(web, s.session);
    }
  }
  const before = await events(api, 'limit=1&order=oldest');
  const first = before.events[0];
  const writes: string[] = [];
  for (const [method, path] of WRITE_ATTEMPTS) {
    const r = await api.call(method, path, method === 'DELETE' ? undefined : {});
    writes.push(`${method} ${path} → ${r.status}`);
    if (r.status >= 200 && r.status < 300) problems.push(`${method} ${path} was accepted (HTTP ${r.status})`);
  }
  const after = await events(api, 'limit=1&order=oldest');
  const again = after.events[0];
  if (first !== undefined && (again === undefined || again['seq'] !== first['seq'] || again['hash'] !== first['hash'])) problems.push(`the oldest event changed: seq ${String(first['seq'])} hash ${String(first['hash'])} → ${String(again?.['seq'])} ${String(again?.['hash'])}`);
  const verify = await api.call('GET', '/api/v1/audit/verify', undefined, 60_000);
  const v = isRecord(verify.json) ? verify.json : {};
  seen.push(`verify → HTTP ${verify.status}, ok=${String(v['ok'])}, ${String(v['checkedEvents'])} events checked`);
  if (verify.status !== 200 || v['ok'] !== true || typeof v['checkedEvents'] !== 'number' || v['checkedEvents'] < 1) problems.push(`chain verification did not succeed (HTTP ${verify.status}: ${verify.body})`);
  const evidence = `${seen.join('; ')}; write attempts with the administrator token: ${writes.join(', ')}${problems.length > 0 ? `; problems: ${problems.join('; ')}` : '; the oldest event reads the same after them'}`;
  const clauses = [{ id: 'NVR-5.2.7.1b', partial: 'an event edited in the database file must be named by verification: an on-device test' }];
  if (problems.length > 0) return { ...base, status: 'fail', clauses, evidence, severity: 'high', fix: 'Offer no route that changes or deletes events; require a permission to read; hash-chain and sign the log.' };
  return { ...base, status: 'pass', clauses, evidence };
}

async function retentionFinding(api: VigilApi): Promise<Finding> {
  const r = await api.call('GET', '/api/v1/audit/status');
  const status = isRecord(r.json) ? r.json : {};
  const capacity = isRecord(status['capacity']) ? status['capacity'] : undefined;
  const health = isRecord(status['health']) ? status['health'] : undefined;
  const ok = r.status === 200 && capacity !== undefined && Object.keys(capacity).length > 0 && health?.['ok'] === true;
  return {
    id: 'audit.capacity',
    check: 'audit',
    title: 'The security log reports its capacity and health',
    status: ok ? 'pass' : r.status === 200 ? 'fail' : 'manual',
    clauses: [{ id: 'NVR-5.2.7.1c', partial: 'the retention period against NIST SP 800-92 is reviewed in the configuration' }],
    evidence: `GET /api/v1/audit/status → HTTP ${r.status}; health ${JSON.stringify(health ?? null)}; capacity ${JSON.stringify(capacity ?? null)}`.slice(0, 600),
    ...(ok || r.status !== 200 ? {} : { severity: 'low' as const, fix: 'Report the log\'s capacity and health so an operator sees it filling.' }),
  };
}

export async function runAuditCheck(ctx: AssessContext): Promise<Finding[]> {
  const unavailable = apiUnavailable(ctx);
  const web = ctx.web;
  const token = ctx.credentials?.apiToken;
  if (unavailable !== undefined || web === undefined || token === undefined) {
    return [{ id: 'audit.fields', check: 'audit', title: 'The security log as the lab reads it', status: 'manual', clauses: [{ id: 'NVR-5.2.7.1a' }, { id: 'NVR-5.2.7.1b' }], evidence: `not run: ${unavailable ?? 'no token'}; the lab reads the log in the device's interface` }];
  }
  const api = vigilApi(web, token);
  return [await fieldsFinding(ctx, web, api), await integrityFinding(ctx, web, api), await retentionFinding(api)];
}
