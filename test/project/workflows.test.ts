/**
 * The GitHub workflows users copy (examples/github/): actionlint finds nothing in them, and
 * their design holds: applies never share a concurrency group with previews (GitHub cancels a
 * pending run of a group when a newer one queues), previews sign in with the read-only app, the
 * pulumi CLI is pinned to the version the toolchain pins, and the comment is produced by the
 * `d365-access preview-comment` command (its Markdown: test/report/preview-comment.test.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { repo } from "../support/project.ts";

const actionlint = path.join(repo, ".tools", "bin", "actionlint");
const missing = existsSync(actionlint)
  ? false
  : "actionlint is not built (scripts/toolchain builds it where Go is installed): the workflow lint is skipped";
const examples = path.join(repo, "examples", "github");
const PREVIEW = path.join(examples, "access-preview.yml");
const UP = path.join(examples, "access-up.yml");

function lint(files: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // -no-color; shellcheck checks the run: scripts where it is installed.
    execFile(actionlint, ["-no-color", ...files], { cwd: repo }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

type Workflow = {
  on: Record<string, unknown>;
  env: Record<string, string>;
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  jobs: Record<
    string,
    { environment?: string; steps: { uses?: string; run?: string; env?: Record<string, string> }[] }
  >;
};
const load = (file: string) => parse(readFileSync(file, "utf8")) as Workflow;
/** A GitHub Actions expression as written in the workflow: `${{ x }}`. */
const expression = (x: string) => `$\{{ ${x} }}`;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

test("actionlint finds nothing in the example workflows", { skip: missing }, async () => {
  const result = await lint([PREVIEW, UP]);
  assert.equal(result.code, 0, result.output);
});

test("the lint would catch a mistake (an unknown step output), naming file and line", {
  skip: missing,
}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "d365-actionlint-"));
  try {
    const broken = path.join(dir, "access-preview.yml");
    writeFileSync(
      broken,
      readFileSync(PREVIEW, "utf8").replace("steps.preview.outcome }}", "steps.previwe.outcome }}"),
    );
    const result = await lint([broken]);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /access-preview\.yml:\d+:\d+: .*previwe/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an apply is never in a group with previews, and never cancelled in progress", () => {
  const preview = load(PREVIEW);
  const up = load(UP);
  assert.notEqual(up.concurrency.group, preview.concurrency.group);
  assert.ok(!preview.concurrency.group.startsWith(up.concurrency.group));
  assert.equal(up.concurrency["cancel-in-progress"], false);
  assert.match(preview.concurrency.group, /pull_request\.number/, "one preview group per pull request");
  // A cancelled pending apply is replaced by a newer run, which must apply the newest main.
  assert.ok(
    steps(up).some(
      (s) =>
        s.uses?.startsWith("actions/checkout@") && (s as { with?: { ref?: string } }).with?.ref === "main",
    ),
  );
});

test("previews sign in with the read-only app; applies with the write app in the production environment", () => {
  const preview = load(PREVIEW);
  const up = load(UP);
  const clientIds = (w: Workflow) =>
    steps(w)
      .map((s) => s.env?.AZURE_CLIENT_ID)
      .filter(Boolean);
  assert.deepEqual(clientIds(preview), [expression("vars.AZURE_PREVIEW_CLIENT_ID")]);
  assert.deepEqual(clientIds(up), [expression("vars.AZURE_CLIENT_ID")]);
  assert.deepEqual(
    Object.values(preview.jobs).map((j) => j.environment),
    [undefined],
    "previews run outside the production environment (subject pull_request)",
  );
  assert.deepEqual(
    Object.values(up.jobs).map((j) => j.environment),
    ["production"],
  );
  assert.equal(up.permissions["pull-requests"], undefined);
  assert.ok(!steps(preview).some((s) => s.env?.AZURE_STORAGE_KEY), "previews get no storage account key");
});

test("both workflows pin the pulumi CLI to the version scripts/toolchain pins", () => {
  const pinned = /^PULUMI_VERSION="([^"]+)"/m.exec(
    readFileSync(path.join(repo, "scripts", "toolchain"), "utf8"),
  )?.[1];
  assert.ok(pinned);
  for (const workflow of [load(PREVIEW), load(UP)]) {
    assert.equal(workflow.env.PULUMI_VERSION, pinned);
    const install = steps(workflow).find((s) => s.uses?.startsWith("pulumi/actions@")) as
      | { with?: Record<string, string> }
      | undefined;
    assert.equal(install?.with?.["pulumi-version"], expression("env.PULUMI_VERSION"));
  }
});

test("the pull-request comment is the preview-comment command's output, updated in place", () => {
  const script = steps(load(PREVIEW))
    .map((s) => s.run ?? "")
    .join("\n");
  assert.match(
    script,
    /npx d365-access preview-comment --stack "\$STACK" --base \.base --preview preview\.txt/,
  );
  assert.match(script, />> "\$GITHUB_STEP_SUMMARY"/);
  assert.match(script, /--method PATCH "repos\/\$GITHUB_REPOSITORY\/issues\/comments\/\$id"/);
  assert.match(script, /tee preview\.txt/);
  // A run cancelled by a newer push must not overwrite the newer run's comment.
  const comment = steps(load(PREVIEW)).find((s) => s.run?.includes("preview-comment")) as { if?: string };
  assert.match(comment.if ?? "", /!cancelled\(\)/);
});
