/**
 * Reading the files named on the command line and everything they `include`, depth first, with
 * cycles detected and every diagnostic naming the file it came from.
 */
import { globSync } from "node:fs";
import path from "node:path";
import type { Diagnostic } from "./desired.ts";
import { quote } from "./diagnostics.ts";
import { diagnosticAt, readSourceFile, type SourceFile } from "./source.ts";

/** Most files one desired state may consist of. */
export const MAX_FILES = 5000;

const globChars = /[*?[\]{}]/;

/** Shows a path relative to the working directory with forward slashes, as diagnostics do. */
export function displayPath(absPath: string, cwd: string): string {
  const relative = path.relative(cwd, absPath);
  return (relative === "" ? absPath : relative).split(path.sep).join("/");
}

/**
 * Reads `files` (relative to `cwd`) and their includes. Returns the files in reading order:
 * each file is followed by what it includes. A file reached twice is read once.
 */
export function readWithIncludes(files: string[], cwd: string, diagnostics: Diagnostic[]): SourceFile[] {
  const read: SourceFile[] = [];
  const seen = new Set<string>();
  const visit = (absPath: string, stack: string[]) => {
    if (seen.has(absPath)) return;
    if (read.length >= MAX_FILES) return;
    seen.add(absPath);
    const source = readSourceFile(absPath, displayPath(absPath, cwd), diagnostics);
    read.push(source);
    const value = source.value as { include?: unknown } | undefined;
    if (!value || typeof value !== "object" || !Array.isArray(value.include)) return;
    const dir = path.dirname(absPath);
    value.include.forEach((pattern: unknown, index: number) => {
      // Non-strings are reported by the schema; resolve only what can be resolved.
      if (typeof pattern !== "string" || pattern === "") return;
      const where = ["include", index];
      let targets: string[];
      if (globChars.test(pattern)) {
        targets = globSync(pattern, { cwd: dir })
          .map((match) => path.resolve(dir, match))
          .filter((match) => /\.ya?ml$/i.test(match))
          .sort();
        if (targets.length === 0) {
          diagnostics.push(
            diagnosticAt(
              source,
              where,
              "error",
              "include-not-found",
              `${quote(pattern)} matches no .yaml or .yml file`,
            ),
          );
          return;
        }
      } else {
        targets = [path.resolve(dir, pattern)];
      }
      for (const target of targets) {
        if (target === absPath || stack.includes(target)) {
          const cycle = [...stack.slice(stack.indexOf(target)), absPath, target].map((p) =>
            displayPath(p, cwd),
          );
          diagnostics.push(
            diagnosticAt(source, where, "error", "include-cycle", `include cycle: ${cycle.join(" → ")}`),
          );
          continue;
        }
        if (seen.has(target)) continue;
        const before = diagnostics.length;
        visit(target, [...stack, absPath]);
        // A missing include is reported where it is written, not at the missing file.
        const missing = diagnostics.findIndex(
          (d, i) => i >= before && d.code === "file-unreadable" && d.file === displayPath(target, cwd),
        );
        if (missing >= 0) {
          const [d] = diagnostics.splice(missing, 1);
          diagnostics.push(
            diagnosticAt(
              source,
              where,
              "error",
              "include-not-found",
              `included file ${quote(pattern)}: ${d?.message ?? "cannot be read"}`,
            ),
          );
          read.splice(
            read.findIndex((s) => s.absPath === target),
            1,
          );
        }
      }
    });
    if (read.length >= MAX_FILES && !diagnostics.some((d) => d.code === "too-many-files")) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["include"],
          "error",
          "too-many-files",
          `more than ${MAX_FILES} files are included; the limit guards against runaway globs`,
        ),
      );
    }
  };
  for (const file of files) visit(path.resolve(cwd, file), []);
  return read;
}
