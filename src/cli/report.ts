/**
 * `d365-access report`: the access matrix from users.yaml (Markdown for pull-request comments,
 * HTML for people), and with `--live` the differences from what the systems hold now.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { renderHtml } from "../report/html.ts";
import { desiredMatrix, privilegedSection, privilegedWarning, withDrift } from "../report/matrix.ts";
import { renderMarkdown } from "../report/render.ts";
import { defineCommand, oneOf } from "./command.ts";

/** The checkout's commit, noting uncommitted changes; undefined outside a git checkout. */
function gitCommit(): string | undefined {
  const git = (...args: string[]) =>
    execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const commit = git("rev-parse", "HEAD");
    return git("status", "--porcelain", "--untracked-files=no")
      ? `${commit} (with uncommitted changes)`
      : commit;
  } catch {
    return undefined;
  }
}

export const run = defineCommand({
  name: "report",
  synopsis: "[files…] [--format markdown|html] [--out FILE] [--live [--stack NAME]]",
  description:
    "Prints the access matrix declared in users.yaml (or the given files): per user, the Entra\nlicenses and, per environment, the Dataverse and F&O roles with their legal entities.",
  options: {
    format: { type: "string", default: "markdown" },
    out: { type: "string" },
    live: { type: "boolean", default: false },
    stack: { type: "string", default: "sandbox" },
  },
  positionals: true,
  help: [
    "      --format <f>         markdown (default) or html",
    "      --out <file>         write to FILE instead of standard output",
    "      --live               also read the systems of the stack and mark the differences:",
    "                           + declared but not held, − held but not declared; and warn about",
    "                           people outside users.yaml who hold a privileged role",
    "      --stack <name>       the stack --live reads (default: sandbox)",
  ],
  async run({ values, positionals }) {
    const format = oneOf("format", values.format, ["markdown", "html"] as const);
    const { state, diagnostics } = loadDesiredState(positionals.length ? positionals : ["users.yaml"]);
    if (!state) {
      process.stderr.write(formatDiagnostics(diagnostics, "text"));
      return 1;
    }
    let matrix = desiredMatrix(state);
    let outsiders: string[] = [];
    let tenant: string | undefined;
    if (values.live) {
      const { readLiveAccess, stackRuntime } = await import("../report/live.ts");
      const { readPrivilegedOutsiders } = await import("../report/privileged.ts");
      const rt = await stackRuntime(values.stack);
      const live = await readLiveAccess(state, values.stack, rt);
      matrix = withDrift(matrix, live.access);
      tenant = live.tenant;
      outsiders = await readPrivilegedOutsiders(rt, state);
      for (const line of outsiders) process.stderr.write(`warning: ${privilegedWarning(line)}\n`);
    }
    let text =
      format === "html"
        ? renderHtml(matrix, {
            generatedAt: new Date(),
            tenant,
            stack: values.live ? values.stack : undefined,
            commit: gitCommit(),
            files: state.files.map((f) => path.relative(process.cwd(), path.resolve(f)) || f),
          })
        : renderMarkdown(matrix);
    if (outsiders.length && format === "markdown") text += privilegedSection(outsiders);
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
    return 0;
  },
});
