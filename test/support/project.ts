/**
 * A throw-away copy of the project for tests that run the CLI and the engine: the runnable
 * parts are copied (so a test may edit users.yaml or move the folder), node_modules and the
 * toolchain are linked.
 */
import { cpSync, symlinkSync } from "node:fs";
import path from "node:path";

/** The repository this test runs from. */
export const repo = path.resolve(import.meta.dirname, "..", "..");

/** What every copy needs to run `bin/d365-access`. */
const RUNNABLE = ["package.json", "Pulumi.yaml", "bin", "scripts", "src", "providers"];

/** Copies the runnable project, plus `extra` entries (relative paths), into `to`. */
export function copyProject(to: string, extra: string[] = []): void {
  for (const entry of [...RUNNABLE, ...extra]) {
    cpSync(path.join(repo, entry), path.join(to, entry), { recursive: true });
  }
  symlinkSync(path.join(repo, "node_modules"), path.join(to, "node_modules"));
  symlinkSync(path.join(repo, ".tools"), path.join(to, ".tools"));
}
