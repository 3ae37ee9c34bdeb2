import { stat } from 'node:fs/promises';
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

/** A path an argument names (`field`: "--inception", "<checkpoint>") must exist, as a file or a folder, before any work starts. */
export async function checkPathFlag(field: string, path: string, kind: 'file' | 'folder'): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new ConfigError(field, `${path} not found`);
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) throw new ConfigError(field, `${path} is not a ${kind}`);
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
    // Node's message spans lines ("Did you forget ..."): the CLI's errors are one line.
    const text = message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' ');
    throw new UsageError(flag, `${text} (known flags of adm ${command}: ${known})`);
  }
}
