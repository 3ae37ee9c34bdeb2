import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdmError, ConfigError } from '@adm/core';

/** One `adm` subcommand. */
export interface CliCommand {
  name: string;
  /** Returns the exit code. Throws AdmError for bad input (printed as one line). */
  run(argv: string[]): Promise<number>;
}

/**
 * A command line that does not fit the command: an unknown flag, a flag without its value, a
 * missing or extra argument. `field` is the flag (or the arguments) at fault.
 */
export class UsageError extends ConfigError {}

/**
 * Exit status of an error: 2 for the command line (a UsageError, or a ConfigError naming a
 * flag, as every flag check does), 1 for everything else (files, models, data, the machine).
 */
export function exitCodeOf(e: unknown): 1 | 2 {
  return e instanceof UsageError || (e instanceof ConfigError && e.field.startsWith('-')) ? 2 : 1;
}

/** An AdmError whose message names `flag`, for a check of a library that names its own field. */
export function asFlagError(flag: string, e: unknown): unknown {
  if (!(e instanceof AdmError)) return e;
  const detail = e instanceof ConfigError ? e.detail : e.message;
  return new ConfigError(flag, detail);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse flags strictly: an unknown flag or a missing value is a UsageError naming the
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
    throw new UsageError(flag, `${message.replace(/\. To specify a positional argument.*$/s, '')} (known flags of adm ${command}: ${known})`);
  }
}
