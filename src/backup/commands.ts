// `vigil backup run|list|verify|restore`: manual backup to a directory target — a second
// internal disk (NVR-5.1.5.1a) or a removable medium's mount point (NVR-5.1.5.1b) — and restore
// (NVR-5.2.9.1a). The recovery passphrase is read from standard input, never from the command
// line where `ps` would show it. Exit codes: 0 ok, 1 verification/restore refused, 2 usage.
import { userInfo } from 'node:os';
import { configFrom, configOption, stringOption, type Command, type CommandArgs } from '../cli/command-args.ts';
import { readSecretLine } from '../cli/prompt.ts';
import { openRuntime, type Runtime } from '../cli/runtime.ts';
import { VigilError } from '../core/errors.ts';
import { listBackups } from './backup-run.ts';
import { BackupService, type Actor } from './backup-service.ts';
import { DirectoryTarget } from './directory-target.ts';
import { checkRecoveryPassphrase } from './backup-keys.ts';
import type { BackupTarget } from './target.ts';

const LIST_LIMIT = 10_000;

const targetOptions = {
  ...configOption,
  target: { type: 'string' as const, help: 'backup directory: a second disk or the mount point of removable media (must exist)' },
  create: { type: 'boolean' as const, help: 'create the backup directory if it does not exist (internal disks only; never for a removable medium)' },
};


function consoleActor(): Actor {
  return { actor: `console:${userInfo().username}`, source: 'local' };
}

async function targetFrom(args: CommandArgs): Promise<BackupTarget | undefined> {
  const dir = stringOption(args, 'target');
  if (dir === undefined) return undefined;
  return DirectoryTarget.open({ root: dir, mustExist: args.values['create'] !== true });
}

function time(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) throw new VigilError('VIGIL_VALIDATION', `${field}: an ISO 8601 time such as 2026-11-23T08:00:00Z`);
  return ms;
}

async function passphraseIf(args: CommandArgs, prompt: string): Promise<string | undefined> {
  if (args.values['recovery-passphrase'] !== true) return undefined;
  const passphrase = await readSecretLine(prompt);
  checkRecoveryPassphrase(passphrase);
  return passphrase;
}

async function withRuntime(args: CommandArgs, work: (runtime: Runtime, service: BackupService) => Promise<number>): Promise<number> {
  const runtime = await openRuntime(configFrom(args));
  try {
    return await work(runtime, runtime.backup);
  } finally {
    await runtime.close();
  }
}

export const BACKUP_COMMANDS: readonly Command[] = [
  {
    name: 'backup run',
    usage: '--target DIR [--incremental] [--camera ID]... [--from ISO] [--to ISO] [--recovery-passphrase] [--create] [--config FILE]',
    summary: 'Back up recorded video (encrypted, signed) to a directory; with --recovery-passphrase the passphrase is read from standard input',
    options: {
      ...targetOptions,
      incremental: { type: 'boolean', help: 'copy and list only segments the target does not hold yet (default: full)' },
      camera: { type: 'string', multiple: true, help: 'camera id to back up (repeatable; default all)' },
      from: { type: 'string', help: 'only segments overlapping from this time (ISO 8601)' },
      to: { type: 'string', help: 'only segments overlapping before this time (ISO 8601)' },
      'recovery-passphrase': { type: 'boolean', help: 'also wrap the backup key under a passphrase (≥12 characters, from standard input) so a replacement device can restore it' },
    },
    run: async (args) => {
      const target = await targetFrom(args);
      if (target === undefined) {
        console.error('vigil backup run: --target DIR is required');
        return 2;
      }
      const cameraArg = args.values['camera'];
      const cameras = Array.isArray(cameraArg) ? cameraArg.filter((c): c is string => typeof c === 'string') : undefined;
      const options = {
        kind: args.values['incremental'] === true ? ('incremental' as const) : ('full' as const),
        cameras,
        from: time(stringOption(args, 'from'), 'from'),
        to: time(stringOption(args, 'to'), 'to'),
        recoveryPassphrase: await passphraseIf(args, 'recovery passphrase for this backup: '),
      };
      return withRuntime(args, async (_runtime, service) => {
        const r = await service.backup(target, options, consoleActor());
        console.log(`backup ${r.runId}: ${r.sets.length} set(s) ${r.sets.join(' ')}; ${r.segments} segments listed, ${r.copied} copied (${r.copiedBytes} bytes), ${r.alreadyPresent} already on the target, ${r.skippedCount} skipped`);
        for (const s of r.skipped) console.log(`skipped ${s.segment}: ${s.reason}`);
        return 0;
      });
    },
  },
  {
    name: 'backup list',
    usage: '--target DIR [--config FILE]',
    summary: 'List the backup sets in a directory, oldest first',
    options: { ...targetOptions },
    run: async (args) => {
      const target = await targetFrom(args);
      if (target === undefined) {
        console.error('vigil backup list: --target DIR is required');
        return 2;
      }
      // Listing needs no runtime (no database, no keys): it only reads the target.
      for (const id of await listBackups(target, { limit: LIST_LIMIT })) console.log(id);
      return 0;
    },
  },
  {
    name: 'backup verify',
    usage: '--target DIR [--id BACKUP_ID] [--config FILE]',
    summary: 'Verify backup sets (device signature, every file SHA-256); exit 1 and name each damaged file on a problem',
    options: { ...targetOptions, id: { type: 'string', help: 'one backup set (default: every set in the target)' } },
    run: async (args) => {
      const target = await targetFrom(args);
      if (target === undefined) {
        console.error('vigil backup verify: --target DIR is required');
        return 2;
      }
      const one = stringOption(args, 'id');
      return withRuntime(args, async (_runtime, service) => {
        const ids = one === undefined ? await service.list(target, { limit: LIST_LIMIT }) : [one];
        let bad = 0;
        for (const id of ids) {
          const v = await service.verify(target, id, consoleActor());
          console.log(`${id}: ${v.ok ? 'OK' : 'FAILED'} (${v.segments} segments, ${v.filesChecked} files checked, signed by ${v.signedBy ?? 'unknown'})`);
          for (const p of v.problems) console.log(`  ${p.object}: ${p.message}`);
          if (!v.ok) bad++;
        }
        return bad === 0 ? 0 : 1;
      });
    },
  },
  {
    name: 'backup restore',
    usage: '--target DIR (--id BACKUP_ID | --all) [--recovery-passphrase] [--config FILE]',
    summary: 'Verify, then restore backup sets onto the recording volumes (segments already present are skipped)',
    options: {
      ...targetOptions,
      id: { type: 'string', help: 'the backup set to restore' },
      all: { type: 'boolean', help: 'restore every set in the target, oldest first' },
      'recovery-passphrase': { type: 'boolean', help: 'open the backup with its recovery passphrase (from standard input): restore on a replacement device' },
    },
    run: async (args) => {
      const target = await targetFrom(args);
      const one = stringOption(args, 'id');
      if (target === undefined || (one === undefined) === (args.values['all'] !== true)) {
        console.error('vigil backup restore: --target DIR and one of --id BACKUP_ID or --all are required');
        return 2;
      }
      const recoveryPassphrase = await passphraseIf(args, 'recovery passphrase of the backup: ');
      return withRuntime(args, async (_runtime, service) => {
        const ids = one === undefined ? await service.list(target, { limit: LIST_LIMIT }) : [one];
        for (const id of ids) {
          const r = await service.restore(target, id, { recoveryPassphrase }, consoleActor());
          console.log(`${id}: ${r.restored} segments restored, ${r.rowsOnly} chain rows, ${r.alreadyPresent} already present${r.resigned ? `; made by device key ${r.signedBy}, re-signed by this device` : ''}`);
        }
        return 0;
      });
    },
  },
];

