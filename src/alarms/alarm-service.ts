// The alarm model: raise (de-duplicated by key), acknowledge, clear; audited, pushed to
// listeners and webhooks.
//
// NVR-5.2.7.2a ("alarm raised and shown"), CAM-T-sys-12, ACS-5.6.1.4: the alarm that matters
// most — the audit store failing — is raised exactly when the database fails. So the open
// alarms live in a bounded in-memory mirror that active() serves, changes are written to the
// database when it takes them (retried with capped backoff), and webhooks do not depend on the
// database at all. Every change is recorded through the AuditSink (category 'alarm'); when the
// audit log itself is failing, that record is simply queued there, so nothing recurses.
import { randomUUID } from 'node:crypto';
import { boundText, sanitizeDetails } from '../audit/canonical.ts';
import type { AuditSink } from '../audit/types.ts';
import { isoTime, type Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { VigilError, asError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/database.ts';
import { AlarmRepository, type AlarmRow } from './alarm-repository.ts';
import { ALARM_SEVERITIES, ALARM_STATES, type Alarm, type AlarmChange, type AlarmChangeKind, type AlarmInput, type AlarmSeverity, type AlarmSink, type AlarmState } from './types.ts';
import { WebhookDispatcher, type WebhookStats, type WebhookTuning } from './webhook.ts';

export interface AlarmServiceTuning {
  /** Open alarms kept in memory. */
  mirrorCap: number;
  /** Alarm states waiting to be written while the database fails. */
  pendingCap: number;
  persistBatch: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxListeners: number;
  webhook: Partial<WebhookTuning>;
}

export const DEFAULT_ALARM_TUNING: AlarmServiceTuning = {
  mirrorCap: 10_000,
  pendingCap: 10_000,
  persistBatch: 200,
  retryBaseMs: 100,
  retryMaxMs: 5000,
  maxListeners: 1000,
  webhook: {},
};

export interface AlarmServiceOptions {
  store: Store;
  audit: AuditSink;
  clock: Clock;
  config: Config['alarms'];
  logger: Logger;
  /** Where webhook secretEnv variables are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  tuning?: Partial<AlarmServiceTuning>;
}

export const MAX_ALARM_LIST_LIMIT = 1000;
const MESSAGE_CHARS = 1024;
const NAME_CHARS = 128;
const KEY_CHARS = 256;

function toAlarm(row: AlarmRow): Alarm {
  let details: Alarm['details'] = {};
  try {
    details = sanitizeDetails(JSON.parse(row.details));
  } catch {
    details = {};
  }
  return {
    id: row.id,
    type: row.type,
    severity: (ALARM_SEVERITIES as readonly string[]).includes(row.severity) ? (row.severity as AlarmSeverity) : 'critical',
    source: row.source,
    message: row.message,
    state: (ALARM_STATES as readonly string[]).includes(row.state) ? (row.state as AlarmState) : 'active',
    dedupeKey: row.dedupe_key,
    details,
    raisedAt: row.raised_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    ackComment: row.ack_comment,
    clearedAt: row.cleared_at,
  };
}

function toRow(a: Alarm): AlarmRow {
  return {
    id: a.id,
    type: a.type,
    severity: a.severity,
    source: a.source,
    message: a.message,
    state: a.state,
    dedupe_key: a.dedupeKey,
    details: JSON.stringify(a.details),
    raised_at: a.raisedAt,
    acknowledged_at: a.acknowledgedAt,
    acknowledged_by: a.acknowledgedBy,
    ack_comment: a.ackComment,
    cleared_at: a.clearedAt,
  };
}

export class AlarmService implements AlarmSink {
  readonly #repo: AlarmRepository;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #tuning: AlarmServiceTuning;
  readonly #webhooks: WebhookDispatcher;
  /** Open (active or acknowledged) alarms by id, oldest first. */
  readonly #mirror = new Map<string, Alarm>();
  readonly #byKey = new Map<string, string>();
  /** Latest state of each alarm not yet written, by id. */
  readonly #pending = new Map<string, Alarm>();
  readonly #listeners = new Set<(change: AlarmChange) => void>();
  #evicted = false;
  #persisting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failedAttempts = 0;
  #flushWaiters: Array<() => void> = [];
  #closed = false;

  private constructor(options: AlarmServiceOptions, webhooks: WebhookDispatcher) {
    this.#repo = new AlarmRepository(options.store.db);
    this.#audit = options.audit;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#tuning = { ...DEFAULT_ALARM_TUNING, ...options.tuning };
    this.#webhooks = webhooks;
  }

  static async open(options: AlarmServiceOptions): Promise<AlarmService> {
    const tuning = { ...DEFAULT_ALARM_TUNING, ...options.tuning };
    const webhooks = WebhookDispatcher.create({
      webhooks: options.config.webhooks,
      allowLoopbackHttp: options.config.webhookAllowLoopbackHttp,
      logger: options.logger,
      tuning: tuning.webhook,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const service = new AlarmService(options, webhooks);
    try {
      const open = await service.#repo.listOpen(tuning.mirrorCap);
      for (const row of open.reverse()) service.#remember(toAlarm(row));
      if (open.length === tuning.mirrorCap) service.#evicted = true;
    } catch (err) {
      webhooks.close();
      throw err;
    }
    return service;
  }

  raise(input: AlarmInput): void {
    try {
      if (this.#closed) {
        this.#logger.warn({ type: input.type }, 'alarms: alarm raised after close');
        return;
      }
      const type = boundText(input.type, NAME_CHARS);
      const source = boundText(input.source, NAME_CHARS);
      const dedupeKey = boundText(input.dedupeKey ?? `${type}|${source}`, KEY_CHARS);
      // One open alarm per key: raising it again while it is open adds nothing.
      if (this.#byKey.has(dedupeKey)) return;
      const alarm: Alarm = {
        id: randomUUID(),
        type,
        severity: (ALARM_SEVERITIES as readonly string[]).includes(input.severity) ? input.severity : 'critical',
        source,
        message: boundText(input.message, MESSAGE_CHARS),
        state: 'active',
        dedupeKey,
        details: sanitizeDetails(input.details),
        raisedAt: this.#clock.now(),
        acknowledgedAt: null,
        acknowledgedBy: null,
        ackComment: null,
        clearedAt: null,
      };
      this.#apply(alarm, 'raised', 'system', { type, severity: alarm.severity, alarmSource: source, dedupeKey, message: alarm.message });
    } catch (err) {
      this.#logger.error({ err: asError(err), type: input.type }, 'alarms: raise failed');
    }
  }

  clear(dedupeKey: string, reason: string): void {
    try {
      const id = this.#byKey.get(dedupeKey);
      const alarm = id === undefined ? undefined : this.#mirror.get(id);
      if (alarm !== undefined) this.#clearAlarm(alarm, 'system', reason);
      else if (this.#evicted) void this.#clearFromStore(dedupeKey, reason);
    } catch (err) {
      this.#logger.error({ err: asError(err), dedupeKey }, 'alarms: clear failed');
    }
  }

  async acknowledge(id: string, by: { by: string; comment?: string }): Promise<Alarm> {
    const alarm = await this.#find(id);
    if (alarm.state !== 'active') throw new VigilError('VIGIL_ALARM_STATE', `alarm is ${alarm.state}, not active`, { details: { state: alarm.state } });
    const comment = by.comment === undefined ? null : boundText(by.comment, MESSAGE_CHARS);
    const next: Alarm = { ...alarm, state: 'acknowledged', acknowledgedAt: this.#clock.now(), acknowledgedBy: boundText(by.by, NAME_CHARS), ackComment: comment };
    this.#apply(next, 'acknowledged', next.acknowledgedBy ?? 'unknown', { type: alarm.type, comment });
    return next;
  }

  async clearById(id: string, by: string): Promise<Alarm> {
    const alarm = await this.#find(id);
    if (alarm.state === 'cleared') throw new VigilError('VIGIL_ALARM_STATE', 'alarm is already cleared', { details: { state: alarm.state } });
    return this.#clearAlarm(alarm, boundText(by, NAME_CHARS), 'cleared by an operator');
  }

  async get(id: string): Promise<Alarm | undefined> {
    const inMemory = this.#pending.get(id) ?? this.#mirror.get(id);
    if (inMemory !== undefined) return inMemory;
    const row = await this.#repo.get(id);
    return row === undefined ? undefined : toAlarm(row);
  }

  /**
   * Newest first. Changes not yet written are overlaid; when the database fails, the list is
   * served from memory (open alarms and unwritten changes) so the UI still shows them.
   */
  async list(filter: { state?: AlarmState; limit?: number; since?: number } = {}): Promise<Alarm[]> {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ALARM_LIST_LIMIT) {
      throw new VigilError('VIGIL_VALIDATION', `limit must be an integer from 1 to ${String(MAX_ALARM_LIST_LIMIT)}`, { details: { field: 'limit' } });
    }
    const matches = (a: Alarm): boolean => (filter.state === undefined || a.state === filter.state) && (filter.since === undefined || a.raisedAt >= filter.since);
    const byId = new Map<string, Alarm>();
    try {
      for (const row of await this.#repo.list({ state: filter.state, since: filter.since, limit })) byId.set(row.id, toAlarm(row));
    } catch (err) {
      this.#logger.warn({ err: asError(err) }, 'alarms: database unavailable; listing alarms from memory');
      for (const a of this.#mirror.values()) if (matches(a)) byId.set(a.id, a);
    }
    for (const a of this.#pending.values()) {
      if (matches(a)) byId.set(a.id, a);
      else byId.delete(a.id);
    }
    return [...byId.values()].sort((x, y) => y.raisedAt - x.raisedAt || x.id.localeCompare(y.id)).slice(0, limit);
  }

  /** Open alarms (active or acknowledged), newest first, from memory: works with the database down. */
  active(): Alarm[] {
    return [...this.#mirror.values()].reverse();
  }

  /** Live push of every change; returns the unsubscribe function. */
  onChange(listener: (change: AlarmChange) => void): () => void {
    if (this.#listeners.size >= this.#tuning.maxListeners) throw new VigilError('VIGIL_RATE_LIMITED', 'too many alarm subscribers');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  deliveryStats(): WebhookStats {
    return this.#webhooks.stats();
  }

  /** Resolves when every change so far is written to the database. */
  flush(): Promise<void> {
    if (this.#pending.size === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#pending.size > 0 && this.#failedAttempts === 0) await this.#kick();
    this.#closed = true;
    if (this.#pending.size > 0) this.#logger.error({ unwritten: this.#pending.size }, 'alarms: closing with alarm changes not written to the database');
    this.#webhooks.close();
    this.#listeners.clear();
    for (const w of this.#flushWaiters.splice(0)) w();
  }

  // ---- internals ----------------------------------------------------------------------------

  async #find(id: string): Promise<Alarm> {
    const alarm = await this.get(id);
    if (alarm === undefined) throw new VigilError('VIGIL_ALARM_NOT_FOUND', 'no such alarm');
    return alarm;
  }

  #clearAlarm(alarm: Alarm, actor: string, reason: string): Alarm {
    const next: Alarm = { ...alarm, state: 'cleared', clearedAt: this.#clock.now() };
    this.#apply(next, 'cleared', actor, { type: alarm.type, reason: boundText(reason) });
    return next;
  }

  async #clearFromStore(dedupeKey: string, reason: string): Promise<void> {
    try {
      const row = await this.#repo.findOpenByDedupeKey(dedupeKey);
      if (row !== undefined && !this.#pending.has(row.id)) this.#clearAlarm(toAlarm(row), 'system', reason);
    } catch (err) {
      this.#logger.error({ err: asError(err), dedupeKey }, 'alarms: cannot clear an alarm held only in the database');
    }
  }

  /** One change: memory, database (queued), audit, listeners, webhooks. */
  #apply(alarm: Alarm, kind: AlarmChangeKind, actor: string, details: Record<string, string | number | boolean | null>): void {
    if (alarm.state === 'cleared') this.#forget(alarm);
    else this.#remember(alarm);
    this.#persist(alarm);
    const action = kind === 'raised' ? 'alarm.raise' : kind === 'acknowledged' ? 'alarm.acknowledge' : 'alarm.clear';
    this.#audit.record({ category: 'alarm', action, actor, source: 'local', target: `alarm:${alarm.id}`, outcome: 'success', details });
    const at = this.#clock.now();
    const change: AlarmChange = { kind, alarm, at };
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.#logger.error({ err: asError(err) }, 'alarms: change listener failed');
      }
    }
    if (this.#webhooks.size > 0) {
      const id = randomUUID();
      const when = isoTime(at);
      this.#webhooks.enqueue({ id, at: when, body: JSON.stringify({ eventId: id, type: `alarm.${kind}`, at: when, alarm }) });
    }
  }

  #remember(alarm: Alarm): void {
    if (!this.#mirror.has(alarm.id) && this.#mirror.size >= this.#tuning.mirrorCap) {
      // Bounded: the oldest open alarm leaves memory (it stays in the database, and clear()
      // looks it up there).
      const oldest = this.#mirror.values().next();
      if (oldest.done !== true) {
        this.#forget(oldest.value);
        this.#evicted = true;
        this.#logger.error({ evicted: oldest.value.id, cap: this.#tuning.mirrorCap }, 'alarms: too many open alarms; the oldest is no longer held in memory');
      }
    }
    this.#mirror.set(alarm.id, alarm);
    this.#byKey.set(alarm.dedupeKey, alarm.id);
  }

  #forget(alarm: Alarm): void {
    this.#mirror.delete(alarm.id);
    if (this.#byKey.get(alarm.dedupeKey) === alarm.id) this.#byKey.delete(alarm.dedupeKey);
  }

  #persist(alarm: Alarm): void {
    this.#pending.delete(alarm.id);
    if (this.#pending.size >= this.#tuning.pendingCap) {
      const oldest = this.#pending.keys().next();
      if (oldest.done !== true) {
        this.#pending.delete(oldest.value);
        this.#logger.error({ alarm: oldest.value }, 'alarms: too many unwritten alarm changes; the oldest is not written');
      }
    }
    this.#pending.set(alarm.id, alarm);
    if (this.#retryTimer === undefined) void this.#kick();
  }

  #kick(): Promise<void> {
    this.#persisting ??= this.#writePending().finally(() => {
      this.#persisting = undefined;
      if (this.#pending.size > 0 && this.#retryTimer === undefined && this.#failedAttempts === 0 && !this.#closed) void this.#kick();
    });
    return this.#persisting;
  }

  async #writePending(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch = [...this.#pending.values()].slice(0, this.#tuning.persistBatch);
      try {
        await this.#repo.upsert(batch.map(toRow));
      } catch (err) {
        this.#failedAttempts++;
        if (this.#failedAttempts === 1) this.#logger.error({ err: asError(err), unwritten: this.#pending.size }, 'alarms: cannot write alarms; keeping them in memory and retrying');
        if (!this.#closed) {
          const delay = Math.min(this.#tuning.retryBaseMs * 2 ** Math.min(this.#failedAttempts - 1, 20), this.#tuning.retryMaxMs);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            void this.#kick();
          }, delay);
        }
        return;
      }
      if (this.#failedAttempts > 0) this.#logger.info({ attempts: this.#failedAttempts }, 'alarms: alarms are written again');
      this.#failedAttempts = 0;
      // A change made while the batch was being written stays pending.
      for (const a of batch) if (this.#pending.get(a.id) === a) this.#pending.delete(a.id);
    }
    for (const w of this.#flushWaiters.splice(0)) w();
  }
}
