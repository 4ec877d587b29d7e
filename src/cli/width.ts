/**
 * Laying text out for the terminal: on a terminal, help and command tables are re-flowed to its
 * width (`process.stdout.columns`), the description column wrapping under itself; anything else
 * (a pipe, a file, CI logs) gets the text unchanged, so scripts and snapshots see one layout.
 */
import process from "node:process";

/** The width to lay out for: the terminal's columns (at least 40), or undefined when not a terminal. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  return stream.isTTY && stream.columns ? Math.max(stream.columns, 40) : undefined;
}

/** Wraps `text` at spaces into lines of at most `width` (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

/** A two-column line: the left part (with its padding) and the description. */
const ROW = /^(\s*\S.*?\s{2,})(\S.*)$/;

/**
 * Re-flows aligned two-column lines (`  --stack <name>   stack to use`, continuation lines
 * indented to the description) to `width`; other long lines are wrapped. Unchanged without a width.
 */
export function fitColumns(lines: string[], width: number | undefined): string[] {
  if (width === undefined) return lines;
  const rows: { left: string; text: string }[] = [];
  for (const line of lines) {
    const last = rows.at(-1);
    const indent = /^\s*/.exec(line)?.[0].length ?? 0;
    if (last?.left.trim() && line.trim() && indent === last.left.length) {
      last.text += ` ${line.trim()}`;
      continue;
    }
    const m = ROW.exec(line);
    rows.push(m ? { left: m[1] ?? "", text: m[2] ?? "" } : { left: "", text: line });
  }
  return rows.flatMap(({ left, text }) => {
    if (!left) return text.length > width ? wrap(text, width) : [text];
    const room = Math.max(width - left.length, 20);
    const [first = "", ...rest] = wrap(text, room);
    return [`${left}${first}`, ...rest.map((l) => `${" ".repeat(left.length)}${l}`)];
  });
}

/** {@link fitColumns} over a block of text, for the terminal stdout writes to. */
export function fitText(text: string, width = terminalWidth()): string {
  if (width === undefined) return text;
  return fitColumns(text.split("\n"), width).join("\n");
}
