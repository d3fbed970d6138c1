// A small semver range matcher for advisory "vulnerable_versions" (node-semver's grammar, the
// common part): comparators <, <=, >, >=, = and bare versions, AND by space, OR by ||,
// hyphen ranges (1.2.3 - 2.3.4), caret and tilde, x-ranges (1.x, 1.2.*, *). A pre-release version
// matches only a comparator on the same MAJOR.MINOR.PATCH with a pre-release (node-semver's rule).
// Anything else is reported as unparseable, never silently "not vulnerable".

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

const VERSION = /^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([0-9A-Za-z.-]{1,64}))?(?:\+[0-9A-Za-z.-]{1,64})?$/;

export function parseVersion(text: string): SemVer | undefined {
  const m = VERSION.exec(text.trim());
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] === undefined ? [] : m[4].split('.') };
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return comparePre(a.pre, b.pre);
}

type Op = '<' | '<=' | '>' | '>=' | '=';
interface Comparator {
  op: Op;
  v: SemVer;
}

/** A partial version "1", "1.2", "1.x", "1.2.*", "*": the missing parts are wildcards. */
function partial(text: string): { parts: number[]; pre: string[] } | undefined {
  const m = /^v?(\d{1,9}|[xX*])(?:\.(\d{1,9}|[xX*]))?(?:\.(\d{1,9}|[xX*]))?(?:-([0-9A-Za-z.-]{1,64}))?(?:\+[0-9A-Za-z.-]{1,64})?$/.exec(text);
  if (m === null) return undefined;
  const parts: number[] = [];
  for (const p of [m[1], m[2], m[3]]) {
    if (p === undefined || /^[xX*]$/.test(p)) break;
    parts.push(Number(p));
  }
  return { parts, pre: parts.length === 3 && m[4] !== undefined ? m[4].split('.') : [] };
}

function ver(parts: number[], pre: string[] = []): SemVer {
  return { major: parts[0] ?? 0, minor: parts[1] ?? 0, patch: parts[2] ?? 0, pre };
}

/** Upper bound (exclusive) of a partial version: 1.2 → 1.3.0-0. */
function nextAfter(parts: number[]): SemVer {
  if (parts.length === 1) return ver([(parts[0] ?? 0) + 1, 0, 0], ['0']);
  return ver([parts[0] ?? 0, (parts[1] ?? 0) + 1, 0], ['0']);
}

function expand(token: string): Comparator[] | undefined {
  const m = /^(<=|>=|<|>|=|\^|~>?)?\s*(.+)$/.exec(token);
  if (m?.[2] === undefined) return undefined;
  const op = m[1] ?? '';
  const p = partial(m[2]);
  if (p === undefined) return undefined;
  const { parts, pre } = p;
  if (parts.length === 0) return op === '<' || op === '>' ? [{ op: '<', v: ver([0, 0, 0], ['0']) }] : [];
  const full = parts.length === 3;
  switch (op) {
    case '^': {
      const lower = { op: '>=' as const, v: ver(parts, pre) };
      const [a = 0, b = 0] = parts;
      if (a > 0 || parts.length === 1) return [lower, { op: '<', v: ver([a + 1, 0, 0], ['0']) }];
      if (b > 0 || parts.length === 2) return [lower, { op: '<', v: ver([0, b + 1, 0], ['0']) }];
      return [lower, { op: '<', v: ver([0, 0, (parts[2] ?? 0) + 1], ['0']) }];
    }
    case '~':
    case '~>':
      return [{ op: '>=', v: ver(parts, pre) }, { op: '<', v: parts.length === 1 ? nextAfter(parts) : nextAfter(parts.slice(0, 2)) }];
    case '>':
      return full ? [{ op: '>', v: ver(parts, pre) }] : [{ op: '>=', v: nextAfter(parts) }];
    case '>=':
      return [{ op: '>=', v: ver(parts, pre) }];
    case '<':
      return [{ op: '<', v: ver(parts, full ? pre : ['0']) }];
    case '<=':
      return full ? [{ op: '<=', v: ver(parts, pre) }] : [{ op: '<', v: nextAfter(parts) }];
    default:
      return full ? [{ op: '=', v: ver(parts, pre) }] : [{ op: '>=', v: ver(parts) }, { op: '<', v: nextAfter(parts) }];
  }
}

function test(c: Comparator, v: SemVer): boolean {
  const d = compareVersions(v, c.v);
  switch (c.op) {
    case '<': return d < 0;
    case '<=': return d <= 0;
    case '>': return d > 0;
    case '>=': return d >= 0;
    default: return d === 0;
  }
}

export type RangeSet = Comparator[][];

/** Parses a range; undefined when any part is outside the supported grammar. */
export function parseRange(range: string): RangeSet | undefined {
  if (range.length > 1024) return undefined;
  const out: RangeSet = [];
  for (const alternative of range.split('||')) {
    const text = alternative.trim().replace(/(<=|>=|<|>|=|\^|~>?)\s+/g, '$1');
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen?.[1] !== undefined && hyphen[2] !== undefined) {
      const lo = partial(hyphen[1]);
      const hi = partial(hyphen[2]);
      if (lo === undefined || hi === undefined) return undefined;
      const set: Comparator[] = lo.parts.length === 0 ? [] : [{ op: '>=', v: ver(lo.parts, lo.pre) }];
      if (hi.parts.length === 3) set.push({ op: '<=', v: ver(hi.parts, hi.pre) });
      else if (hi.parts.length > 0) set.push({ op: '<', v: nextAfter(hi.parts) });
      out.push(set);
      continue;
    }
    const set: Comparator[] = [];
    for (const token of text === '' ? [] : text.split(/\s+/)) {
      const cs = expand(token);
      if (cs === undefined) return undefined;
      set.push(...cs);
    }
    out.push(set);
  }
  return out;
}

/** Whether `version` lies in `range`; undefined when either cannot be parsed. */
export function satisfies(version: string, range: string): boolean | undefined {
  const v = parseVersion(version);
  const set = parseRange(range);
  if (v === undefined || set === undefined) return undefined;
  return set.some((cs) => {
    if (!cs.every((c) => test(c, v))) return false;
    // node-semver: a pre-release only matches a comparator on the same tuple that has one too.
    if (v.pre.length === 0) return true;
    return cs.some((c) => c.v.pre.length > 0 && c.v.major === v.major && c.v.minor === v.minor && c.v.patch === v.patch);
  });
}
