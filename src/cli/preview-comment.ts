/**
 * `d365-access preview-comment`: the Markdown of a pull request's preview comment and job
 * summary (src/report/comment.ts), from users.yaml, the base branch's checkout and a captured
 * preview. It only reads files; the workflow posts the text (examples/github/access-preview.yml).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { type DesiredState, formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { accessChanges, type PreviewOutcome, renderPreviewComment } from "../report/comment.ts";
import { defineCommand, oneOf, UsageError } from "./command.ts";

const OUTCOMES: readonly PreviewOutcome[] = ["success", "failure", "cancelled", "skipped"];

export const run = defineCommand({
  name: "preview-comment",
  synopsis: "--preview FILE [--outcome O] [--base DIR] [options] [files…]",
  description:
    "Prints the pull-request comment of a preview: the access users.yaml (or the given files) grants\nand revokes compared with the base branch, then the preview's output.",
  options: {
    preview: { type: "string" },
    outcome: { type: "string", default: "success" },
    base: { type: "string" },
    stack: { type: "string", default: "sandbox" },
    "run-url": { type: "string" },
    out: { type: "string" },
  },
  positionals: true,
  help: [
    "      --preview <file>     the captured output of `d365-access preview` (may be missing when skipped)",
    "      --outcome <o>        how the preview step ended: success (default), failure, cancelled, skipped",
    "      --base <dir>         a checkout of the base branch; the same files are read there (none: all new)",
    "      --stack <name>       the stack previewed (default: sandbox), in the title and the comment's marker",
    "      --run-url <url>      link to the workflow run",
    "      --out <file>         write to FILE instead of standard output",
  ],
  async run({ values, positionals }) {
    const outcome = oneOf("outcome", values.outcome, OUTCOMES);
    if (!values.preview) throw new UsageError("--preview is required");
    const files = positionals.length ? positionals : ["users.yaml"];
    const head = loadDesiredState(files);
    let base: DesiredState | undefined;
    let baseUnreadable = false;
    if (values.base && files.some((f) => existsSync(path.resolve(values.base as string, f)))) {
      const loaded = loadDesiredState(files, { cwd: values.base });
      base = loaded.state;
      baseUnreadable = !loaded.state;
    }
    const previewFile = values.preview;
    const output = existsSync(previewFile) ? readFileSync(previewFile, "utf8") : "";
    const text = renderPreviewComment({
      stack: values.stack,
      ...(head.state
        ? baseUnreadable
          ? {}
          : { changes: accessChanges(base, head.state) }
        : { errors: formatDiagnostics(head.diagnostics, "text") }),
      preview: { output, outcome },
      ...(values["run-url"] ? { runUrl: values["run-url"] } : {}),
    });
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
    return 0;
  },
});
