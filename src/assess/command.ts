// `vigil assess`: options → one assessment → reports on disk, a summary on stdout, progress on
// stderr. Exit 0 when the requested level is reached, 1 when it is not, 2 on a usage error.
import { VigilError } from '../core/errors.ts';
import { REPORT_FORMATS, runAssessment, type AssessOptions, type ReportFormat } from './run.ts';
import { CHECK_IDS, PROFILES, type CheckId, type Profile } from './types.ts';

export interface AssessArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export const ASSESS_USAGE = '<host> [--port N] [--profile nvr|camera|acs-platform|acs-controller|lock] [--level 1|2|3] [--declaration FILE] [--credentials FILE] [--ca PEM] [--rtsp-ports N,...] [--rtsp-path PATH] [--update-package FILE] [--sbom FILE] [--advisories FILE] [--out DIR] [--format json,md,html] [--only CHECK...] [--intrusive] [--alarm-wait S] [--idle-wait-max S]';
export const ASSESS_SUMMARY = 'Assess a device from outside, as a certification lab does (ports, TLS, services, credentials, web, RTSP, update package, SBOM; seed 001) → JSON/Markdown/HTML report with the level reached';

export const ASSESS_OPTIONS = {
  port: { type: 'string', help: 'port of the management interface (default 443)' },
  profile: { type: 'string', help: 'nvr | camera | acs-platform | acs-controller | lock (default nvr): which standard applies' },
  level: { type: 'string', help: 'level to reach, 1-3 (default 1); the exit code is 1 when it is not reached' },
  declaration: { type: 'string', help: 'the vendor declaration (JSON: services, notApplicable, statements, webPaths, protectedPaths)' },
  credentials: { type: 'string', help: 'JSON {"username","password"[, "lockout": {...}][, "apiToken": "vgl_…"]}: an account for session, logout, CSRF and lockout probes; an administrator\'s API token for the probes through a Vigil target\'s API (alarms, accounts, discovery, audit)' },
  ca: { type: 'string', help: "PEM trust anchor for the device certificate (default: system store, else the self-signed certificate is pinned on first use)" },
  out: { type: 'string', help: 'report directory (default ./vigil-assess)' },
  format: { type: 'string', help: 'report formats, comma-separated: json,md,html (default all)' },
  only: { type: 'string', multiple: true, help: `run only these checks (repeat or comma-separate): ${CHECK_IDS.join(', ')}` },
  'rtsp-ports': { type: 'string', help: 'RTSP/RTSPS ports to test besides declared and discovered ones, e.g. 554,322 (TLS is detected)' },
  'rtsp-path': { type: 'string', multiple: true, help: 'stream path to DESCRIBE, e.g. /live (repeatable; default: common camera paths)' },
  'update-package': { type: 'string', help: 'update/firmware file to analyse offline: entropy map, containers, private keys, passwords, tokens, e-mail, URLs/IPs' },
  sbom: { type: 'string', help: 'CycloneDX JSON SBOM of the target (default for a Vigil target: the SBOM this installation ships)' },
  advisories: { type: 'string', help: 'offline advisory list, npm bulk format {"pkg": [{id, severity, vulnerable_versions, cvss: {score}}]}; without it the vulnerability clauses stay manual' },
  'fuzz-cases': { type: 'string', help: 'RTSP fuzz cases per port with --intrusive (default 300, 10-5000)' },
  'fuzz-seed': { type: 'string', help: 'seed of the RTSP fuzz campaign (default 1592599334), to reproduce a finding' },
  intrusive: { type: 'boolean', help: 'also run probes that change state or may crash the target: the lockout probe locks an account; RTSP fuzzing' },
  'exclude-ports': { type: 'string', help: "ports of other programs on the same machine (baseline), e.g. tcp/2024,udp/5353: reported, not judged" },
  'check-timeout': { type: 'string', help: 'time bound of each check in seconds (default 300)' },
  'alarm-wait': { type: 'string', help: 'seconds the signal-loss probe waits for its alarm (the "N s" of NVR-5.1.2.1a; default 30, 5-120)' },
  'idle-wait-max': { type: 'string', help: 'longest idle timeout the sessions probe waits out, in seconds (default 180, 0-1800; keep it below --check-timeout)' },
  'no-external-tools': { type: 'boolean', help: 'do not run nmap/sslscan even when installed (built-in probes only)' },
} as const;

function str(args: AssessArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

function list(args: AssessArgs, name: string): string[] {
  const v = args.values[name];
  const raw = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return raw.flatMap((x) => (typeof x === 'string' ? x.split(',') : [])).map((x) => x.trim()).filter((x) => x !== '');
}

function usage(message: string): never {
  throw new VigilError('VIGIL_ASSESS_OPTIONS_INVALID', message);
}

function intOption(args: AssessArgs, name: string, def: number, min: number, max: number): number {
  const raw = str(args, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) usage(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

export function parseAssessArgs(args: AssessArgs, progress: (line: string) => void): AssessOptions {
  const host = args.positionals[0];
  if (host === undefined || args.positionals.length > 1) usage('name exactly one target host');
  const profile = str(args, 'profile') ?? 'nvr';
  if (!(PROFILES as readonly string[]).includes(profile)) usage(`--profile must be one of ${PROFILES.join(', ')}`);
  const formats = list(args, 'format');
  for (const f of formats) if (!(REPORT_FORMATS as readonly string[]).includes(f)) usage(`--format: unknown format ${f} (json, md, html)`);
  const only = list(args, 'only');
  for (const c of only) if (!(CHECK_IDS as readonly string[]).includes(c)) usage(`--only: unknown check ${c} (${CHECK_IDS.join(', ')})`);
  const excludePorts = list(args, 'exclude-ports').map((p) => {
    const m = /^(?:(tcp|udp)\/)?(\d{1,5})$/.exec(p);
    if (m === null || Number(m[2]) > 65535) usage(`--exclude-ports: ${p} is not [tcp|udp/]PORT`);
    return `${m[1] ?? 'tcp'}/${Number(m[2])}`;
  });
  const declarationFile = str(args, 'declaration');
  const credentialsFile = str(args, 'credentials');
  const caFile = str(args, 'ca');
  const rtspPorts = list(args, 'rtsp-ports').map((p) => {
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) usage(`--rtsp-ports: ${p} is not a port`);
    return Number(p);
  });
  const rawPaths = args.values['rtsp-path'];
  const rtspPaths = (Array.isArray(rawPaths) ? rawPaths : rawPaths === undefined ? [] : [rawPaths]).filter((x): x is string => typeof x === 'string');
  for (const p of rtspPaths) if (!p.startsWith('/') || p.length > 1024 || /[\s\0]/.test(p)) usage(`--rtsp-path: ${p} must start with / and hold no white space`);
  const updatePackage = str(args, 'update-package');
  const sbomFile = str(args, 'sbom');
  const advisoriesFile = str(args, 'advisories');
  return {
    host,
    port: intOption(args, 'port', 443, 1, 65535),
    profile: profile as Profile,
    level: intOption(args, 'level', 1, 1, 3) as 1 | 2 | 3,
    ...(declarationFile === undefined ? {} : { declarationFile }),
    ...(credentialsFile === undefined ? {} : { credentialsFile }),
    ...(caFile === undefined ? {} : { caFile }),
    outDir: str(args, 'out') ?? 'vigil-assess',
    formats: formats.length === 0 ? ['json', 'md', 'html'] : [...new Set(formats as ReportFormat[])],
    only: only as CheckId[],
    intrusive: args.values['intrusive'] === true,
    excludePorts,
    checkTimeoutMs: intOption(args, 'check-timeout', 300, 5, 3600) * 1000,
    useExternalTools: args.values['no-external-tools'] !== true,
    progress,
    rtspPorts,
    rtspPaths,
    fuzzCases: intOption(args, 'fuzz-cases', 300, 10, 5000),
    fuzzSeed: intOption(args, 'fuzz-seed', 0x5eed2326, 0, 0xffffffff),
    alarmWaitSeconds: intOption(args, 'alarm-wait', 30, 5, 120),
    idleWaitMaxSeconds: intOption(args, 'idle-wait-max', 180, 0, 1800),
    ...(updatePackage === undefined ? {} : { updatePackage }),
    ...(sbomFile === undefined ? {} : { sbomFile }),
    ...(advisoriesFile === undefined ? {} : { advisoriesFile }),
  };
}

export async function assessCommand(args: AssessArgs): Promise<number> {
  const progress = (line: string): void => {
    process.stderr.write(`[assess] ${line}\n`);
  };
  let options: AssessOptions;
  try {
    options = parseAssessArgs(args, progress);
  } catch (err) {
    if (err instanceof VigilError) {
      console.error(`vigil assess: ${err.code}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  let result: Awaited<ReturnType<typeof runAssessment>>;
  try {
    result = await runAssessment(options);
  } catch (err) {
    // A refused target or an unreadable input file is the operator's to fix: a usage error.
    if (err instanceof VigilError && err.code.startsWith('VIGIL_ASSESS_')) {
      console.error(`vigil assess: ${err.code}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const { report, files } = result;
  for (const l of report.levels) {
    const next = l.blockers.find((b) => b.clauses.length > 0);
    console.log(`${l.standard}: level ${l.reached} reached (requested ${l.requested}; software and documentation clauses: level ${l.softwareReached})${next === undefined ? '' : `; level ${next.level} blocked by ${next.clauses.length} clause(s): ${next.clauses.slice(0, 8).map((c) => `${c.id} ${c.status}`).join(', ')}${next.clauses.length > 8 ? ', …' : ''}`}`);
  }
  for (const c of report.checks) console.log(`check ${c.id}: ${c.status}`);
  for (const f of files) console.log(`wrote ${f}`);
  return report.requestedLevelReached ? 0 : 1;
}

/** The `vigil assess` entry of the CLI's command table (src/cli/commands.ts). */
export const ASSESS_COMMAND = {
  name: 'assess',
  usage: ASSESS_USAGE,
  summary: ASSESS_SUMMARY,
  options: ASSESS_OPTIONS,
  run: assessCommand,
};
