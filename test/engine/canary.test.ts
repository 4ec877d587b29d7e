/**
 * The engine canary (issue 3): one dynamic resource through the thin shim, driven by the
 * `d365-access` CLI through the Automation API and the real `pulumi` binary on the file backend.
 * It stays in the suite as the first thing to break when Node, @pulumi/pulumi or the CLI move.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { copyProject, repo } from "../support/project.ts";

const exec = promisify(execFile);
const PROGRAM = ["--program", "test/fixtures/canary-program.ts"];
const STACK = ["--stack", "canary", "--color", "never"];

async function cli(project: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "canary-test" } as Record<
    string,
    string | undefined
  >;
  delete env.D365_ACCESS_ROOT; // the copy must find its own root
  delete env.PULUMI_BACKEND_URL; // use the project's file backend (Pulumi.yaml)
  try {
    return await exec(path.join(project, "bin", "d365-access"), args, {
      cwd: project,
      env,
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `d365-access ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

let first = "";
let second = "";
before(() => {
  first = mkdtempSync(path.join(tmpdir(), "d365-canary-a-"));
  second = mkdtempSync(path.join(tmpdir(), "d365-canary-b-"));
  copyProject(first, ["test/fixtures"]);
});
after(() => {
  rmSync(first, { recursive: true, force: true });
  rmSync(second, { recursive: true, force: true });
});

test("the canary runs preview, up, preview, then refresh and destroy from another folder", async (t) => {
  const version = (await exec(path.join(repo, ".tools", "bin", "pulumi"), ["version"])).stdout.trim();
  t.diagnostic(
    `pulumi ${version}, node ${(await exec(path.join(repo, ".tools", "bin", "node"), ["--version"])).stdout.trim()}`,
  );
  console.log(`canary: ran the real pulumi ${version}`);
  assert.match(version, /^v3\.\d+\.\d+/);

  // A stack without a stacks/Pulumi.canary.yaml: created on purpose.
  const preview = await cli(first, ["preview", "--create", ...STACK, ...PROGRAM]);
  assert.match(preview.stdout, /\+ {2}pulumi-nodejs:dynamic\/core:Canary canary create/);
  assert.match(preview.stdout, /\+ 2 to create/); // the stack itself and the canary
  assert.doesNotMatch(
    preview.stdout + preview.stderr,
    /from \$PATH/,
    "no plugin-lookup warning in the reviewer's diff",
  );

  const up = await cli(first, ["up", "--yes", ...STACK, ...PROGRAM]);
  assert.match(up.stdout, /\+ 2 created/);
  assert.match(up.stdout, /digest: "[0-9a-f]{64}"/);

  const again = await cli(first, ["preview", ...STACK, ...PROGRAM]);
  assert.match(again.stdout, /2 unchanged/);
  assert.doesNotMatch(again.stdout, /to create|to update|to delete/);

  // The state holds no path of the checkout it was written from, and a small loader per resource.
  // Stored gzipped (src/engine/stack.ts engineEnvironment).
  const statePath = path.join(first, ".pulumi-state", ".pulumi", "stacks", "d365-access", "canary.json.gz");
  const stateText = gunzipSync(readFileSync(statePath)).toString("utf8");
  assert.ok(!stateText.includes(first), "an absolute path of the checkout reached the state");
  const state = JSON.parse(stateText) as { checkpoint: { latest: { resources: { type: string }[] } } };
  const canary = state.checkpoint.latest.resources.find(
    (r) => r.type === "pulumi-nodejs:dynamic/core:Canary",
  );
  assert.ok(canary);
  const bytes = Buffer.byteLength(JSON.stringify(canary));
  console.log(`canary: ${bytes} bytes of state for the canary resource`);
  assert.ok(bytes < 1500, `canary state is ${bytes} bytes`);

  // Move the project: refresh and destroy must work from the new folder with the old one gone.
  cpSync(first, second, { recursive: true, verbatimSymlinks: true });
  rmSync(first, { recursive: true, force: true });
  const refresh = await cli(second, ["refresh", "--yes", ...STACK]);
  assert.match(refresh.stdout, /2 unchanged/);
  const destroy = await cli(second, ["destroy", "--yes", ...STACK]);
  assert.match(destroy.stdout, /- 2 deleted/);
});
