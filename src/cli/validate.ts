/**
 * `d365-access validate [files…] [--format text|json|github]`: checks users.yaml files without
 * calling any API. Exit code 0 when valid (warnings allowed), 1 on errors, 2 on usage errors.
 */
import process from "node:process";
import { SYSTEMS } from "../../providers/registry.ts";
import { type DiagnosticFormat, formatDiagnostics, loadDesiredState } from "../model/index.ts";

const usage = `usage: d365-access validate [files…] [--format text|json|github]

Checks users.yaml files (and the files they include) without calling any API.
  files              the files to check, merged into one desired state (default: users.yaml)
  --format <f>       text (default), json, or github (workflow commands that annotate a pull request)
  -h, --help         show this help

Exit code: 0 valid, 1 errors found, 2 usage error.
`;

const formats: readonly DiagnosticFormat[] = ["text", "json", "github"];

/** Runs the command; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const files: string[] = [];
  let format: DiagnosticFormat = "text";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-h" || arg === "--help") {
      process.stdout.write(usage);
      return 0;
    }
    if (arg === "--format" || arg.startsWith("--format=")) {
      const value = arg === "--format" ? argv[++i] : arg.slice("--format=".length);
      if (value === undefined || !formats.includes(value as DiagnosticFormat)) {
        process.stderr.write(
          `d365-access validate: --format must be one of ${formats.join(", ")}\n\n${usage}`,
        );
        return 2;
      }
      format = value as DiagnosticFormat;
    } else if (arg === "--") {
      files.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith("-") && arg !== "-") {
      process.stderr.write(`d365-access validate: unknown option ${JSON.stringify(arg)}\n\n${usage}`);
      return 2;
    } else {
      files.push(arg);
    }
  }
  const { state, diagnostics } = loadDesiredState(files.length > 0 ? files : ["users.yaml"]);
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
}
