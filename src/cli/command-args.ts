// What every command is made of, and the options several share.
import { loadConfig, type Config } from '../core/config.ts';

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

export const configOption: Record<string, CommandOption> = {
  config: { type: 'string', help: 'JSON configuration file (default: VIGIL_CONFIG, then built-in secure defaults)' },
};

export function configFrom(args: CommandArgs): Config {
  const file = args.values['config'];
  return loadConfig({ file: typeof file === 'string' ? file : undefined });
}

export function stringOption(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}
