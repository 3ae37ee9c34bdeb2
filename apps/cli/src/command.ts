import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@adm/core';

/** One `adm` subcommand. */
export interface CliCommand {
  name: string;
  /** Returns the exit code. Throws AdmError for bad input (printed as one line). */
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse flags strictly: an unknown flag or a missing value is a ConfigError naming the
 * flag and the known ones.
 */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const known = Object.keys(options).map((k) => `--${k}`).join(', ');
    // Node's message names the flag in quotes ("Unknown option '--frobnicate'"): the error's field is that flag.
    const message = (e as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? 'flags';
    throw new ConfigError(flag, `${message.replace(/\. To specify a positional argument.*$/s, '')} (known flags of adm ${command}: ${known})`);
  }
}
