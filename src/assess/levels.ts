// From findings to clauses to levels. A clause passes only when a check covers it fully and
// everything mapped to it passes; a partial cover that passes stays "manual" (the lab finishes
// it by hand); a clause no check covers is "not-implemented" when it is software-verifiable.
// Level N of a standard is reached when every applicable, non-optional S clause of level ≤ N
// passes (or does not apply); H and D clauses count as declared and never block.
import { CATALOGUE, type CatalogueClause } from './catalogue.ts';
import type { Finding, Profile, Status } from './types.ts';

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
  const optional = c.level === 'opt' || c.level.includes('(O)') || c.id.endsWith(' note');
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
    if (c.kind === 'H' || c.kind === 'D') return { ...base, status: 'manual', note: 'declaration or document: reviewed by the lab' };
    return { ...base, status: 'not-implemented', note: `no automated check yet${c.howTested === '' ? '' : ` (a test would: ${c.howTested})`}` };
  }
  const failed = mapped.filter((m) => m.f.status === 'fail');
  if (failed.length > 0) return { ...base, status: 'fail', note: `failed: ${[...new Set(failed.map((m) => m.f.id))].join(', ')}` };
  if (mapped.every((m) => m.f.status === 'not-applicable')) return { ...base, status: 'not-applicable', note: mapped.map((m) => m.f.evidence).join('; ') };
  const passing = mapped.filter((m) => m.f.status === 'pass');
  const pending = mapped.filter((m) => m.f.status === 'manual' || m.f.status === 'not-implemented');
  const fullPass = passing.some((m) => m.partial === undefined);
  if (fullPass && pending.length === 0) return { ...base, status: 'pass', note: `passed: ${[...new Set(passing.map((m) => m.f.id))].join(', ')}` };
  const remaining = [...new Set([...passing.flatMap((m) => (m.partial === undefined ? [] : [m.partial])), ...pending.map((m) => `${m.f.id}: ${m.f.evidence}`)])];
  return { ...base, status: 'manual', note: `${passing.length > 0 ? `automated part passes (${[...new Set(passing.map((m) => m.f.id))].join(', ')}); ` : ''}remaining: ${remaining.join('; ')}` };
}

export interface LevelSummary {
  standard: Standard;
  name: string;
  reached: 0 | 1 | 2 | 3;
  requested: number;
  /** For each level 1..3, the S clauses that keep it from being reached. */
  blockers: Array<{ level: number; clauses: Array<{ id: string; status: Status }> }>;
}

export function evaluate(profile: Profile, requested: number, findings: readonly Finding[]): { clauses: ClauseResult[]; levels: LevelSummary[] } {
  const clauses: ClauseResult[] = [];
  const levels: LevelSummary[] = [];
  for (const standard of standardsFor(profile)) {
    const own = CATALOGUE.filter((c) => c.standard === standard);
    const results = own.map((c) => {
      const r = aggregateClause(c, findings);
      const l = clauseLevel(c);
      const blocks = l.software && !l.optional && r.status !== 'pass' && r.status !== 'not-applicable';
      return { ...r, blocksLevel: blocks ? l.minLevel : null };
    });
    clauses.push(...results);
    const blockers = [1, 2, 3].map((level) => ({ level, clauses: results.filter((r) => r.blocksLevel === level).map((r) => ({ id: r.id, status: r.status })) }));
    let reached: 0 | 1 | 2 | 3 = 0;
    for (const b of blockers) {
      if (b.clauses.length > 0) break;
      reached = b.level as 1 | 2 | 3;
    }
    levels.push({ standard, name: STANDARD_NAMES[standard], reached, requested, blockers });
  }
  return { clauses, levels };
}
