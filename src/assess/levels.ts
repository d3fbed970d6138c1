// From findings to clauses to levels. A clause passes only when a check covers it fully and
// everything mapped to it passes; a partial cover that passes stays "manual" (the lab finishes
// it by hand) unless the rest is one the vendor may declare and has declared; a clause no check
// covers is "not-implemented" when it is software-verifiable. Level N of a standard is reached
// when every applicable, non-optional clause of level ≤ N passes or is declared (issue #7) —
// whatever its kind: a hardware clause nobody has declared blocks like an untested S clause.
import { CATALOGUE, type CatalogueClause } from './catalogue.ts';
import type { Finding, Profile, Status } from './types.ts';
import { NETWORK_PART, ON_DEVICE_CLAUSES, declarable } from './vendor-evidence.ts';

/** The rule, as every rendering states it. */
export const LEVEL_RULE =
  'Level N of a standard is reached when every applicable, non-optional clause of level ≤ N (software, hardware or documentation) passes or is declared. ' +
  '"declared" is allowed only for hardware (H) and documentation (D) clauses and for software clauses whose test needs the device itself (its disks, console or cables): ' +
  'the vendor\'s statement and the documents a lab asks for are on file, and the lab still verifies them. ' +
  'Any other software clause must pass an automated check; one with no check is "not-implemented" and blocks, as does a clause left "manual" or "fail". ' +
  'The software-and-documentation level applies the same rule without the pure hardware (H) clauses, which a software product cannot answer for by itself.';

/** Statuses that let a level be reached. */
export const LEVEL_OK: readonly Status[] = ['pass', 'not-applicable', 'declared'];

export type Standard = CatalogueClause['standard'];

export const STANDARD_NAMES: Record<Standard, string> = {
  NVR: 'TAICS video recorder (NVR/DVR) draft V1.0.0',
  CAM: 'TAICS TS-0014 IP camera (lab test items, seed 001)',
  ACS: 'IoT-1006-1 V2.0 access control system',
};

export function standardsFor(profile: Profile): Standard[] {
  if (profile === 'nvr') return ['NVR'];
  if (profile === 'camera') return ['CAM'];
  return ['ACS'];
}

export interface ClauseLevel {
  /** Lowest level at which the clause applies ('–' items of the lab list apply from level 1). */
  minLevel: number;
  optional: boolean;
  software: boolean;
}

export function clauseLevel(c: CatalogueClause): ClauseLevel {
  // The catalogue marks optional clauses in the level column, or as "(optional)" in the text.
  const optional = c.level === 'opt' || c.level.includes('(O)') || c.id.endsWith(' note') || /\(optional\)/i.test(c.requirement);
  const first = /\d/.exec(c.level)?.[0];
  return { minLevel: first === undefined ? 1 : Number(first), optional, software: c.kind.includes('S') };
}

export interface ClauseResult {
  id: string;
  standard: Standard;
  level: string;
  kind: string;
  requirement: string;
  status: Status;
  /** Why: the findings' verdicts, or what is missing. */
  note: string;
  findings: string[];
  blocksLevel: number | null;
}

export function aggregateClause(c: CatalogueClause, findings: readonly Finding[]): Omit<ClauseResult, 'blocksLevel'> {
  const mapped = findings.flatMap((f) => f.clauses.filter((r) => r.id === c.id).map((r) => ({ f, partial: r.partial })));
  const base = { id: c.id, standard: c.standard, level: c.level, kind: c.kind, requirement: c.requirement, findings: [...new Set(mapped.map((m) => m.f.id))] };
  if (mapped.length === 0) {
    if (c.kind === 'H' || c.kind === 'D') return { ...base, status: 'manual', note: 'no vendor statement on file: declaration or document, reviewed by the lab' };
    const onDevice = ON_DEVICE_CLAUSES[c.id];
    if (onDevice !== undefined) return { ...base, status: 'manual', note: `no vendor statement on file; on the device the lab would: ${onDevice}` };
    return { ...base, status: 'not-implemented', note: `no automated check yet${c.howTested === '' ? '' : ` (a test would: ${c.howTested})`}` };
  }
  const failed = mapped.filter((m) => m.f.status === 'fail');
  if (failed.length > 0) return { ...base, status: 'fail', note: `failed: ${[...new Set(failed.map((m) => m.f.id))].join(', ')}` };
  if (mapped.every((m) => m.f.status === 'not-applicable')) return { ...base, status: 'not-applicable', note: mapped.map((m) => m.f.evidence).join('; ') };
  const passing = mapped.filter((m) => m.f.status === 'pass');
  // A declaration counts only where the vendor may declare (defence in depth: the declarations
  // check emits none elsewhere); anywhere else it is one more thing the lab must do by hand.
  const mayDeclare = declarable(c);
  const declared = mayDeclare ? mapped.filter((m) => m.f.status === 'declared') : [];
  const pending = mapped.filter((m) => m.f.status === 'manual' || m.f.status === 'not-implemented' || (m.f.status === 'declared' && !mayDeclare));
  const fullPass = passing.some((m) => m.partial === undefined);
  if (fullPass && pending.length === 0) return { ...base, status: 'pass', note: `passed: ${[...new Set(passing.map((m) => m.f.id))].join(', ')}` };
  const networkPart = NETWORK_PART[c.id];
  if (pending.length === 0 && declared.length > 0 && networkPart !== undefined && !passing.some((m) => m.f.id === networkPart)) {
    return { ...base, status: 'manual', note: `declared by the vendor, but the part testable over the network (${networkPart}) did not pass in this assessment` };
  }
  if (pending.length === 0 && declared.length > 0) {
    const auto = passing.length > 0 ? `automated part passes (${[...new Set(passing.map((m) => m.f.id))].join(', ')}); ` : '';
    return { ...base, status: 'declared', note: `${auto}declared by the vendor, the lab verifies: ${declared.map((m) => m.f.evidence).join('; ')}` };
  }
  const remaining = [...new Set([...passing.flatMap((m) => (m.partial === undefined ? [] : [m.partial])), ...pending.map((m) => `${m.f.id}: ${m.f.evidence}`)])];
  return { ...base, status: 'manual', note: `${passing.length > 0 ? `automated part passes (${[...new Set(passing.map((m) => m.f.id))].join(', ')}); ` : ''}remaining: ${remaining.join('; ')}` };
}

export interface LevelSummary {
  standard: Standard;
  name: string;
  reached: 0 | 1 | 2 | 3;
  /**
   * The same rule over the software and documentation clauses only (kinds S, S/H, D): what a
   * software product answers for by itself. Pure hardware (H) clauses are the integrator's box.
   */
  softwareReached: 0 | 1 | 2 | 3;
  requested: number;
  /** For each level 1..3, the clauses that keep it from being reached. */
  blockers: Array<{ level: number; clauses: Array<{ id: string; status: Status }> }>;
}

/** The highest level whose blockers, and every lower level's, are empty. */
function levelOf(blockers: ReadonlyArray<{ level: number; clauses: readonly unknown[] }>): 0 | 1 | 2 | 3 {
  let reached: 0 | 1 | 2 | 3 = 0;
  for (const b of blockers) {
    if (b.clauses.length > 0) break;
    reached = b.level as 1 | 2 | 3;
  }
  return reached;
}

export function evaluate(profile: Profile, requested: number, findings: readonly Finding[]): { clauses: ClauseResult[]; levels: LevelSummary[] } {
  const clauses: ClauseResult[] = [];
  const levels: LevelSummary[] = [];
  for (const standard of standardsFor(profile)) {
    const own = CATALOGUE.filter((c) => c.standard === standard);
    const results = own.map((c) => {
      const r = aggregateClause(c, findings);
      const l = clauseLevel(c);
      const blocks = !l.optional && !LEVEL_OK.includes(r.status);
      return { ...r, blocksLevel: blocks ? l.minLevel : null };
    });
    clauses.push(...results);
    const blockers = [1, 2, 3].map((level) => ({ level, clauses: results.filter((r) => r.blocksLevel === level).map((r) => ({ id: r.id, status: r.status })) }));
    const softwareBlockers = blockers.map((b) => ({ ...b, clauses: b.clauses.filter((c) => results.find((r) => r.id === c.id)?.kind !== 'H') }));
    levels.push({ standard, name: STANDARD_NAMES[standard], reached: levelOf(blockers), softwareReached: levelOf(softwareBlockers), requested, blockers });
  }
  return { clauses, levels };
}
