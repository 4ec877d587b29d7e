/**
 * The pull-request comment of a preview (examples/github/access-preview.yml posts it and writes
 * it as the job summary): `d365-access preview-comment` as the workflow runs it, and the pure
 * renderer's edge cases (failed and skipped previews, invalid users.yaml, size cap).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadDesiredState } from "../../src/model/index.ts";
import {
  accessChanges,
  commentMarker,
  MAX_COMMENT_LENGTH,
  renderPreviewComment,
  resourceSummary,
} from "../../src/report/comment.ts";
import { repo } from "../support/project.ts";

const demo = readFileSync(path.join(repo, "users.yaml"), "utf8");

/** The demo users.yaml with each `[from, to]` replaced once (each must match). */
function edited(...edits: [string, string][]): string {
  let text = demo;
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `users.yaml no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

/** A pull request: Adele loses a Dataverse role, Eva gains an F&O role, Diego is re-enabled, Nestor leaves, Farah joins. */
const PULL_REQUEST = edited(
  ["    dataverse:\n      contoso-demo:\n        roles: [Contoso Finance Reader]\n", ""],
  [
    "    fno:\n      contoso-demo:\n        company: GBSI\n",
    "    fno:\n      contoso-demo:\n        company: GBSI\n        roles:\n          - role: COLLECTIONLETTERCOLLECTIONSMANAGER\n            legalEntities: [GBSI]\n",
  ],
  ["    enabled: false # left the company: keep the accounts, disabled, with no roles\n", ""],
  [
    "  - upn: nestor.wilke@contoso.example\n    displayName: Nestor Wilke\n",
    "  - upn: farah.khan@contoso.example\n    displayName: Farah Khan\n",
  ],
);

const PREVIEW = `Previewing update (prod):

 ~  pulumi-nodejs:dynamic/dataverse:User adele.vance@contoso.example/contoso-demo update [diff: ~roles]
 ~  pulumi-nodejs:dynamic/fno:User eva.nowak@contoso.example/contoso-demo update [diff: ~roles]
    pulumi:pulumi:Stack d365-access-prod
Resources:
    ~ 2 to update
    16 unchanged

`;

describe("d365-access preview-comment", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "d365-comment-"));
    mkdirSync(path.join(dir, ".base"));
    writeFileSync(path.join(dir, ".base", "users.yaml"), demo);
    writeFileSync(path.join(dir, "users.yaml"), PULL_REQUEST);
    // As the workflow captures it with `--color never`; colours are removed all the same.
    writeFileSync(
      path.join(dir, "preview.txt"),
      PREVIEW.replace("Resources:", "\u001b[1mResources:\u001b[0m"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const result = spawnSync(
      process.execPath,
      [path.join(repo, "src/cli/main.ts"), "preview-comment", ...args],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test("prints the comment the workflow posts: declared changes per user and system, then the preview", () => {
    const { code, stdout, stderr } = run([
      "--stack",
      "prod",
      "--base",
      ".base",
      "--preview",
      "preview.txt",
      "--outcome",
      "success",
      "--run-url",
      "https://github.com/contoso/access/actions/runs/7",
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      `<!-- d365-access preview-comment stack=prod -->
## Access preview · stack \`prod\`

preview succeeded: ~ 2 to update, 16 unchanged.

**5 users** change access in users.yaml:

| User | Where | Granted | Revoked |
|---|---|---|---|
| adele.vance@contoso.example | contoso-demo · Dataverse | — | Contoso Finance Reader |
| diego.ramos@contoso.example | Account | sign-in (enabled) | — |
|  | contoso-demo · F&O | user diego.ramos (USMF) | user diego.ramos (USMF, disabled) |
| eva.nowak@contoso.example | contoso-demo · F&O | COLLECTIONLETTERCOLLECTIONSMANAGER [GBSI] | — |
| farah.khan@contoso.example (new) | Entra licenses | DYN365_ENTERPRISE_TEAM_MEMBERS | — |
|  | contoso-demo · Dataverse | Basic User | — |
|  | contoso-demo · F&O | user farah.khan (USMF)<br>HCMEMPLOYEE | — |
| nestor.wilke@contoso.example (removed from users.yaml) | Entra licenses | — | DYN365_ENTERPRISE_TEAM_MEMBERS |
|  | contoso-demo · Dataverse | — | Basic User |
|  | contoso-demo · F&O | — | user nestor.wilke (USMF)<br>HCMEMPLOYEE |

<details><summary>What the engine will do (pulumi preview)</summary>

\`\`\`text
${PREVIEW.trimEnd()}
\`\`\`

</details>

[Full log of this run](https://github.com/contoso/access/actions/runs/7)
`,
    );
  });

  test("when users.yaml has errors the comment shows them and says nothing was previewed", () => {
    writeFileSync(
      path.join(dir, "broken.yaml"),
      demo.replace("personas: [accountant]", "personas: [acountant]"),
    );
    const { code, stdout } = run([
      "--stack",
      "prod",
      "--preview",
      "missing.txt",
      "--outcome",
      "skipped",
      "broken.yaml",
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /^not previewed\.$/m);
    assert.match(stdout, /\*\*users\.yaml has errors\*\* \(annotated on the diff\); nothing was previewed:/);
    assert.match(stdout, /broken\.yaml:\d+:\d+: users\[0\]\.personas\[0\]: unknown persona "acountant"/);
    assert.doesNotMatch(stdout, /<details/);
  });

  test("without a base branch users.yaml (first adoption) every declared user is new", () => {
    const { stdout } = run(["--preview", "preview.txt", "--base", "no-such-dir"]);
    assert.match(stdout, /^\*\*6 users\*\* change access in users\.yaml:$/m);
    assert.equal(stdout.match(/ \(new\) \|/g)?.length, 6);
  });

  test("usage errors exit 2", () => {
    assert.equal(run([]).code, 2);
    assert.equal(run(["--preview", "preview.txt", "--outcome", "maybe"]).code, 2);
  });
});

describe("renderPreviewComment", () => {
  const state = (text: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), "d365-state-"));
    try {
      writeFileSync(path.join(dir, "users.yaml"), text);
      const { state, diagnostics } = loadDesiredState(["users.yaml"], { cwd: dir });
      assert.ok(state, JSON.stringify(diagnostics));
      return state;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("no declared change says so (a preview may still correct drift)", () => {
    const same = state(demo);
    const text = renderPreviewComment({
      stack: "prod",
      changes: accessChanges(same, same),
      preview: { output: PREVIEW, outcome: "success" },
    });
    assert.match(text, /No declared access changes/);
  });

  test("a failed preview is said up front and its output is open", () => {
    const text = renderPreviewComment({
      stack: "prod",
      changes: [],
      preview: {
        output: "error: the stack does not match users.yaml; nothing was changed",
        outcome: "failure",
      },
    });
    assert.match(text, /^\*\*preview failed\*\*: nothing can be applied until it passes\.$/m);
    assert.match(text, /<details open><summary>The preview's output<\/summary>/);
  });

  test("a long preview is cut in the middle to fit a comment, keeping the steps and the Resources block", () => {
    const steps = Array.from(
      { length: 5000 },
      (_, i) => ` +  pulumi-nodejs:dynamic/entra:User user${i}@contoso.example create`,
    );
    const output = ["Previewing update (prod):", "", ...steps, "Resources:", "    + 5001 to create", ""].join(
      "\n",
    );
    const text = renderPreviewComment({
      stack: "prod",
      changes: [],
      preview: { output, outcome: "success" },
    });
    assert.ok(text.length <= MAX_COMMENT_LENGTH, `${text.length} characters`);
    assert.match(text, /user0@contoso\.example create/);
    assert.match(text, /Resources:\n {4}\+ 5001 to create\n```/);
    assert.match(text, /… \d+ lines left out to fit a comment; the run's log has them all …/);
    assert.match(text, /^preview succeeded: \+ 5001 to create\.$/m);
  });

  test("backticks in the output cannot close the code block early", () => {
    const text = renderPreviewComment({
      stack: "prod",
      preview: { output: "error: ```` not a fence", outcome: "failure" },
    });
    assert.match(text, /\n`````text\nerror: ```` not a fence\n`````\n/);
  });

  test("the marker names the stack, so previews of two stacks keep two comments", () => {
    assert.notEqual(commentMarker("prod"), commentMarker("test"));
    assert.ok(
      renderPreviewComment({ stack: "test", preview: { output: "", outcome: "skipped" } }).startsWith(
        commentMarker("test"),
      ),
    );
  });

  test("resourceSummary reads the engine's closing block", () => {
    assert.equal(resourceSummary(PREVIEW), "~ 2 to update, 16 unchanged");
    assert.equal(resourceSummary("error: boom"), undefined);
  });
});
