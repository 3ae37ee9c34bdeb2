#!/usr/bin/env node
// The `adm` command: sample, train, eval, convert, info. Each command lives in
// src/commands/<name>.ts and exports `command: CliCommand`.
import { AdmError } from '@adm/core';
import type { CliCommand } from './command.js';

const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  // COMMAND-REGISTRY (one line per command)
  convert: () => import('./commands/convert.js'),
  eval: () => import('./commands/eval.js'),
  info: () => import('./commands/info.js'),
  sample: () => import('./commands/sample.js'),
  train: () => import('./commands/train.js'),
  'train-classifier': () => import('./commands/train-classifier.js'),
};

function usage(): string {
  const lines = ['usage: adm <command> [options]', '', 'commands:'];
  for (const name of Object.keys(COMMANDS).sort()) lines.push(`  ${name}`);
  lines.push('', "run 'adm <command> --help' for a command's options");
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`adm: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const { command } = await load();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof AdmError) {
      console.error(`adm ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const invokedDirectly = process.argv[1] && /(main\.(ts|js|cjs)|adm(\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
