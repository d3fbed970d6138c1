// The `vigil` command. Each command declares its options once; `--help` is generated from them.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { isVigilError } from '../core/errors.ts';
import { COMMANDS, type Command } from './commands.ts';

const USAGE_HEAD = 'usage: vigil <command> [options]   (vigil <command> --help for details)';

export function helpFor(command: Command): string {
  const lines = [`usage: vigil ${command.name} ${command.usage}`.trimEnd(), '', command.summary, ''];
  const options = Object.entries(command.options);
  if (options.length > 0) lines.push('options:');
  for (const [name, o] of options) {
    const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${o.help}`);
  }
  lines.push(`  ${'--help'.padEnd(28)} show this help`);
  return lines.join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [USAGE_HEAD, '', 'commands:', ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`)].join('\n');
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' && second !== undefined ? findCommand([second, argv[2]]) : undefined;
    console.log(target === undefined ? mainHelp() : helpFor(target.command));
    return 0;
  }
  const found = findCommand(argv);
  if (found === undefined) {
    console.error(`vigil: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${mainHelp()}`);
    return 2;
  }
  const { command, rest } = found;
  const parseOptions: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(command.options)) parseOptions[name] = { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: parseOptions, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`vigil ${command.name}: ${(err as Error).message}\n\n${helpFor(command)}`);
    return 2;
  }
  if (parsed.values['help'] === true) {
    console.log(helpFor(command));
    return 0;
  }
  return command.run({ values: parsed.values, positionals: parsed.positionals });
}

/** Commands may have two words (`audit verify`); the longest match wins. */
function findCommand(argv: readonly (string | undefined)[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo !== undefined) return { command: byTwo, rest: argv.slice(2).filter((a): a is string => a !== undefined) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  if (byOne !== undefined) return { command: byOne, rest: argv.slice(1).filter((a): a is string => a !== undefined) };
  return undefined;
}

if (import.meta.main) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (isVigilError(err)) console.error(`vigil: ${err.code}: ${err.message}`);
      else console.error('vigil: unexpected error', err);
      process.exitCode = 1;
    },
  );
}
