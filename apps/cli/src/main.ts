#!/usr/bin/env node
// The `adm` command: sample, train, eval, convert, info. Each command lives in
// src/commands/<name>.ts and exports `command: CliCommand`.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { AdmError } from '@adm/core';
import { type CliCommand, exitCodeOf } from './command.js';
import { isVerbose, setQuiet, setVerbose, takeGlobalFlags } from './output.js';

/** The commands with their one-line summaries (shown by `adm --help` without loading them). */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: CliCommand }> }> = {
  // COMMAND-REGISTRY (one line per command)
  convert: { summary: 'convert a guided-diffusion checkpoint (.pt) into a model folder', load: () => import('./commands/convert.js') },
  eval: { summary: 'Inception Score, FID, sFID, precision and recall of samples against a reference batch', load: () => import('./commands/eval.js') },
  info: { summary: 'list the available backends and adapters, and which one runs', load: () => import('./commands/info.js') },
  sample: { summary: 'sample images (DDIM/DDPM/DPM-Solver++, classifier guidance) into a PNG grid and an .npz', load: () => import('./commands/sample.js') },
  train: { summary: 'train a diffusion UNet (hybrid loss, AdamW, EMA) with resumable checkpoints', load: () => import('./commands/train.js') },
  'train-classifier': { summary: 'train a noisy-image classifier for classifier guidance', load: () => import('./commands/train-classifier.js') },
};

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = ['usage: adm <command> [options]', '', 'commands:'];
  for (const name of names) lines.push(`  ${name.padEnd(width)}  ${COMMANDS[name].summary}`);
  lines.push('', 'options of every command:');
  lines.push('  --help     the command\'s options');
  lines.push('  --verbose  also print backend probing, library notices and the stack of an unexpected error');
  lines.push('  --quiet    no progress bar or summary lines');
  lines.push('', '  adm --version   the version of adm', '', "run 'adm <command> --help' for a command's options");
  return lines.join('\n');
}

/** This package's version (package.json sits one level above src/ and dist/ alike). */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The message of an error as one line (a library's multi-line message is cut at its first line). */
function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] || (e instanceof Error ? e.name : 'error');
}

export async function main(argv: string[]): Promise<number> {
  const global = takeGlobalFlags(argv);
  setVerbose(global.verbose);
  setQuiet(global.quiet);
  // TensorFlow.js's own notices (the "Hi, looks like you are running TensorFlow.js in Node.js"
  // banner, platform overrides) go through its warn(), which PROD silences; nothing else reads PROD.
  if (!global.verbose) tf.env().set('PROD', true);
  const [name, ...rest] = global.argv;
  if (!name) {
    console.error(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(cliVersion());
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    console.error(`adm: unknown command "${name}" (commands: ${Object.keys(COMMANDS).sort().join(', ')}; adm --help)`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (e) {
    if (e instanceof AdmError) {
      console.error(`adm ${name}: ${e.message}`);
      return exitCodeOf(e);
    }
    // Not the user's input: one line, the stack with --verbose.
    if (isVerbose()) console.error(`adm ${name}:`, e);
    else console.error(`adm ${name}: ${oneLine(e)} (run again with --verbose for the stack)`);
    return 1;
  }
}

/** True when Node was started on this very file (tsx src/main.ts), not on bin/adm.js, which calls main itself. */
function startedOnThisFile(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (startedOnThisFile()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
