/**
 * `d365-access report`: the access matrix from users.yaml (Markdown for pull-request comments,
 * HTML for people), and with `--live` the differences from what the systems hold now.
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";

import { formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { desiredMatrix, withDrift } from "../report/matrix.ts";
import { renderHtml, renderMarkdown } from "../report/render.ts";

const USAGE = `usage: d365-access report [files…] [--format markdown|html] [--out FILE] [--live [--stack NAME]]

Prints the access matrix declared in users.yaml (or the given files): per user, the Entra
licenses and, per environment, the Dataverse and F&O roles with their legal entities.
  --format   markdown (default) or html
  --out      write to FILE instead of standard output
  --live     also read the systems of the stack (default: sandbox) and mark the differences:
             + declared but not held, − held but not declared`;

export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: "string", default: "markdown" },
        out: { type: "string" },
        live: { type: "boolean", default: false },
        stack: { type: "string", default: "sandbox" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`d365-access report: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.format !== "markdown" && values.format !== "html") {
    process.stderr.write(`d365-access report: --format must be markdown or html\n`);
    return 2;
  }
  const files = positionals.length ? positionals : ["users.yaml"];
  const { state, diagnostics } = loadDesiredState(files);
  if (!state) {
    process.stderr.write(formatDiagnostics(diagnostics, "text"));
    return 1;
  }
  let matrix = desiredMatrix(state);
  if (values.live) {
    const { readLiveAccess } = await import("../report/live.ts");
    matrix = withDrift(matrix, await readLiveAccess(state, values.stack));
  }
  const text = values.format === "html" ? renderHtml(matrix) : renderMarkdown(matrix);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}
