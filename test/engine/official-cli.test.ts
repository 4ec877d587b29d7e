/**
 * The official CLI path (issue 17, item 1): on a fresh copy of the project, after the README's
 * set-up, the real `pulumi` CLI with Pulumi's Node.js language host runs `preview` and
 * `up --yes` against a sandbox, and `d365-access preview` then sees no change: one program,
 * one state, either way.
 *
 * The language host is not part of the project; the test finds it as a user's machine has it
 * (test/support/language-host.ts) and skips, saying why, when it is absent.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertSandboxMatches, desiredOf } from "../e2e/expect.ts";
import { createProject, type E2EProject, steps } from "../e2e/harness.ts";
import { findLanguageHost, LANGUAGE_HOST_MISSING } from "../support/language-host.ts";
import { repo } from "../support/project.ts";

const host = findLanguageHost();

interface Run {
  code: number;
  output: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/**
 * The environment of a user who installed the official CLI: the language host's folder and a
 * pulumi on PATH, and Node >= 22.18 (the project's, as the README says for older machines), and
 * the sandbox stack's documented passphrase. No variable of this project is set.
 */
function userEnvironment(hostFile: string): NodeJS.ProcessEnv {
  const tools = path.join(repo, ".tools", "bin");
  const inherited = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir && !dir.startsWith(repo) && !dir.includes(`${path.sep}node_modules${path.sep}`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [
      path.dirname(hostFile),
      path.dirname(realpathSync(path.join(tools, "pulumi"))),
      path.dirname(realpathSync(path.join(tools, "node"))),
      ...inherited,
    ].join(path.delimiter),
    PULUMI_CONFIG_PASSPHRASE: "d365-access-sandbox",
    // The machine is offline; a user's CLI would check for a newer version.
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  for (const name of [
    "D365_ACCESS_ROOT",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "NODE_TEST_CONTEXT",
  ])
    delete env[name];
  return env;
}

let project: E2EProject | undefined;
before(async () => {
  if (host) project = await createProject();
});
after(async () => {
  await project?.close();
});

test("pulumi preview and pulumi up with the language host work on a fresh copy, on the state d365-access reads", {
  skip: host ? false : LANGUAGE_HOST_MISSING,
  timeout: 600_000,
}, async (t) => {
  assert.ok(host && project);
  const env = userEnvironment(host.file);
  const pulumi = (args: string[], cwd = project?.dir ?? "") => run("pulumi", args, cwd, env);
  t.diagnostic(`language host via ${host.via}: ${host.file}`);
  t.diagnostic(`pulumi ${(await pulumi(["version"])).output.trim()}`);

  // The README's set-up (npm install runs it; node_modules is linked into the copy).
  const setup = await run("bash", ["scripts/toolchain"], project.dir, env);
  assert.equal(setup.code, 0, setup.output);
  assert.ok(
    existsSync(path.join(project.dir, ".pulumi-state")),
    "the file backend's folder exists after set-up",
  );

  const select = await pulumi(["stack", "select", "--create", "sandbox"]);
  assert.equal(select.code, 0, select.output);

  const desired = desiredOf(project);
  const expected = desired.users
    .flatMap((u) => [
      `create entra:${u.upn.toLowerCase()}`,
      ...u.dataverse.map((a) => `create dataverse:${u.upn.toLowerCase()}/${a.environment}`),
      ...u.fno.map((a) => `create fno:${u.upn.toLowerCase()}/${a.environment}`),
    ])
    .sort();
  const resources = expected.length + 1; // and the stack

  const preview = await pulumi(["preview", "--stack", "sandbox"]);
  assert.equal(preview.code, 0, preview.output);
  assert.deepEqual(steps(preview.output), expected, preview.output);
  assert.match(preview.output, new RegExp(`\\+ ${resources} to create`));
  assert.doesNotMatch(preview.output, /file not found|Cannot find module/);

  const up = await pulumi(["up", "--stack", "sandbox", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.match(up.output, new RegExp(`\\+ ${resources} created`));
  await assertSandboxMatches(project, desired);

  // The project's CLI reads the same state and finds nothing to do.
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.stdout, new RegExp(`${resources} unchanged`));

  // From another folder: `pulumi -C <project>`. (Pulumi resolves Pulumi.yaml's relative
  // `backend.url` against the working directory, so the README says to run it from the root.)
  const elsewhere = await pulumi(
    ["-C", project.dir, "preview", "--stack", "sandbox", "--expect-no-changes"],
    path.join(project.dir, "src", "program"),
  );
  assert.equal(elsewhere.code, 0, elsewhere.output);
  assert.match(elsewhere.output, new RegExp(`${resources} unchanged`));

  // A person renamed in Entra, users.yaml following: the program finds the old name in the
  // stack's own `identities` output (a StackReference: nothing hands it the deployment here),
  // so Entra and Dataverse update in place. (F&O's handling of a new UPN is its own change.)
  const adele = desired.users.find((u) => u.upn.startsWith("adele."));
  assert.ok(adele && adele.dataverse.length > 0, "the demo declares Adele in Dataverse");
  const graph = project.sandbox.endpoints.graphUrl;
  const token = await project.sandbox.token(`${graph}/.default`);
  const found = await project.sandbox.call(`${graph}/v1.0/users/${adele.upn}`, { token });
  const id = (found.body as { id: string }).id;
  const renamed = "adele.king@contoso.example";
  const patched = await project.sandbox.call(`${graph}/v1.0/users/${id}`, {
    method: "PATCH",
    token,
    body: { userPrincipalName: renamed },
  });
  assert.equal(patched.status, 204, patched.text);
  project.writeUsersYaml(project.usersYaml().replace(`upn: ${adele.upn}`, `upn: ${renamed}`));
  const rename = await pulumi(["preview", "--stack", "sandbox"]);
  assert.equal(rename.code, 0, rename.output);
  assert.deepEqual(
    steps(rename.output).filter((s) => !s.includes(" fno:")),
    [`update dataverse:${renamed}/${adele.dataverse[0]?.environment}`, `update entra:${renamed}`],
    rename.output,
  );
});

test("under the official CLI the guards hold too: the program reads its last outputs through a StackReference", {
  skip: host ? false : LANGUAGE_HOST_MISSING,
  timeout: 600_000,
}, async () => {
  assert.ok(host && project);
  const env = userEnvironment(host.file);
  const pulumi = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run("pulumi", args, project?.dir ?? "", { ...env, ...extra });
  // The first test deployed users.yaml (maxUsersRemoved: 3); an emptied file removes them all.
  const emptied = project.usersYaml().replace(/\nusers:\n[\s\S]*?\n(?=rules:)/, "\nusers: []\n\n");
  assert.match(emptied, /\nusers: \[\]\n/);
  project.writeUsersYaml(emptied);
  project.sandbox.sandbox.journal.clear();
  for (const args of [
    ["preview", "--stack", "sandbox"],
    ["up", "--stack", "sandbox", "--yes"],
  ]) {
    const refused = await pulumi(args);
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output, /guards\.maxUsersRemoved is 3, but this change has \d+ users removed/);
  }
  assert.deepEqual(project.sandbox.sandbox.journal.entries({ writesOnly: true }), [], "nothing was written");
  const overridden = await pulumi(["preview", "--stack", "sandbox"], { D365_ACCESS_OVERRIDE_GUARDS: "1" });
  assert.equal(overridden.code, 0, overridden.output);
  assert.match(overridden.output, /guards overridden for this run/);
});
