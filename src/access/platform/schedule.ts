// Schedule evaluation, pure: weekly intervals in the site's time zone, replaced on a holiday by
// the holiday's own intervals (an empty list closes the whole day). Interval ends are exclusive.
import type { ScheduleFacts, WeeklyInterval } from './types.ts';

export const TIME_OF_DAY = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
export const LOCAL_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const MAX_INTERVALS = 28;
export const MAX_HOLIDAYS = 366;

export interface LocalTime {
  /** YYYY-MM-DD */
  date: string;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
/** Formatters per time zone; the set of zones is small and fixed, bounded anyway. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 64;

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timezone, f);
  }
  return f;
}

export function isTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

export function localTime(now: number, timezone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timezone).formatToParts(new Date(now))) parts[p.type] = p.value;
  return {
    date: `${parts['year'] ?? ''}-${parts['month'] ?? ''}-${parts['day'] ?? ''}`,
    weekday: WEEKDAYS[parts['weekday'] ?? ''] ?? -1,
    minute: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

export function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function within(minute: number, from: string, to: string): boolean {
  return minute >= minuteOfDay(from) && minute < minuteOfDay(to);
}

/** Is the schedule active at `now` in `timezone`? */
export function scheduleActive(schedule: ScheduleFacts, now: number, timezone: string): boolean {
  const t = localTime(now, timezone);
  const holiday = schedule.holidays.find((h) => h.date === t.date);
  if (holiday !== undefined) return holiday.intervals.some((i) => within(t.minute, i.from, i.to));
  return schedule.intervals.some((i: WeeklyInterval) => i.days.includes(t.weekday) && within(t.minute, i.from, i.to));
}
