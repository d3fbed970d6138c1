// sbom: known vulnerabilities of the target's components (NVR-5.2.1.1a/2a, CAM-T-sys-1,
// ACS-5.2.3.2/4/5/7/8). The components come from a CycloneDX SBOM (--sbom, or for a Vigil target
// the SBOM this installation ships); the vulnerabilities from an advisory file available offline
// (--advisories, npm's bulk advisory format). Without an advisory source nothing is claimed: the
// clauses stay "manual". The SBOM covers the product's own components; when it lists no
// operating system, the clauses about "OS and network services" stay partly with the lab.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../core/errors.ts';
import { PRODUCT } from '../core/product.ts';
import { satisfies } from './semver-range.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

const MAX_SBOM_BYTES = 32 * 1024 * 1024;
const MAX_ADVISORY_BYTES = 64 * 1024 * 1024;
const MAX_COMPONENTS = 20_000;
const MAX_ADVISORIES = 200_000;

export const VIGIL_SBOM = fileURLToPath(new URL('../../docs/generated/sbom.cdx.json', import.meta.url));

export interface SbomComponent {
  name: string;
  version: string;
  type: string;
}

export interface Advisory {
  id: string;
  severity: string;
  vulnerableVersions: string;
  score: number;
  /** Whether the score came from the severity label (no CVSS score given). */
  scoreFromLabel: boolean;
}

function readJson(file: string, max: number, what: string): unknown {
  try {
    if (statSync(file).size > max) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `${what} ${file} is larger than ${max / 1024 / 1024} MiB`);
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `${what} ${file} cannot be read as JSON`, { cause: err });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** CycloneDX JSON (1.2–1.6): components, nested components and the described product. */
export function parseCycloneDx(value: unknown): SbomComponent[] {
  if (!isRecord(value) || value['bomFormat'] !== 'CycloneDX') throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', 'the SBOM is not CycloneDX JSON (bomFormat)');
  const out: SbomComponent[] = [];
  const stack: unknown[] = [];
  const meta = value['metadata'];
  if (isRecord(meta) && meta['component'] !== undefined) stack.push(meta['component']);
  if (Array.isArray(value['components'])) stack.push(...(value['components'] as unknown[]));
  while (stack.length > 0 && out.length < MAX_COMPONENTS) {
    const c = stack.pop();
    if (!isRecord(c)) continue;
    const { name, group, version, type } = c;
    if (typeof name === 'string' && typeof version === 'string') {
      out.push({ name: typeof group === 'string' && group !== '' ? `${group}/${name}` : name, version, type: typeof type === 'string' ? type : 'library' });
    }
    if (Array.isArray(c['components']) && stack.length < MAX_COMPONENTS) stack.push(...(c['components'] as unknown[]));
  }
  if (stack.length > 0) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `the SBOM lists more than ${MAX_COMPONENTS} components`);
  return out;
}

const LABEL_SCORE: Record<string, number> = { critical: 9, high: 7, moderate: 4, medium: 4, low: 0.1, info: 0 };

/** npm bulk advisory format: { "package": [{ id, severity, vulnerable_versions, cvss: { score } }] }. */
export function parseAdvisories(value: unknown): Map<string, Advisory[]> {
  if (!isRecord(value)) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', 'advisories: the file must hold {"package": [advisory, ...]}');
  const out = new Map<string, Advisory[]>();
  let count = 0;
  for (const [pkg, list] of Object.entries(value)) {
    if (!Array.isArray(list)) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `advisories: ${pkg.slice(0, 100)} must map to an array`);
    const entries: Advisory[] = [];
    for (const a of list as unknown[]) {
      if (++count > MAX_ADVISORIES) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `advisories: more than ${MAX_ADVISORIES} entries`);
      if (!isRecord(a) || typeof a['vulnerable_versions'] !== 'string' || (typeof a['id'] !== 'string' && typeof a['id'] !== 'number')) {
        throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `advisories: every entry of ${pkg.slice(0, 100)} needs id and vulnerable_versions`);
      }
      const severity = typeof a['severity'] === 'string' ? a['severity'].toLowerCase() : 'unknown';
      const cvss = a['cvss'];
      const raw = isRecord(cvss) && typeof cvss['score'] === 'number' && cvss['score'] > 0 && cvss['score'] <= 10 ? cvss['score'] : undefined;
      entries.push({ id: String(a['id']).slice(0, 100), severity, vulnerableVersions: a['vulnerable_versions'], score: raw ?? LABEL_SCORE[severity] ?? 0, scoreFromLabel: raw === undefined });
    }
    out.set(pkg, entries);
  }
  return out;
}

export interface VulnerabilityMatch {
  component: SbomComponent;
  advisory: Advisory;
}

export function matchAdvisories(components: readonly SbomComponent[], advisories: ReadonlyMap<string, Advisory[]>): { matches: VulnerabilityMatch[]; unjudged: VulnerabilityMatch[] } {
  const matches: VulnerabilityMatch[] = [];
  const unjudged: VulnerabilityMatch[] = [];
  for (const component of components) {
    for (const advisory of advisories.get(component.name) ?? []) {
      const hit = satisfies(component.version, advisory.vulnerableVersions);
      if (hit === undefined) unjudged.push({ component, advisory });
      else if (hit) matches.push({ component, advisory });
    }
  }
  return { matches, unjudged };
}

interface Threshold {
  id: string;
  score: number;
  label: string;
  clauses: ClauseRef[];
}

function thresholds(level: number, hasOs: boolean): Threshold[] {
  // "OS and network services": a product SBOM without the OS covers the network services' code only.
  const os = (id: string): ClauseRef => (hasOs ? { id } : { id, partial: 'the SBOM lists no operating system: the host OS packages need their own scan (e.g. Nessus)' });
  const cam = (score: number): ClauseRef[] => ((level >= 2 ? 7 : 9) === score ? [os('CAM-T-sys-1')] : []);
  return [
    { id: 'sbom.critical', score: 9, label: 'critical (CVSS ≥ 9.0)', clauses: [os('NVR-5.2.1.1a'), os('ACS-5.2.3.2'), { id: 'ACS-5.2.3.4' }, ...cam(9)] },
    { id: 'sbom.high', score: 7, label: 'high or worse (CVSS ≥ 7.0)', clauses: [os('NVR-5.2.1.2a'), os('ACS-5.2.3.5'), { id: 'ACS-5.2.3.7' }, ...cam(7)] },
    { id: 'sbom.medium', score: 4, label: 'medium or worse (CVSS ≥ 4.0)', clauses: [{ id: 'ACS-5.2.3.8' }] },
  ];
}

function describe(m: VulnerabilityMatch): string {
  return `${m.component.name}@${m.component.version}: ${m.advisory.id} (${m.advisory.severity}, CVSS ${m.advisory.score}${m.advisory.scoreFromLabel ? ' from the severity label' : ''}, vulnerable ${m.advisory.vulnerableVersions})`;
}

export function sbomFindings(input: { components: SbomComponent[]; sbomSource: string; advisories: Map<string, Advisory[]> | undefined; advisorySource: string; level: number }): Finding[] {
  const hasOs = input.components.some((c) => c.type === 'operating-system');
  const levels = thresholds(input.level, hasOs);
  if (input.advisories === undefined) {
    return levels.map((t) => ({
      id: t.id,
      check: 'sbom' as const,
      title: `No known vulnerability ${t.label} in the components`,
      status: 'manual' as const,
      clauses: t.clauses,
      evidence: `${input.sbomSource}: ${input.components.length} components; no advisory source given (--advisories FILE, npm bulk advisory JSON), so nothing is claimed`,
    }));
  }
  const { matches, unjudged } = matchAdvisories(input.components, input.advisories);
  const counts = [9, 7, 4].map((s) => `≥ ${s}: ${matches.filter((m) => m.advisory.score >= s).length}`).join(', ');
  return levels.map((t): Finding => {
    const over = matches.filter((m) => m.advisory.score >= t.score).sort((a, b) => b.advisory.score - a.advisory.score);
    const open = unjudged.filter((m) => m.advisory.score >= t.score);
    const base = { id: t.id, check: 'sbom' as const, title: `No known vulnerability ${t.label} in the components`, clauses: t.clauses };
    const context = `${input.sbomSource}: ${input.components.length} components checked against ${input.advisorySource}; CVSS ${counts}${hasOs ? '' : '; no operating-system component in the SBOM'}`;
    if (over.length > 0) {
      return { ...base, status: 'fail', evidence: `${over.slice(0, 10).map(describe).join('; ')}${over.length > 10 ? `; … ${over.length - 10} more` : ''}. ${context}`, severity: t.score >= 9 ? 'critical' : t.score >= 7 ? 'high' : 'medium', fix: 'Update the named components to a fixed version and ship a new SBOM.' };
    }
    if (open.length > 0) return { ...base, status: 'manual', evidence: `version range not understood for ${open.slice(0, 10).map(describe).join('; ')}. ${context}` };
    return { ...base, status: 'pass', evidence: `none. ${context}` };
  });
}

export function runSbomCheck(ctx: AssessContext): Promise<Finding[]> {
  let file = ctx.sbomFile;
  let source = file === undefined ? '' : `SBOM ${file}`;
  if (file === undefined && ctx.isVigil) {
    file = VIGIL_SBOM;
    source = `the SBOM this Vigil ${PRODUCT.version} installation ships (docs/generated/sbom.cdx.json; the lab confirms the target runs the same version)`;
  }
  if (file === undefined) {
    const none = sbomFindings({ components: [], sbomSource: 'no SBOM', advisories: undefined, advisorySource: '', level: ctx.level });
    return Promise.resolve(none.map((f) => ({ ...f, evidence: 'no component list: give the vendor\'s CycloneDX SBOM with --sbom FILE (and --advisories FILE)' })));
  }
  const components = parseCycloneDx(readJson(file, MAX_SBOM_BYTES, 'SBOM'));
  const advisories = ctx.advisoriesFile === undefined ? undefined : parseAdvisories(readJson(ctx.advisoriesFile, MAX_ADVISORY_BYTES, 'advisories file'));
  return Promise.resolve(sbomFindings({ components, sbomSource: source, advisories, advisorySource: `advisories ${ctx.advisoriesFile ?? ''}`, level: ctx.level }));
}
