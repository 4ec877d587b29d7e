/**
 * Issue 17 item 4: on a terminal, help and the command table fit its width (descriptions wrap
 * under themselves); piped, the output is unchanged. The terminal is a real pseudo-terminal of
 * 60 columns made by util-linux `script`.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { repo } from "../support/project.ts";

const BIN = path.join(repo, "bin", "d365-access");
const hasScript = spawnSync("script", ["--version"]).status === 0;

/** Runs `d365-access <args>` on a pseudo-terminal `columns` wide; its output lines. */
function onTerminal(columns: number, args: string): string[] {
  const out = execFileSync("script", ["-qec", `stty cols ${columns}; ${BIN} ${args}`, "/dev/null"], {
    encoding: "utf8",
  });
  return out.replace(/\r/g, "").trimEnd().split("\n");
}

const piped = (args: string[]) => execFileSync(BIN, args, { encoding: "utf8" });

test("help fits a 60-column terminal, descriptions wrapped under their column", {
  skip: !hasScript && "util-linux `script` is not installed",
}, () => {
  const lines = onTerminal(60, "preview --help");
  for (const line of lines) assert.ok(line.length <= 60, `too wide (${line.length}): ${line}`);
  const stack = lines.findIndex((l) => l.startsWith("  -s, --stack <name>"));
  assert.ok(stack >= 0, lines.join("\n"));
  assert.match(lines[stack + 1] ?? "", /^ {27}\S/, "the description continues under its column");
  // Nothing is lost: the same words as the piped help.
  const words = (text: string) => text.split(/\s+/).filter(Boolean);
  assert.deepEqual(words(lines.join("\n")), words(piped(["preview", "--help"])));

  const usage = onTerminal(60, "--help");
  for (const line of usage) assert.ok(line.length <= 60, `too wide (${line.length}): ${line}`);
});

test("piped (not a terminal), help is laid out as written", () => {
  const text = piped(["preview", "--help"]);
  assert.ok(
    text.split("\n").some((l) => l.length > 80),
    "the written layout has lines wider than 80",
  );
  assert.match(
    text,
    /^ {2}-s, --stack <name> {7}stack to use \(default: sandbox\); its config is stacks\/Pulumi\.<name>\.yaml$/m,
  );
});
