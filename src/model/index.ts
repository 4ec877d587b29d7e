/**
 * The users.yaml model: `loadDesiredState` reads, validates and normalizes the files;
 * `formatDiagnostics` prints what it found. No network access.
 */
import process from "node:process";
import type { DesiredState, Diagnostic } from "./desired.ts";
import { sortDiagnostics } from "./diagnostics.ts";
import { readWithIncludes } from "./include.ts";
import { normalize } from "./normalize.ts";
import { validateSchema } from "./schema.ts";

export type {
  DesiredDataverseAccess,
  DesiredEnvironment,
  DesiredFnoAccess,
  DesiredFnoRole,
  DesiredLicense,
  DesiredState,
  DesiredUser,
  Diagnostic,
  Guards,
  SodRule,
  SourceLocation,
} from "./desired.ts";
export { type DiagnosticFormat, formatDiagnostic, formatDiagnostics } from "./diagnostics.ts";
export { deriveFnoUserId } from "./fnoUserId.ts";

/** Options of {@link loadDesiredState}. */
export interface LoadOptions {
  /** Directory that relative file names (and diagnostic paths) are relative to; default `process.cwd()`. */
  cwd?: string;
}

/** Result of {@link loadDesiredState}. */
export interface LoadResult {
  /** The normalized desired state; undefined when any error was found. */
  state?: DesiredState;
  /** Errors and warnings, sorted by file, line and column. */
  diagnostics: Diagnostic[];
}

/**
 * Reads `files` and everything they include, validates them (YAML syntax, then the JSON Schema,
 * then semantic rules, each stage only when the previous one found no error) and returns the
 * normalized desired state. Never throws on bad input: every problem is a diagnostic.
 */
export function loadDesiredState(files: string[], options: LoadOptions = {}): LoadResult {
  const cwd = options.cwd ?? process.cwd();
  const diagnostics: Diagnostic[] = [];
  const sources = readWithIncludes(files, cwd, diagnostics);
  for (const source of sources) {
    if (source.value !== undefined) diagnostics.push(...validateSchema(source));
  }
  if (diagnostics.some((d) => d.severity === "error"))
    return { diagnostics: sortDiagnostics(dedupe(diagnostics)) };
  const state = normalize(sources, diagnostics);
  const sorted = sortDiagnostics(dedupe(diagnostics));
  if (sorted.some((d) => d.severity === "error")) return { diagnostics: sorted };
  return { state: { ...state, warnings: sorted }, diagnostics: sorted };
}

/** Findings about a persona or default are reached once per user; report each once. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.severity}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
