// Package versions: strict MAJOR.MINOR.PATCH (SemVer 2.0.0 §2) with no pre-release or build
// suffix. Anti-rollback (ACS-5.5.1.3) compares versions, and pre-release ordering rules are a
// classic source of "1.2.0-zzz is newer than 1.2.0" confusion, so packages may not carry one.
import { VigilError } from '../core/errors.ts';

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

// Each part at most 9 digits: always a safe integer, no leading zeros (SemVer §2).
const VERSION_RE = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

export function isVersion(text: string): boolean {
  return VERSION_RE.test(text);
}

export function parseVersion(text: string, field = 'version'): Version {
  const m = VERSION_RE.exec(text);
  if (m === null) throw new VigilError('VIGIL_VALIDATION', `${field}: a version MAJOR.MINOR.PATCH (e.g. 1.4.2)`, { details: { field } });
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/** The highest of the given versions (undefined entries ignored). */
export function maxVersion(...versions: (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (v !== undefined && (best === undefined || compareVersions(v, best) > 0)) best = v;
  return best;
}
