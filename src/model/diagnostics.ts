/**
 * Diagnostics: how findings are built, ordered and printed (text, JSON, GitHub workflow commands).
 */
import type { Diagnostic } from "./desired.ts";

/** Output formats of {@link formatDiagnostics}. */
export type DiagnosticFormat = "text" | "json" | "github";

/** One segment of a path inside a YAML document: a mapping key or a sequence index. */
export type PathSegment = string | number;

const plainKey = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Renders a path the way users read it: `users[3].fno.contoso-demo.roles[1]`; keys that are not
 * plain words are quoted (`environments["my env"]`).
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (plainKey.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Characters that change how text around them reads without being seen: C1 controls
 * (U+0080–U+009F), zero-width characters and marks (U+200B–U+200F, U+FEFF) and bidirectional
 * embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069; the "Trojan Source"
 * characters of CVE-2021-42574). users.yaml refuses them in every name (the schema's text
 * patterns); messages and reports show any that reach them as `\uXXXX`.
 */
export const INVISIBLE = /[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Replaces each {@link INVISIBLE} character with its `\uXXXX` escape (visible, inert). */
export function neutralize(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
}

/**
 * Quotes a value from the input for a message: JSON string syntax, so quotes, backslashes and
 * control characters are visible and cannot forge output lines, and invisible characters
 * ({@link INVISIBLE}) are escaped too; long values are shortened.
 */
export function quote(value: unknown, max = 80): string {
  let text = typeof value === "string" ? value : String(value);
  if (text.length > max) text = `${text.slice(0, max)}…`;
  return neutralize(JSON.stringify(text));
}

/** Levenshtein distance, bounded for speed (returns `limit + 1` when exceeded). */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}

/** Normalizes for "did you mean": case, `-`/`_`/space and dots do not count as differences. */
function fold(text: string): string {
  return text.toLowerCase().replace(/[\s_.-]+/g, "");
}

/**
 * The closest candidate to `wrong`, or undefined when none is close enough to be a likely typo.
 * Candidates equal after folding case and separators win outright (`ap-clerk` → `ap_clerk`).
 */
export function closest(wrong: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(wrong);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(folded.length / 3)));
  for (const candidate of candidates) {
    if (candidate === wrong) continue;
    const f = fold(candidate);
    if (f === folded) return candidate;
    const d = distance(folded, f, bestDistance);
    if (d < bestDistance || (d === bestDistance && best === undefined)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(wrong: string, candidates: Iterable<string>): string {
  const guess = closest(wrong, candidates);
  return guess === undefined ? "" : ` (did you mean ${quote(guess)}?)`;
}

/** Sorts diagnostics by file, line, column, then errors before warnings; stable otherwise. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort(
      (x, y) =>
        (x.d.file < y.d.file ? -1 : x.d.file > y.d.file ? 1 : 0) ||
        x.d.line - y.d.line ||
        x.d.col - y.d.col ||
        (x.d.severity === y.d.severity ? 0 : x.d.severity === "error" ? -1 : 1) ||
        x.i - y.i,
    )
    .map(({ d }) => d);
}

/** `users.yaml:12:7: users[3].personas[1]: message` (warnings carry `warning: ` after the location). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}: `;
  const severity = d.severity === "warning" ? "warning: " : "";
  const path = d.path === "" ? "" : `${d.path}: `;
  return `${where}${severity}${path}${d.message}`;
}

// GitHub workflow command escaping: data escapes %, CR, LF; properties also ':' and ','.
// https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/**
 * Prints diagnostics. `text`: one line each plus a summary line; `json`: `{ valid, errors,
 * warnings, diagnostics }`; `github`: `::error file=…,line=…,col=…,title=…::message` workflow
 * commands, so findings annotate the pull request's diff.
 */
export function formatDiagnostics(diagnostics: Diagnostic[], format: DiagnosticFormat): string {
  const sorted = sortDiagnostics(diagnostics);
  const errors = sorted.filter((d) => d.severity === "error").length;
  const warnings = sorted.length - errors;
  if (format === "json") {
    return `${JSON.stringify({ valid: errors === 0, errors, warnings, diagnostics: sorted }, null, 2)}\n`;
  }
  if (format === "github") {
    return sorted
      .map((d) => {
        const props = [`file=${d.file}`, `line=${d.line}`, `col=${d.col}`, `title=${d.code}`].map(
          escapeProperty,
        );
        const message = d.path === "" ? d.message : `${d.path}: ${d.message}`;
        return `::${d.severity} ${props.join(",")}::${escapeData(message)}\n`;
      })
      .join("");
  }
  const lines = sorted.map((d) => `${formatDiagnostic(d)}\n`).join("");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${lines}${plural(errors, "error")}, ${plural(warnings, "warning")}\n`;
}
