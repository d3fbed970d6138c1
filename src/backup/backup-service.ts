// The backup service: the one place backup rules live. Runs one backup or restore at a time,
// and writes the audit trail (design §4: every backup event audited) — start, finish, verify,
// restore — with outcome and counts, never keys or passphrases.
import type { AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { DeviceSigner } from '../crypto/signer.ts';
import type { VideoStore } from '../video/storage/video-store.ts';
import { listBackups, runBackup, type BackupRunOptions, type BackupRunResult } from './backup-run.ts';
import { restoreBackup, type RestoreOptions, type RestoreResult } from './restore.ts';
import type { BackupTarget } from './target.ts';
import { verifyBackup, type BackupVerification } from './verify.ts';

export interface BackupServiceOptions {
  video: VideoStore;
  keyring: Keyring;
  signer: DeviceSigner;
  audit: AuditSink;
  clock: Clock;
  deviceName: string;
  /** config video.mirrorCopies: copies of each restored segment. */
  mirrorCopies: number;
}

export interface Actor {
  /** 'user:<name>', 'system' (scheduler)... */
  actor: string;
  /** Source address or 'local'. */
  source: string;
}

const SYSTEM: Actor = { actor: 'system', source: 'local' };

export class BackupService {
  readonly #o: BackupServiceOptions;
  #busy: string | undefined;

  constructor(options: BackupServiceOptions) {
    this.#o = options;
  }

  /** NVR-5.1.5.1c: a manual (CLI/API) or scheduled backup to `target`. */
  async backup(target: BackupTarget, options: BackupRunOptions, by: Actor = SYSTEM): Promise<BackupRunResult> {
    return this.#exclusive('backup', async () => {
      const base = { category: 'backup' as const, actor: by.actor, source: by.source, target: target.description };
      this.#o.audit.record({ ...base, action: 'backup.start', outcome: 'success', details: { kind: options.kind, recoveryWrap: options.recoveryPassphrase !== undefined } });
      try {
        const r = await runBackup(this.#o, target, options);
        this.#o.audit.record({
          ...base,
          action: 'backup.finish',
          outcome: 'success',
          details: { run: r.runId, kind: options.kind, sets: r.sets.length, segments: r.segments, copied: r.copied, copiedBytes: r.copiedBytes, alreadyPresent: r.alreadyPresent, skipped: r.skippedCount },
        });
        return r;
      } catch (err) {
        this.#o.audit.record({ ...base, action: 'backup.finish', outcome: 'failure', details: { kind: options.kind, error: errorText(err) } });
        throw err;
      }
    });
  }

  async verify(target: BackupTarget, id: string, by: Actor = SYSTEM): Promise<BackupVerification> {
    const v = await verifyBackup(target, id);
    this.#o.audit.record({
      category: 'backup',
      action: 'backup.verify',
      actor: by.actor,
      source: by.source,
      target: `${target.description}#${id}`,
      outcome: v.ok ? 'success' : 'failure',
      details: { files: v.filesChecked, problems: v.problems.length, firstProblem: v.problems[0] === undefined ? null : `${v.problems[0].object}: ${v.problems[0].message}`.slice(0, 200) },
    });
    return v;
  }

  async restore(target: BackupTarget, id: string, options: RestoreOptions = {}, by: Actor = SYSTEM): Promise<RestoreResult> {
    return this.#exclusive('restore', async () => {
      const base = { category: 'backup' as const, action: 'backup.restore', actor: by.actor, source: by.source, target: `${target.description}#${id}` };
      try {
        const r = await restoreBackup(this.#o, target, id, options);
        this.#o.audit.record({ ...base, outcome: 'success', details: { restored: r.restored, rowsOnly: r.rowsOnly, alreadyPresent: r.alreadyPresent, signedBy: r.signedBy, resigned: r.resigned } });
        return r;
      } catch (err) {
        this.#o.audit.record({ ...base, outcome: 'failure', details: { error: errorText(err) } });
        throw err;
      }
    });
  }

  list(target: BackupTarget, options: { after?: string; limit: number }): Promise<string[]> {
    return listBackups(target, options);
  }

  async #exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy !== undefined) throw new VigilError('VIGIL_BACKUP_IN_PROGRESS', `a ${this.#busy} is already running`);
    this.#busy = what;
    try {
      return await work();
    } finally {
      this.#busy = undefined;
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}
