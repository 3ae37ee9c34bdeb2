// What the CLI prints besides its results: quiet by default; `--verbose` (a flag every
// command accepts, taken off argv by main) adds backend probing and library notices.

let verboseOn = false;

export function setVerbose(on: boolean): void {
  verboseOn = on;
}

export function isVerbose(): boolean {
  return verboseOn;
}

/** A line on stderr only with --verbose (backend probing, skipped backends). */
export function verboseLine(line: string): void {
  if (verboseOn) process.stderr.write(`${line}\n`);
}
