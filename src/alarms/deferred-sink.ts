// Breaks the construction cycle between the audit log (which raises alarms) and the alarm
// service (which audits every alarm change): the audit log is opened with this sink, the alarm
// service with the audit log, then attach() hands the buffered calls to the alarm service.
import type { AlarmInput, AlarmSink } from './types.ts';

type Call = { kind: 'raise'; alarm: AlarmInput } | { kind: 'clear'; dedupeKey: string; reason: string };

export class DeferredAlarmSink implements AlarmSink {
  readonly #capacity: number;
  #buffer: Call[] = [];
  #target: AlarmSink | undefined;
  #dropped = 0;

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  get dropped(): number {
    return this.#dropped;
  }

  raise(alarm: AlarmInput): void {
    if (this.#target !== undefined) this.#target.raise(alarm);
    else this.#hold({ kind: 'raise', alarm });
  }

  clear(dedupeKey: string, reason: string): void {
    if (this.#target !== undefined) this.#target.clear(dedupeKey, reason);
    else this.#hold({ kind: 'clear', dedupeKey, reason });
  }

  attach(target: AlarmSink): void {
    this.#target = target;
    for (const call of this.#buffer.splice(0)) {
      if (call.kind === 'raise') target.raise(call.alarm);
      else target.clear(call.dedupeKey, call.reason);
    }
  }

  #hold(call: Call): void {
    if (this.#buffer.length >= this.#capacity) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#buffer.push(call);
  }
}
