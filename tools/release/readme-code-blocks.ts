// The fenced code blocks of a Markdown file, with the line each starts on, so a failing
// README example can be named by file and line.

export interface CodeBlock {
  /** The fence's info string's first word, lower case ("ts", "sh", "" when none). */
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
}

/** Every fenced block (``` or ~~~, CommonMark: the closing fence is at least as long as the opening one). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[i]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[i]);
    }
    blocks.push({ lang: open[2].toLowerCase(), line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

/** Blocks that are TypeScript programs (```ts, ```typescript, ```mts). */
export function typescriptBlocks(markdown: string): CodeBlock[] {
  return codeBlocks(markdown).filter((b) => ['ts', 'typescript', 'mts'].includes(b.lang));
}
