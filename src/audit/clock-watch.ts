// ACS-5.6.1.14 (unauthorized change of time synchronization detected and alerted) and
// ACS-5.6.1.10 (log timestamps follow system time): the wall clock is compared, tick by tick,
// with the monotonic clock. Any step of the wall clock beyond the threshold (a manual change,
// a rogue NTP server, a suspended VM) is recorded as 'system.clock_changed' and raises the
// warning alarm 'system.clock_jump'. Slewing by NTP (ppm) stays far below the threshold.
import { performance } from 'node:perf_hooks';
import type { AlarmSink } from '../alarms/types.ts';
import { isoTime, type Clock } from '../core/clock.ts';
import type { AuditSink } from './types.ts';

export interface ClockWatchOptions {
  audit: AuditSink;
  alarms: AlarmSink;
  /** The wall clock the log timestamps come from. */
  clock: Clock;
  /** Tick interval of the watcher's own timer; 0 starts no timer (call tick()). */
  intervalMs: number;
  /** Largest tolerated difference between wall and monotonic progress per tick. */
  thresholdMs?: number;
  /** Monotonic milliseconds; performance.now() by default. */
  monotonic?: () => number;
}

export interface ClockWatch {
  /** Compares the clocks once (the timer calls this). */
  tick(): void;
  stop(): void;
}

export const DEFAULT_CLOCK_JUMP_THRESHOLD_MS = 2000;

export function watchClock(options: ClockWatchOptions): ClockWatch {
  const monotonic = options.monotonic ?? (() => performance.now());
  const threshold = options.thresholdMs ?? DEFAULT_CLOCK_JUMP_THRESHOLD_MS;
  let lastWall = options.clock.now();
  let lastMono = monotonic();

  const tick = (): void => {
    const wall = options.clock.now();
    const mono = monotonic();
    const expected = lastWall + (mono - lastMono);
    const deltaMs = Math.round(wall - expected);
    lastWall = wall;
    lastMono = mono;
    if (Math.abs(deltaMs) <= threshold) return;
    const details = { deltaMs, expected: isoTime(expected), observed: isoTime(wall) };
    options.audit.record({ category: 'system', action: 'system.clock_changed', actor: 'system', source: 'local', target: 'clock', outcome: 'success', details });
    options.alarms.raise({
      type: 'system.clock_jump',
      severity: 'warning',
      source: 'system',
      message: `The system clock jumped by ${String(deltaMs)} ms`,
      details,
    });
  };

  const timer = options.intervalMs > 0 ? setInterval(tick, options.intervalMs).unref() : undefined;
  return {
    tick,
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
