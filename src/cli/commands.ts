// The commands of `vigil`. Each is small: parse, call one service, print, return an exit code.
import { writeFileSync } from 'node:fs';
import { loadConfig, type Config } from '../core/config.ts';
import { PRODUCT } from '../core/product.ts';
import { generateDocs } from '../docs/generate.ts';
import { openRuntime, startService } from './runtime.ts';
import { readSecretLine } from './prompt.ts';

export interface CommandOption {
  type: 'string' | 'boolean';
  help: string;
  multiple?: boolean;
}

export interface CommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: Record<string, CommandOption>;
  run(args: CommandArgs): Promise<number>;
}

const configOption: Record<string, CommandOption> = {
  config: { type: 'string', help: 'JSON configuration file (default: VIGIL_CONFIG, then built-in secure defaults)' },
};

function configFrom(args: CommandArgs): Config {
  const file = args.values['config'];
  return loadConfig({ file: typeof file === 'string' ? file : undefined });
}

function stringOption(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export const COMMANDS: readonly Command[] = [
  {
    name: 'start',
    usage: '[--config FILE]',
    summary: 'Run the service: recorder, access-control platform and web UI over HTTPS (prints its address; on first run, the setup token)',
    options: { ...configOption },
    run: async (args) => {
      const service = await startService(configFrom(args));
      await service.closed;
      return 0;
    },
  },
  {
    name: 'setup',
    usage: '--username NAME [--config FILE]',
    summary: 'Create the first administrator from this console (reads the password from standard input; there is no default account)',
    options: { ...configOption, username: { type: 'string', help: 'user name of the first administrator' } },
    run: async (args) => {
      const username = stringOption(args, 'username');
      if (username === undefined) {
        console.error('vigil setup: --username is required');
        return 2;
      }
      const password = await readSecretLine('password for the first administrator: ');
      const runtime = await openRuntime(configFrom(args));
      try {
        const user = await runtime.identity.setupFromConsole({ username, password }, { sourceIp: 'local', userAgent: 'vigil-cli' });
        console.log(`created administrator ${user.username}; log in and enrol a second factor (TOTP or passkey)`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'audit verify',
    usage: '[--config FILE]',
    summary: 'Verify the security event log: hash chain and signed checkpoints; names every edited, deleted or reordered event',
    options: { ...configOption },
    run: async (args) => {
      const runtime = await openRuntime(configFrom(args));
      try {
        const result = await runtime.verifyAudit();
        for (const p of result.problems) console.log(`FAIL seq ${p.seq}: ${p.kind}: ${p.message}`);
        console.log(
          result.ok
            ? `audit log OK: ${result.checkedEvents} events (seq ${result.firstSeq ?? '-'}..${result.lastSeq ?? '-'}), chain and checkpoints verified`
            : `audit log FAILED verification: ${result.problems.length} problem(s) in ${result.checkedEvents} events`,
        );
        return result.ok ? 0 : 1;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'audit export',
    usage: '--out FILE [--config FILE]',
    summary: 'Export the security event log as signed JSONL (verifiable offline with the device public key)',
    options: { ...configOption, out: { type: 'string', help: 'file to write' } },
    run: async (args) => {
      const out = stringOption(args, 'out');
      if (out === undefined) {
        console.error('vigil audit export: --out is required');
        return 2;
      }
      const runtime = await openRuntime(configFrom(args));
      try {
        const lines: string[] = [];
        for await (const line of runtime.exportAudit()) lines.push(line);
        writeFileSync(out, lines.join('\n') + '\n', { mode: 0o600 });
        console.log(`wrote ${lines.length - 1} events and the signature to ${out}`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'docs',
    usage: '[--out DIR] [--no-sbom]',
    summary: 'Generate the vendor documents: configuration guide, declared network services, roles matrix, CycloneDX SBOM',
    options: {
      out: { type: 'string', help: 'docs directory (default: the project docs/)' },
      'no-sbom': { type: 'boolean', help: 'skip the SBOM (it needs the npm tree)' },
    },
    run: async (args) => {
      const outDir = stringOption(args, 'out');
      const result = generateDocs({ ...(outDir === undefined ? {} : { outDir }), sbom: args.values['no-sbom'] !== true });
      for (const f of result.files) console.log(`wrote ${f}`);
      return 0;
    },
  },
  {
    name: 'version',
    usage: '',
    summary: 'Print product name, model and software version (ACS-5.2.2.10)',
    options: {},
    run: async () => {
      console.log(`${PRODUCT.name} ${PRODUCT.model} ${PRODUCT.version}`);
      return 0;
    },
  },
];
