// The contract every component uses to raise and clear alarms.

export const ALARM_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

export interface AlarmInput {
  /** Stable machine type, e.g. 'audit.store_failed', 'video.tamper', 'storage.low_space'. */
  type: string;
  severity: AlarmSeverity;
  /** Component or device that raised it, e.g. 'audit', 'camera:<id>'. */
  source: string;
  /** Operator-facing text. No secrets. */
  message: string;
  /** One active alarm per key: raising again while active updates nothing new. Default: type|source. */
  dedupeKey?: string;
  details?: Record<string, string | number | boolean | null>;
}

export interface AlarmSink {
  raise(alarm: AlarmInput): void;
  /** Clears the active alarm with this dedupe key (the condition went away). */
  clear(dedupeKey: string, reason: string): void;
}

export const ALARM_STATES = ['active', 'acknowledged', 'cleared'] as const;
/** active → acknowledged → cleared, or active → cleared. */
export type AlarmState = (typeof ALARM_STATES)[number];

/** An alarm as the service, the API and webhooks show it. Times are epoch ms. */
export interface Alarm {
  id: string;
  type: string;
  severity: AlarmSeverity;
  source: string;
  message: string;
  state: AlarmState;
  dedupeKey: string;
  details: Record<string, string | number | boolean | null>;
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  clearedAt: number | null;
}

export type AlarmChangeKind = 'raised' | 'acknowledged' | 'cleared';

export interface AlarmChange {
  kind: AlarmChangeKind;
  alarm: Alarm;
  /** Epoch ms of the change. */
  at: number;
}
