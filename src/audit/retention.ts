// Capacity sizing and retention of the security event log.
// NVR-5.2.7.1c (NIST SP 800-92 retention), ACS-5.6.1.2/5.6.1.9/5.6.1.12 (capacity sized from
// record size, rate and retention), ACS-5.6.1.13 (alert near capacity).
import type { AlarmInput } from '../alarms/types.ts';
import { isoTime } from '../core/clock.ts';
import { asError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AuditRepository } from './audit-repository.ts';

export interface AuditCapacity {
  /** Events currently stored. */
  events: number;
  capacityEvents: number;
  usedRatio: number;
  /** Estimated stored bytes of one event (sampled text plus a fixed row/index overhead). */
  avgEventBytes: number;
  /** Event rate over the last 7 days (or since the first event, at least one hour). */
  eventsPerDayObserved: number;
  /** Days until capacityEvents at the observed rate; MAX_ESTIMATED_DAYS when idle. */
  estimatedDaysOfCapacity: number;
  retentionMonths: number;
  /** Whether retentionMonths of events at the observed rate fit in capacityEvents. */
  retentionFits: boolean;
}

/** usedRatio at which the 'audit.capacity' warning is raised (ACS-5.6.1.13). */
export const CAPACITY_ALARM_RATIO = 0.9;
export const MAX_ESTIMATED_DAYS = 36_500;

const ROW_OVERHEAD_BYTES = 64;
const SAMPLE_EVENTS = 1000;
const DAY_MS = 86_400_000;
const OBSERVATION_WINDOW_MS = 7 * DAY_MS;
const MIN_OBSERVED_MS = 3_600_000;
const DAYS_PER_MONTH = 30.4375;

export async function measureCapacity(
  repo: AuditRepository,
  now: number,
  config: { capacityEvents: number; retentionMonths: number },
): Promise<AuditCapacity> {
  const bounds = await repo.seqBounds();
  const events = bounds === undefined ? 0 : bounds.last - bounds.first + 1;
  const sample = await repo.sampleTextChars(SAMPLE_EVENTS);
  const avgEventBytes = sample.rows === 0 ? 0 : Math.round(sample.chars / sample.rows + ROW_OVERHEAD_BYTES);

  let eventsPerDayObserved = 0;
  const recent = bounds === undefined ? undefined : await repo.earliestAtOrAfter(isoTime(now - OBSERVATION_WINDOW_MS));
  if (bounds !== undefined && recent !== undefined) {
    const observedMs = Math.max(now - Date.parse(recent.ts), MIN_OBSERVED_MS);
    eventsPerDayObserved = ((bounds.last - recent.seq + 1) * DAY_MS) / observedMs;
  }
  const left = Math.max(0, config.capacityEvents - events);
  const estimatedDaysOfCapacity = eventsPerDayObserved > 0 ? Math.min(MAX_ESTIMATED_DAYS, left / eventsPerDayObserved) : MAX_ESTIMATED_DAYS;
  return {
    events,
    capacityEvents: config.capacityEvents,
    usedRatio: events / config.capacityEvents,
    avgEventBytes,
    eventsPerDayObserved: Math.round(eventsPerDayObserved * 100) / 100,
    estimatedDaysOfCapacity: Math.round(estimatedDaysOfCapacity * 10) / 10,
    retentionMonths: config.retentionMonths,
    retentionFits: eventsPerDayObserved * config.retentionMonths * DAYS_PER_MONTH <= config.capacityEvents,
  };
}

/** Epoch ms before which events are past retention: `months` calendar months before `now` (UTC). */
export function retentionCutoff(now: number, months: number): number {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

export interface PurgeResult {
  count: number;
  /** The kept checkpoint that anchors the remaining chain. */
  anchorSeq: number;
  cutoff: string;
}

/**
 * Deletes expired events only up to a signed checkpoint, so the remaining chain starts from a
 * signed anchor; at least the newest event is always kept (a log emptied down to a checkpoint
 * would read as truncated). Returns undefined when nothing can be purged.
 */
export async function purgeExpiredEvents(repo: AuditRepository, now: number, retentionMonths: number): Promise<PurgeResult | undefined> {
  const bounds = await repo.seqBounds();
  if (bounds === undefined) return undefined;
  const cutoff = isoTime(retentionCutoff(now, retentionMonths));
  const firstKept = (await repo.lowestSeqAtOrAfter(cutoff)) ?? bounds.last + 1;
  const limit = Math.min(firstKept - 1, bounds.last - 1);
  const anchor = await repo.lastCheckpointAtOrBefore(limit);
  if (anchor === undefined || anchor.seq < bounds.first) return undefined;
  const count = await repo.purgeThrough(anchor.seq);
  return { count, anchorSeq: anchor.seq, cutoff };
}

/**
 * ACS-5.6.1.13: raises the 'audit.capacity' warning once usedRatio reaches
 * CAPACITY_ALARM_RATIO and clears it when a purge brings the log back below.
 */
export class CapacityWatch {
  readonly #measure: () => Promise<AuditCapacity>;
  readonly #raise: (alarm: AlarmInput) => void;
  readonly #clear: (dedupeKey: string, reason: string) => void;
  readonly #logger: Logger;
  #alarmed = false;

  constructor(measure: () => Promise<AuditCapacity>, raise: (alarm: AlarmInput) => void, clear: (dedupeKey: string, reason: string) => void, logger: Logger) {
    this.#measure = measure;
    this.#raise = raise;
    this.#clear = clear;
    this.#logger = logger;
  }

  /** Never throws: a failed check is logged (the writer alarms a failing store). */
  async check(): Promise<void> {
    try {
      const c = await this.#measure();
      if (c.usedRatio >= CAPACITY_ALARM_RATIO && !this.#alarmed) {
        this.#alarmed = true;
        this.#raise({
          type: 'audit.capacity',
          severity: 'warning',
          source: 'audit',
          message: `The security log is at ${String(Math.round(c.usedRatio * 100))} % of its configured capacity`,
          details: { events: c.events, capacityEvents: c.capacityEvents },
        });
      } else if (c.usedRatio < CAPACITY_ALARM_RATIO && this.#alarmed) {
        this.#alarmed = false;
        this.#clear('audit.capacity|audit', 'the security log is below 90 % of its capacity');
      }
      if (!c.retentionFits) {
        this.#logger.warn(
          { eventsPerDay: c.eventsPerDayObserved, retentionMonths: c.retentionMonths, capacityEvents: c.capacityEvents },
          'audit: the configured capacity does not hold the retention period at the observed rate',
        );
      }
    } catch (err) {
      this.#logger.error({ err: asError(err) }, 'audit: capacity check failed');
    }
  }
}
