// The commands of `vigil`. Each is small: parse, call one service, print, return an exit code.
import { closeSync, createWriteStream, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { finished } from 'node:stream/promises';
import { verifyExport } from '../audit/query.ts';
import { PRODUCT } from '../core/product.ts';
import { VigilError } from '../core/errors.ts';
import { generateDocs } from '../docs/generate.ts';
import { ASSESS_COMMAND } from '../assess/command.ts';
import { openRuntime, startService } from './runtime.ts';
import { readLine, readSecretLine } from './prompt.ts';
import { factoryReset } from './factory-reset.ts';
import { configFrom, configOption, stringOption, type Command } from './command-args.ts';
import { CAMERAS_COMMANDS } from './cameras-commands.ts';
import { UPDATE_COMMANDS } from '../update/commands.ts';
import { BACKUP_COMMANDS } from '../backup/commands.ts';
import { DEVICES_COMMANDS } from './devices-commands.ts';
import { EDGE_COMMANDS } from './edge-commands.ts';
import { VERIFY_COMMAND } from '../video/export/commands.ts';

export type { Command, CommandArgs, CommandOption } from './command-args.ts';

/** The lines of a file, read in 64 KiB chunks; one line is capped at 1 MiB. */
function* readLines(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    const decoder = new StringDecoder('utf8');
    let carry = '';
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      const parts = (carry + decoder.write(chunk.subarray(0, n))).split('\n');
      carry = parts.pop() ?? '';
      if (carry.length > 1024 * 1024) throw new VigilError('VIGIL_VALIDATION', 'a line of the export is longer than 1 MiB');
      yield* parts;
    }
    if (carry !== '') yield carry;
  } finally {
    closeSync(fd);
  }
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
    name: 'factory-reset',
    usage: '[--yes] [--config FILE]',
    summary: 'Erase this device: destroy its key-encryption key, then its database and recordings; the next start is a first run with a new setup token (never a default password). The service must be stopped',
    options: { ...configOption, yes: { type: 'boolean', help: 'do not ask for confirmation (scripts)' } },
    run: async (args) => {
      const config = configFrom(args);
      if (args.values['yes'] !== true) {
        if (process.stdin.isTTY !== true) {
          console.error('vigil factory-reset: erasing needs confirmation: run it on a terminal, or pass --yes');
          return 2;
        }
        const typed = await readLine(`This erases every user, key, log and recording of '${config.deviceName}' for good. Type the device name to confirm: `);
        if (typed.trim() !== config.deviceName) {
          console.error('vigil factory-reset: the name does not match; nothing was erased');
          return 1;
        }
      }
      for (const line of await factoryReset(config)) console.log(line);
      console.log('factory reset complete: the next `vigil start` is a first run and prints a new setup token');
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
        // Streamed line by line: a year of events does not have to fit in memory.
        const file = createWriteStream(out, { mode: 0o600 });
        let lines = 0;
        for await (const line of runtime.exportAudit()) {
          lines++;
          if (!file.write(`${line}\n`)) await once(file, 'drain');
        }
        file.end();
        await finished(file);
        writeFileSync(`${out}.pub.pem`, runtime.signer.publicKeyPem, { mode: 0o644 });
        console.log(`wrote ${lines - 1} events and the signature to ${out}; device public key in ${out}.pub.pem (check it against the device before trusting it)`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'audit verify-export',
    usage: 'FILE --public-key PEM',
    summary: 'Verify an exported security event log offline: every event hash and the device signature (no database needed)',
    options: { 'public-key': { type: 'string', help: 'the device Ed25519 public key (PEM)' } },
    run: async (args) => {
      const file = args.positionals[0];
      const keyFile = stringOption(args, 'public-key');
      if (file === undefined || keyFile === undefined) {
        console.error('vigil audit verify-export: FILE and --public-key are required');
        return 2;
      }
      const result = verifyExport(readLines(file), readFileSync(keyFile, 'utf8'));
      for (const p of result.problems) console.log(`FAIL ${p}`);
      console.log(result.ok ? `export OK: ${result.count} events, signed by device key ${result.keyId ?? '?'}` : `export FAILED verification: ${result.problems.length} problem(s)`);
      return result.ok ? 0 : 1;
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
  ...CAMERAS_COMMANDS,
  ...UPDATE_COMMANDS,
  ...BACKUP_COMMANDS,
  ...DEVICES_COMMANDS,
  ...EDGE_COMMANDS,
  VERIFY_COMMAND,
  // The lab's tests (design.md §8): the whole command lives in src/assess.
  ASSESS_COMMAND,
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
