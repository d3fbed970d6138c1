// One assessment: resolve and vet the target, find its web interface, run the checks in order,
// each under its own time bound, then turn findings into clause verdicts, levels and reports.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { VigilError, asError } from '../core/errors.ts';
import { runAccountsCheck } from './check-accounts.ts';
import { runAlarmsCheck } from './check-alarms.ts';
import { runAuditCheck } from './check-audit.ts';
import { runCredentialsCheck } from './check-credentials.ts';
import { runDeclarationsCheck } from './check-declarations.ts';
import { runDiscoveryCheck } from './check-discovery.ts';
import { runOnvifCheck } from './check-onvif.ts';
import { runPortsCheck } from './check-ports.ts';
import { runRtspCheck } from './check-rtsp.ts';
import { runSbomCheck } from './check-sbom.ts';
import { runServicesCheck } from './check-services.ts';
import { runSessionsCheck } from './check-sessions.ts';
import { runTlsCheck } from './check-tls.ts';
import { runTransportCheck } from './check-transport.ts';
import { runUpdatePackageCheck } from './check-update-package.ts';
import { runWebCheck } from './check-web.ts';
import type { AssessContext } from './context.ts';
import { emptyDeclaration, loadCredentials, loadDeclaration, vigilDeclaration } from './declaration.ts';
import { endpointUrl, httpProbe, type WebEndpoint } from './http-probe.ts';
import { evaluate } from './levels.ts';
import { logout, tryLogin } from './login-probe.ts';
import { buildReport, type AssessReport } from './report.ts';
import { renderHtml } from './report-html.ts';
import { renderMarkdown } from './report-md.ts';
import { resolveTarget } from './target.ts';
import { observeHandshake } from './tls-probe.ts';
import { type CheckId, type CheckOutcome, type Finding, type Profile, type ProgressSink, type Status } from './types.ts';

export const REPORT_FORMATS = ['json', 'md', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface AssessOptions {
  host: string;
  port: number;
  profile: Profile;
  level: 1 | 2 | 3;
  declarationFile?: string;
  credentialsFile?: string;
  caFile?: string;
  outDir: string;
  formats: ReportFormat[];
  only: CheckId[];
  intrusive: boolean;
  excludePorts: string[];
  checkTimeoutMs: number;
  useExternalTools: boolean;
  progress: ProgressSink;
  rtspPorts?: number[];
  rtspPaths?: string[];
  fuzzCases?: number;
  fuzzSeed?: number;
  updatePackage?: string;
  sbomFile?: string;
  advisoriesFile?: string;
  /** How long the signal-loss probe waits for its alarm (the "N s" of NVR-5.1.2.1a). */
  alarmWaitSeconds?: number;
  /** Longest idle timeout the sessions probe waits out (NVR-5.4.3.1b). */
  idleWaitMaxSeconds?: number;
}

const TITLES: Record<CheckId, string> = {
  ports: 'Open TCP/UDP ports against the declaration',
  tls: 'TLS protocol versions, suites, groups and certificate',
  services: 'Cleartext and discovery services',
  sessions: 'Idle timeout waited out: an idle session ends, an active one does not',
  transport: 'Every open port: TLS 1.2+ with AES-256-equivalent ECDHE suites, or a redirect (video only over TLS)',
  web: 'Web security headers, anonymous access, reflected input, CSRF',
  credentials: 'Default credentials, user enumeration, session, logout, lockout',
  rtsp: 'RTSP(S): anonymous DESCRIBE, offered schemes, Digest replay, bounded fuzz',
  onvif: 'ONVIF: anonymous GetDeviceInformation, UsernameToken replay',
  alarms: 'Signal-loss alarm of a probe camera (intrusive, API token), logged and cleaned up',
  accounts: 'A temporary account (intrusive, API token): forced first change, GCB password rules, playback permission; deleted after',
  discovery: 'UPnP, Bonjour and SNMP toggled on and off through the API (intrusive, API token), each shown answering then silent',
  audit: 'Security log through the API (token): fields of logins and file access, no write route, chain verifies',
  'update-package': 'Update package: entropy map, containers, secrets and endpoints inside',
  sbom: 'Known vulnerabilities of the SBOM components against an offline advisory list',
  declarations: 'Hardware and documentation clauses (manual, with the evidence asked for)',
};

const RUNNERS: Record<CheckId, (ctx: AssessContext) => Promise<Finding[]>> = {
  ports: runPortsCheck,
  tls: runTlsCheck,
  services: runServicesCheck,
  transport: runTransportCheck,
  web: runWebCheck,
  credentials: runCredentialsCheck,
  sessions: runSessionsCheck,
  rtsp: runRtspCheck,
  onvif: runOnvifCheck,
  alarms: runAlarmsCheck,
  accounts: runAccountsCheck,
  discovery: runDiscoveryCheck,
  audit: runAuditCheck,
  'update-package': runUpdatePackageCheck,
  sbom: runSbomCheck,
  declarations: runDeclarationsCheck,
};

/**
 * Ports first (later checks use what it found); RTSP and ONVIF before credentials (their replay
 * probes need the account unlocked); the lockout probe is the last act on a login (the API token
 * probes after it do not log in as the locked account); discovery toggles after the services
 * check saw the target as found; the audit check after the alarms and accounts probes, so the
 * log holds their file access and account changes; offline files after.
 */
const ORDER: readonly CheckId[] = ['ports', 'tls', 'services', 'transport', 'web', 'rtsp', 'onvif', 'credentials', 'sessions', 'alarms', 'accounts', 'discovery', 'audit', 'update-package', 'sbom', 'declarations'];

/** Input files are the operator's: unreadable ones are a usage error before any probe. */
function requireFile(file: string | undefined, option: string): void {
  if (file === undefined) return;
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new VigilError('VIGIL_ASSESS_OPTIONS_INVALID', `cannot read ${option} ${file}`, { cause: err });
  }
}

export function checkStatus(findings: readonly Finding[]): Status {
  const has = (s: Status): boolean => findings.some((f) => f.status === s);
  if (has('fail')) return 'fail';
  if (has('manual')) return 'manual';
  if (has('not-implemented')) return 'not-implemented';
  if (has('declared')) return 'declared';
  if (has('pass')) return 'pass';
  return 'not-applicable';
}

async function runBounded(id: CheckId, ctx: AssessContext): Promise<CheckOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  ctx.signal = controller.signal;
  ctx.notes = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new VigilError('VIGIL_ASSESS_CHECK_TIMEOUT', `check ${id} did not finish within ${Math.round(ctx.checkTimeoutMs / 1000)} s`));
    }, ctx.checkTimeoutMs);
  });
  let findings: Finding[];
  try {
    findings = await Promise.race([RUNNERS[id](ctx), deadline]);
  } catch (err) {
    const e = asError(err);
    ctx.progress(`${id}: could not complete: ${e.message}`);
    // The check's own failure is not the target's: reported, and the clause stays open for the lab.
    findings = [{ id: `${id}.error`, check: id, title: `${TITLES[id]}: the check could not complete`, status: 'manual', clauses: [], evidence: `${e instanceof VigilError ? `${e.code}: ` : ''}${e.message}` }];
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { id, title: TITLES[id], status: checkStatus(findings), durationMs: Math.round(performance.now() - started), findings, notes: [...ctx.notes] };
}

/** Finds the management interface on the given port: HTTPS (trust as reported) or plain HTTP. */
async function discoverWeb(host: string, port: number, caPem: string | undefined): Promise<{ web: WebEndpoint | undefined; trust: string }> {
  const seen = await observeHandshake({ host, port, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT', timeoutMs: 5000, ...(caPem === undefined ? {} : { ca: caPem }) });
  if (seen.ok) {
    if (seen.authorized === true) return { web: { scheme: 'https', host, port, ...(caPem === undefined ? {} : { ca: caPem }) }, trust: caPem === undefined ? 'system trust store' : 'the --ca file' };
    const cert = seen.certificate;
    if (caPem === undefined && cert !== undefined && cert.issuer === cert.subject) {
      // Trust on first use of the self-signed certificate just observed; validation stays on.
      const probe: WebEndpoint = { scheme: 'https', host, port, ca: cert.toString() };
      try {
        await httpProbe(probe, { path: '/', timeoutMs: 5000 });
        return { web: probe, trust: `self-signed certificate pinned on first use (SHA-256 ${cert.fingerprint256}); pass --ca to verify it against the device's published certificate` };
      } catch (err) {
        return { web: undefined, trust: `self-signed certificate could not be pinned (${asError(err).message}); pass --ca` };
      }
    }
    return { web: undefined, trust: `certificate not trusted (${seen.authorizationError ?? 'unknown'}); pass the device CA with --ca` };
  }
  try {
    const r = await httpProbe({ scheme: 'http', host, port }, { path: '/', timeoutMs: 5000 });
    if (r.status > 0) return { web: { scheme: 'http', host, port }, trust: 'plain HTTP: no TLS at all' };
  } catch {
    // Neither TLS nor HTTP: no web interface on this port.
  }
  return { web: undefined, trust: `no TLS handshake (${seen.error ?? '?'}) and no HTTP answer` };
}

async function detectVigil(web: WebEndpoint | undefined): Promise<boolean> {
  if (web === undefined) return false;
  try {
    const r = await httpProbe(web, { path: '/api/v1/health', headers: { accept: 'application/json' }, timeoutMs: 8000 });
    return r.status === 200 && /^\{"status":"ok"\}$/.test(r.body.trim());
  } catch {
    return false;
  }
}

/** Vigil's declared services as the running target reports them (needs an account with system.read). */
async function fetchVigilServices(web: WebEndpoint, username: string, password: string): Promise<Array<{ id: string; protocol: string; port: number }> | undefined> {
  const login = await tryLogin(web, username, password);
  if (login.session === undefined) return undefined;
  try {
    const r = await httpProbe(web, { path: '/api/v1/system/services', headers: { cookie: login.session.cookie, accept: 'application/json' } });
    if (r.status !== 200) return undefined;
    const body: unknown = JSON.parse(r.body);
    if (typeof body !== 'object' || body === null || !('services' in body) || !Array.isArray(body.services)) return undefined;
    return body.services.flatMap((s: unknown) =>
      typeof s === 'object' && s !== null && 'id' in s && 'protocol' in s && 'port' in s && typeof s.id === 'string' && typeof s.protocol === 'string' && typeof s.port === 'number'
        ? [{ id: s.id, protocol: s.protocol, port: s.port }]
        : [],
    );
  } finally {
    await logout(web, login.session);
  }
}

export async function runAssessment(options: AssessOptions): Promise<{ report: AssessReport; files: string[] }> {
  const startedAt = new Date();
  const host = await resolveTarget(options.host);
  requireFile(options.updatePackage, '--update-package');
  requireFile(options.sbomFile, '--sbom');
  requireFile(options.advisoriesFile, '--advisories');
  const credentials = options.credentialsFile === undefined ? undefined : loadCredentials(options.credentialsFile);
  let caPem: string | undefined;
  if (options.caFile !== undefined) {
    try {
      caPem = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new VigilError('VIGIL_ASSESS_OPTIONS_INVALID', `cannot read --ca ${options.caFile}`, { cause: err });
    }
  }
  options.progress(`target ${host}:${options.port}, profile ${options.profile}, level ${options.level}${options.intrusive ? ', intrusive' : ', safe mode'}`);
  const { web, trust } = await discoverWeb(host, options.port, caPem);
  options.progress(`web interface: ${web === undefined ? 'none' : endpointUrl(web)} (${trust})`);
  const isVigil = await detectVigil(web);
  let declaration = emptyDeclaration();
  if (options.declarationFile !== undefined) declaration = loadDeclaration(options.declarationFile);
  else if (isVigil && web !== undefined) {
    const fetched = credentials === undefined ? undefined : await fetchVigilServices(web, credentials.username, credentials.password);
    declaration = vigilDeclaration(options.port, fetched);
  }
  options.progress(`declaration: ${declaration.source}`);
  const ctx: AssessContext = {
    host,
    port: options.port,
    profile: options.profile,
    level: options.level,
    intrusive: options.intrusive,
    declaration,
    declarationGiven: options.declarationFile !== undefined,
    credentials,
    caPem,
    excludePorts: new Set(options.excludePorts),
    useExternalTools: options.useExternalTools,
    web,
    trustNote: trust,
    isVigil,
    openTcp: undefined,
    openUdp: undefined,
    checkTimeoutMs: options.checkTimeoutMs,
    rtspPorts: options.rtspPorts ?? [],
    rtspPaths: options.rtspPaths ?? [],
    fuzzCases: options.fuzzCases ?? 300,
    fuzzSeed: options.fuzzSeed ?? 0x5eed2326,
    updatePackage: options.updatePackage,
    sbomFile: options.sbomFile,
    advisoriesFile: options.advisoriesFile,
    alarmWaitSeconds: options.alarmWaitSeconds ?? 30,
    idleWaitMaxSeconds: options.idleWaitMaxSeconds ?? 180,
    signal: new AbortController().signal,
    progress: options.progress,
    notes: [],
  };
  const selected = options.only.length === 0 ? ORDER : ORDER.filter((id) => options.only.includes(id));
  const checks: CheckOutcome[] = [];
  for (const id of selected) {
    options.progress(`${id}: ${TITLES[id]}…`);
    const outcome = await runBounded(id, ctx);
    const counts = new Map<Status, number>();
    for (const f of outcome.findings) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
    options.progress(`${id}: ${outcome.status} (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}) in ${(outcome.durationMs / 1000).toFixed(1)} s`);
    checks.push(outcome);
  }
  const { clauses, levels } = evaluate(options.profile, options.level, checks.flatMap((c) => c.findings));
  const report = buildReport({
    startedAt,
    target: { host, port: options.port, profile: options.profile, web: web === undefined ? null : endpointUrl(web), trust, vigil: isVigil, declaration: declaration.source },
    options: { level: options.level, intrusive: options.intrusive, only: [...selected], excludePorts: [...options.excludePorts] },
    checks,
    clauses,
    levels,
  });
  mkdirSync(options.outDir, { recursive: true });
  const files: string[] = [];
  for (const format of options.formats) {
    const file = path.join(options.outDir, `assess-report.${format}`);
    writeFileSync(file, format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'md' ? renderMarkdown(report) : renderHtml(report));
    files.push(file);
  }
  return { report, files };
}
