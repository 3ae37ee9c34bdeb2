import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@adm/core';

/** One `adm` subcommand. */
export interface CliCommand {
  name: string;
  summary: string;
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
    throw new ConfigError(`adm ${command}`, `${(e as Error).message} (known flags: ${known})`);
  }
}
