/**
 * `d365-access preview-comment`: the Markdown of a pull request's preview comment and job
 * summary (src/report/comment.ts), from users.yaml, the base branch's checkout and a captured
 * preview. It only reads files; the workflow posts the text (examples/github/access-preview.yml).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { type DesiredState, formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { accessChanges, type PreviewOutcome, renderPreviewComment } from "../report/comment.ts";

const USAGE = `usage: d365-access preview-comment --preview FILE [--outcome O] [--base DIR] [options] [files…]

Prints the pull-request comment of a preview: the access users.yaml (or the given files) grants
and revokes compared with the base branch, then the preview's output.
  --preview <file>   the captured output of \`d365-access preview\` (may be missing when skipped)
  --outcome <o>      how the preview step ended: success (default), failure, cancelled, skipped
  --base <dir>       a checkout of the base branch; the same files are read there (none: all new)
  --stack <name>     the stack previewed (default: sandbox), in the title and the comment's marker
  --run-url <url>    link to the workflow run
  --out <file>       write to FILE instead of standard output`;

const OUTCOMES: readonly PreviewOutcome[] = ["success", "failure", "cancelled", "skipped"];

export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        preview: { type: "string" },
        outcome: { type: "string", default: "success" },
        base: { type: "string" },
        stack: { type: "string", default: "sandbox" },
        "run-url": { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`d365-access preview-comment: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const outcome = values.outcome as PreviewOutcome;
  if (!OUTCOMES.includes(outcome) || !values.preview) {
    process.stderr.write(
      `d365-access preview-comment: ${values.preview ? `--outcome must be one of ${OUTCOMES.join(", ")}` : "--preview is required"}\n\n${USAGE}\n`,
    );
    return 2;
  }
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
}
