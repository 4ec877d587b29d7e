/**
 * `d365-access validate [files…] [--format text|json|github]`: checks users.yaml files without
 * calling any API. Exit code 0 when valid (warnings allowed), 1 on errors, 2 on usage errors.
 */
import process from "node:process";
import { SYSTEMS } from "../../providers/registry.ts";
import { type DiagnosticFormat, formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { defineCommand, oneOf } from "./command.ts";

const formats: readonly DiagnosticFormat[] = ["text", "json", "github"];

/** Runs the command; resolves to the exit code. */
export const run = defineCommand({
  name: "validate",
  synopsis: "[files…] [--format text|json|github]",
  description: "Checks users.yaml files (and the files they include) without calling any API.",
  options: { format: { type: "string", default: "text" } },
  positionals: true,
  help: [
    "  files                    the files to check, merged into one desired state (default: users.yaml)",
    "      --format <f>         text (default), json, or github (workflow commands that annotate a pull request)",
  ],
  epilog: "Exit code: 0 valid, 1 errors found, 2 usage error.",
  async run({ values, positionals }) {
    const format = oneOf("format", values.format, formats);
    const { state, diagnostics } = loadDesiredState(positionals.length > 0 ? positionals : ["users.yaml"]);
    const output = formatDiagnostics(diagnostics, format);
    if (format === "text" && state) {
      const access = SYSTEMS.filter((s) => s.scope === "environment").map(
        (s) => `${state.users.filter((u) => s.environments(u).length > 0).length} with ${s.label} access`,
      );
      process.stdout.write(
        `${output}valid: ${state.users.length} users (${access.join(", ")}) in ${state.environments.length} environment(s), ${state.files.length} file(s)\n`,
      );
    } else {
      process.stdout.write(output);
    }
    return state ? 0 : 1;
  },
});
