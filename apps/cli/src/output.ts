// What the CLI prints besides its results: quiet by default; `--verbose` (a flag every
// command accepts, taken off argv by main) adds backend probing and library notices;
// `--quiet` (also every command's) drops progress and summaries.

let verboseOn = false;
let quietOn = false;

export function setVerbose(on: boolean): void {
  verboseOn = on;
}

export function isVerbose(): boolean {
  return verboseOn;
}

export function setQuiet(on: boolean): void {
  quietOn = on;
}

/** True with --quiet: no progress bar, no summary lines on stderr. */
export function isQuiet(): boolean {
  return quietOn;
}

/** A line on stderr only with --verbose (backend probing, skipped backends). */
export function verboseLine(line: string): void {
  if (verboseOn) process.stderr.write(`${line}\n`);
}

/** A summary line on stderr (what was written, the backend of a training run), unless --quiet. */
export function noteLine(line: string): void {
  if (!quietOn) process.stderr.write(`${line}\n`);
}

/**
 * Take the global flags (--verbose, --quiet) off a command line, up to a "--" (what follows
 * it belongs to the command, e.g. guided-diffusion flags of adm convert).
 */
export function takeGlobalFlags(argv: readonly string[]): { argv: string[]; verbose: boolean; quiet: boolean } {
  const end = argv.indexOf('--');
  const own = end >= 0 ? argv.slice(0, end) : [...argv];
  const rest = end >= 0 ? argv.slice(end) : [];
  return {
    argv: [...own.filter((a) => a !== '--verbose' && a !== '--quiet'), ...rest],
    verbose: own.includes('--verbose'),
    quiet: own.includes('--quiet'),
  };
}
