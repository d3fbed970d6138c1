// The assessment report: one JSON document with a stable, versioned schema (REPORT_SCHEMA);
// the Markdown and HTML renderings are made from it and nothing else.
import { PRODUCT } from '../core/product.ts';
import { LEVEL_RULE, type ClauseResult, type LevelSummary } from './levels.ts';
import { CHECK_IDS, STATUSES, type CheckOutcome, type Finding, type Profile, type Status } from './types.ts';

export const REPORT_KIND = 'vigil-assess-report';
// v2: the "declared" status, levelRule, and H/D clauses that block until declared.
export const REPORT_VERSION = 2;

export interface AreaCount {
  area: string;
  counts: Record<Status, number>;
}

export interface AssessReport {
  kind: typeof REPORT_KIND;
  version: typeof REPORT_VERSION;
  generatedAt: string;
  tool: { name: string; version: string };
  target: { host: string; port: number; profile: Profile; web: string | null; trust: string; vigil: boolean; declaration: string };
  options: { level: number; intrusive: boolean; only: string[]; excludePorts: string[] };
  durationMs: number;
  /** How "level reached" is decided (LEVEL_RULE), stated in the report itself. */
  levelRule: string;
  levels: LevelSummary[];
  requestedLevelReached: boolean;
  checks: Array<Omit<CheckOutcome, 'findings'> & { findings: string[] }>;
  findings: Finding[];
  clauses: ClauseResult[];
  summary: { byArea: AreaCount[]; clauses: Record<Status, number>; findings: Record<Status, number> };
}

const SECTIONS: Array<[RegExp, string]> = [
  [/^NVR-5\.1\./, 'physical'], [/^NVR-5\.2\./, 'system'], [/^NVR-5\.3\./, 'communication'], [/^NVR-5\.4\./, 'authentication'], [/^NVR-5\.5\./, 'software trust'],
  [/^CAM-T-phys|^CAM-5\.1\./, 'physical'], [/^CAM-T-sys/, 'system'], [/^CAM-T-com|^CAM-5\.3\./, 'communication'], [/^CAM-T-auth/, 'authentication'], [/^CAM-T-priv|^CAM-5\.5\./, 'privacy'],
  [/^ACS-5\.1\./, 'identification & authentication'], [/^ACS-5\.2\./, 'integrity & system'], [/^ACS-5\.3\./, 'confidentiality'], [/^ACS-5\.4\./, 'availability'], [/^ACS-5\.5\./, 'update'], [/^ACS-5\.6\./, 'security log'],
];

export function areaOf(clauseId: string): string {
  return SECTIONS.find(([re]) => re.test(clauseId))?.[1] ?? 'other';
}

function zero(): Record<Status, number> {
  return Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
}

export function buildReport(input: {
  startedAt: Date;
  target: AssessReport['target'];
  options: AssessReport['options'];
  checks: CheckOutcome[];
  clauses: ClauseResult[];
  levels: LevelSummary[];
}): AssessReport {
  const findings = input.checks.flatMap((c) => c.findings);
  const byArea = new Map<string, Record<Status, number>>();
  const clauseCounts = zero();
  for (const c of input.clauses) {
    const area = areaOf(c.id);
    const counts = byArea.get(area) ?? zero();
    counts[c.status]++;
    byArea.set(area, counts);
    clauseCounts[c.status]++;
  }
  const findingCounts = zero();
  for (const f of findings) findingCounts[f.status]++;
  return {
    kind: REPORT_KIND,
    version: REPORT_VERSION,
    generatedAt: new Date().toISOString(),
    tool: { name: `${PRODUCT.name} assess`, version: PRODUCT.version },
    target: input.target,
    options: input.options,
    durationMs: Date.now() - input.startedAt.getTime(),
    levelRule: LEVEL_RULE,
    levels: input.levels,
    requestedLevelReached: input.levels.every((l) => l.reached >= input.options.level),
    checks: input.checks.map((c) => ({ id: c.id, title: c.title, status: c.status, durationMs: c.durationMs, notes: c.notes, findings: c.findings.map((f) => f.id) })),
    findings,
    clauses: input.clauses,
    summary: { byArea: [...byArea].map(([area, counts]) => ({ area, counts })), clauses: clauseCounts, findings: findingCounts },
  };
}

const statusEnum = { enum: [...STATUSES] };
const counts = { type: 'object', required: [...STATUSES], properties: Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer', minimum: 0 }])), additionalProperties: false };

/** JSON Schema (draft 2020-12 subset) of the report; `version` changes when it changes. */
export const REPORT_SCHEMA = {
  $id: 'https://vigil.invalid/schemas/assess-report-v1.json',
  type: 'object',
  required: ['kind', 'version', 'generatedAt', 'tool', 'target', 'options', 'durationMs', 'levelRule', 'levels', 'requestedLevelReached', 'checks', 'findings', 'clauses', 'summary'],
  additionalProperties: false,
  properties: {
    kind: { const: REPORT_KIND },
    version: { const: REPORT_VERSION },
    generatedAt: { type: 'string' },
    tool: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string' }, version: { type: 'string' } }, additionalProperties: false },
    target: {
      type: 'object',
      required: ['host', 'port', 'profile', 'web', 'trust', 'vigil', 'declaration'],
      additionalProperties: false,
      properties: {
        host: { type: 'string' },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        profile: { enum: ['nvr', 'camera', 'acs-platform', 'acs-controller', 'lock'] },
        web: { type: ['string', 'null'] },
        trust: { type: 'string' },
        vigil: { type: 'boolean' },
        declaration: { type: 'string' },
      },
    },
    options: {
      type: 'object',
      required: ['level', 'intrusive', 'only', 'excludePorts'],
      additionalProperties: false,
      properties: { level: { enum: [1, 2, 3] }, intrusive: { type: 'boolean' }, only: { type: 'array', items: { type: 'string' } }, excludePorts: { type: 'array', items: { type: 'string' } } },
    },
    durationMs: { type: 'number', minimum: 0 },
    levelRule: { type: 'string' },
    levels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['standard', 'name', 'reached', 'softwareReached', 'requested', 'blockers'],
        additionalProperties: false,
        properties: {
          standard: { enum: ['NVR', 'CAM', 'ACS'] },
          name: { type: 'string' },
          reached: { enum: [0, 1, 2, 3] },
          softwareReached: { enum: [0, 1, 2, 3] },
          requested: { type: 'integer' },
          blockers: {
            type: 'array',
            items: {
              type: 'object',
              required: ['level', 'clauses'],
              additionalProperties: false,
              properties: { level: { type: 'integer' }, clauses: { type: 'array', items: { type: 'object', required: ['id', 'status'], additionalProperties: false, properties: { id: { type: 'string' }, status: statusEnum } } } },
            },
          },
        },
      },
    },
    requestedLevelReached: { type: 'boolean' },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'title', 'status', 'durationMs', 'notes', 'findings'],
        additionalProperties: false,
        properties: {
          id: { enum: [...CHECK_IDS] },
          title: { type: 'string' },
          status: statusEnum,
          durationMs: { type: 'number' },
          notes: { type: 'array', items: { type: 'string' } },
          findings: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'check', 'title', 'status', 'clauses', 'evidence'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          check: { type: 'string' },
          title: { type: 'string' },
          status: statusEnum,
          clauses: { type: 'array', items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string' }, partial: { type: 'string' } } } },
          evidence: { type: 'string' },
          severity: { enum: ['critical', 'high', 'medium', 'low', 'info'] },
          fix: { type: 'string' },
        },
        // A failure always says how bad it is and how to fix it.
        if: { properties: { status: { const: 'fail' } } },
        then: { required: ['severity', 'fix'] },
      },
    },
    clauses: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'standard', 'level', 'kind', 'requirement', 'status', 'note', 'findings', 'blocksLevel'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          standard: { enum: ['NVR', 'CAM', 'ACS'] },
          level: { type: 'string' },
          kind: { type: 'string' },
          requirement: { type: 'string' },
          status: statusEnum,
          note: { type: 'string' },
          findings: { type: 'array', items: { type: 'string' } },
          blocksLevel: { type: ['integer', 'null'] },
        },
      },
    },
    summary: {
      type: 'object',
      required: ['byArea', 'clauses', 'findings'],
      additionalProperties: false,
      properties: {
        byArea: { type: 'array', items: { type: 'object', required: ['area', 'counts'], additionalProperties: false, properties: { area: { type: 'string' }, counts } } },
        clauses: counts,
        findings: counts,
      },
    },
  },
} as const;
