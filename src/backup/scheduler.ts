// Scheduled automatic backup (NVR-5.1.5.1c): an incremental backup every N hours, one at a
// time (a tick while a run is still going is skipped, never queued). A failed run raises the
// 'backup.failed' alarm; the next successful run clears it.
import type { AlarmSink } from '../alarms/types.ts';
import type { Logger } from '../core/logger.ts';
import { VigilError } from '../core/errors.ts';
import type { BackupRunOptions, BackupRunResult } from './backup-run.ts';
import type { BackupService } from './backup-service.ts';
import type { BackupTarget } from './target.ts';

export const MIN_EVERY_HOURS = 1;
export const MAX_EVERY_HOURS = 24 * 31;

export interface BackupSchedulerOptions {
  service: Pick<BackupService, 'backup'>;
  /** Opened per run, so a removable medium unplugged between runs is noticed (and alarmed). */
  openTarget: () => Promise<BackupTarget>;
  /** Description of the target for alarms when it cannot even be opened. */
  targetName: string;
  everyHours: number;
  alarms: AlarmSink;
  logger: Logger;
  /** Run options; kind defaults to incremental. Read per run (a passphrase may come from env). */
  runOptions?: () => Omit<BackupRunOptions, 'kind'> & { kind?: BackupRunOptions['kind'] };
}

export class BackupScheduler {
  readonly #o: BackupSchedulerOptions;
  readonly #dedupeKey: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<BackupRunResult | undefined> | undefined;
  #stopped = true;

  constructor(options: BackupSchedulerOptions) {
    if (!Number.isFinite(options.everyHours) || options.everyHours < MIN_EVERY_HOURS || options.everyHours > MAX_EVERY_HOURS) {
      throw new VigilError('VIGIL_VALIDATION', `backups run every ${MIN_EVERY_HOURS} to ${MAX_EVERY_HOURS} hours`);
    }
    this.#o = options;
    this.#dedupeKey = `backup.failed|${options.targetName}`;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Runs a backup now unless one is running; resolves undefined when skipped or failed. */
  tick(): Promise<BackupRunResult | undefined> {
    if (this.#running !== undefined) return Promise.resolve(undefined);
    const run = this.#run().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.tick().finally(() => this.#arm());
    }, this.#o.everyHours * 3_600_000);
    this.#timer.unref();
  }

  async #run(): Promise<BackupRunResult | undefined> {
    try {
      const target = await this.#o.openTarget();
      const extra = this.#o.runOptions?.() ?? {};
      const result = await this.#o.service.backup(target, { ...extra, kind: extra.kind ?? 'incremental' });
      this.#o.alarms.clear(this.#dedupeKey, `backup ${result.runId} succeeded`);
      return result;
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      this.#o.logger.error({ err, target: this.#o.targetName }, 'scheduled backup failed');
      this.#o.alarms.raise({
        type: 'backup.failed',
        severity: 'critical',
        source: 'backup',
        message: `scheduled backup to ${this.#o.targetName} failed: ${message}`,
        dedupeKey: this.#dedupeKey,
        details: { target: this.#o.targetName },
      });
      return undefined;
    }
  }
}
