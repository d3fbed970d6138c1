// Input checks shared by the access services (ACS-5.2.1.5: syntax and content of every input).
import type { AuditSink } from '../../audit/types.ts';
import { VigilError } from '../../core/errors.ts';
import type { RequestContext } from '../../identity/types.ts';
import { LOCAL_DATE, MAX_HOLIDAYS, MAX_INTERVALS, TIME_OF_DAY, minuteOfDay } from './schedule.ts';
import type { Holiday, WeeklyInterval } from './types.ts';

export function invalid(field: string, message: string): VigilError {
  return new VigilError('VIGIL_VALIDATION', `${field}: ${message}`, { details: { field } });
}

export function notFound(kind: string, id: string): VigilError {
  return new VigilError('VIGIL_NOT_FOUND', `no ${kind} ${id}`);
}

const NAME = /^[\p{L}\p{M}\p{N} .,'&()_-]{1,100}$/u;

export function checkName(field: string, value: string): void {
  if (!NAME.test(value) || value.trim() !== value) throw invalid(field, "1-100 letters, digits, space and . , ' & ( ) _ -, no leading or trailing space");
}

export function checkOneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalid(field, allowed.join(' | '));
  return value as T;
}

export function checkWindow(field: string, validFrom: number | null, validUntil: number | null): void {
  for (const v of [validFrom, validUntil]) if (v !== null && (!Number.isSafeInteger(v) || v < 0)) throw invalid(field, 'epoch milliseconds');
  if (validFrom !== null && validUntil !== null && validUntil <= validFrom) throw invalid(field, 'validUntil must be after validFrom');
}

function checkRange(field: string, from: string, to: string): void {
  if (!TIME_OF_DAY.test(from) || !TIME_OF_DAY.test(to) || from === '24:00') throw invalid(field, `times are HH:MM (end may be 24:00), got ${from}-${to}`);
  if (minuteOfDay(to) <= minuteOfDay(from)) throw invalid(field, `interval ${from}-${to} must end after it starts`);
}

export function checkIntervals(intervals: readonly WeeklyInterval[]): void {
  if (intervals.length > MAX_INTERVALS) throw invalid('intervals', `at most ${MAX_INTERVALS}`);
  for (const i of intervals) {
    if (i.days.length === 0 || i.days.length > 7 || i.days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) throw invalid('intervals', 'days are 0 (Sunday) to 6');
    checkRange('intervals', i.from, i.to);
  }
}

export function checkHolidays(holidays: readonly Holiday[]): void {
  if (holidays.length > MAX_HOLIDAYS) throw invalid('holidays', `at most ${MAX_HOLIDAYS}`);
  const seen = new Set<string>();
  for (const h of holidays) {
    if (!LOCAL_DATE.test(h.date) || Number.isNaN(Date.parse(`${h.date}T00:00:00Z`))) throw invalid('holidays', `date ${h.date} is not YYYY-MM-DD`);
    if (seen.has(h.date)) throw invalid('holidays', `date ${h.date} given twice`);
    seen.add(h.date);
    checkName('holidays.name', h.name);
    if (h.intervals.length > 8) throw invalid('holidays', 'at most 8 intervals per holiday');
    for (const i of h.intervals) checkRange('holidays', i.from, i.to);
  }
}

export function actorName(ctx: RequestContext): string {
  return ctx.actor === undefined ? 'system' : `user:${ctx.actor.username}`;
}

/** ACS-5.2.1.12: every configuration change is logged with who, from where, what. */
export function auditChange(audit: AuditSink, ctx: RequestContext, action: string, target: string, details: Record<string, string | number | boolean | null> = {}): void {
  audit.record({ category: 'access', action, actor: actorName(ctx), source: ctx.sourceIp, target, outcome: 'success', details });
}
