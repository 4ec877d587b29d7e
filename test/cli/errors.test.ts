/**
 * Issue 17 item 3: every error is one line, printed once, naming the system, what failed, the
 * API's code and request id and the fix; no stack trace unless --verbose. Driven through the CLI
 * (Automation API + the real engine) against the lived-in sandbox; each case asserts the line
 * the user reads and the exit code.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { DEMO_APP_ID } from "../../sandbox/core/tenant.ts";
import { type CliResult, createProject, type E2EProject } from "../e2e/harness.ts";

let project: E2EProject;
before(async () => {
  project = await createProject({ seed: "lived-in" });
});
after(async () => {
  await project?.close();
});

/** How often `text` occurs in the run's whole output. */
const count = (run: CliResult, text: string) => run.output.split(text).length - 1;

/** The last line on stderr: the summary `d365-access <op> failed: …`. */
const last = (run: CliResult) => run.stderr.trimEnd().split("\n").at(-1) ?? "";

function assertClean(run: CliResult): void {
  assert.doesNotMatch(run.output, /Unhandled exception/);
  assert.doesNotMatch(run.output, /^\s+at .+:\d+:\d+\)?$/m, "a stack trace was printed");
}

/** Runs `args`, which must fail (exit 1) with `line` last on stderr and `once` printed exactly once. */
async function failsWithOneLine(args: string[], line: RegExp, once: string): Promise<CliResult> {
  const run = await project.cli(args);
  assert.equal(run.code, 1, run.output);
  assertClean(run);
  assert.match(last(run), line);
  assert.equal(count(run, once), 1, run.output);
  return run;
}

async function admin(method: string, route: string, body?: unknown): Promise<void> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}${route}`, {
    method,
    ...(body === undefined ? {} : { body }),
  });
  assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${res.text}`);
}

test("a mistyped --stack is refused, naming the known stacks, and creates no state", async () => {
  const run = await project.exec(["preview", "--stack", "prdo", "--color", "never"]);
  assert.equal(run.code, 2, run.output);
  assert.equal(
    run.stderr,
    "d365-access preview: unknown stack prdo: known stacks are sandbox; create it with --create\n",
  );
  assert.equal(
    existsSync(path.join(project.dir, ".pulumi-state", ".pulumi", "stacks", "d365-access", "prdo.json")),
    false,
  );
  // refresh and destroy never create a stack, so they do not offer --create.
  const destroy = await project.exec(["destroy", "--stack", "prdo", "--yes"]);
  assert.equal(destroy.code, 2);
  assert.equal(destroy.stderr, "d365-access destroy: unknown stack prdo: known stacks are sandbox\n");
  // With --create the stack is let through (here to the next set-up check: its passphrase).
  const create = await project.exec(["preview", "--stack", "prdo", "--create"]);
  assert.equal(create.code, 2);
  assert.match(create.stderr, /^d365-access preview: stack "prdo" needs a secrets passphrase/);
});

test("an error of the program (users.yaml names an unmapped environment) is printed once", async () => {
  const original = project.usersYaml();
  project.writeUsersYaml(original.replaceAll("contoso-demo", "contoso-test"));
  try {
    const run = await project.cli(["preview"]);
    assert.equal(run.code, 1, run.output);
    assertClean(run);
    assert.equal(count(run, 'users.yaml uses environment "contoso-test"'), 1, run.output);
    assert.match(
      run.stderr,
      /^d365-access preview failed: the stack does not match users.yaml; nothing was changed:\n {2}users.yaml uses environment "contoso-test", which stack "sandbox" does not map \(mapped: contoso-demo\)\n$/m,
    );
  } finally {
    project.writeUsersYaml(original);
  }
});

test("a wrong client secret: one line with the AADSTS code, the trace id and what to check", async () => {
  const file = path.join(project.dir, ".sandbox", "endpoints.json");
  const original = readFileSync(file, "utf8");
  writeFileSync(file, JSON.stringify({ ...JSON.parse(original), clientSecret: "not-the-secret" }));
  try {
    await failsWithOneLine(
      ["preview"],
      /^d365-access preview failed: reading the tenant failed; nothing was changed: entra AADSTS7000215 on GET \/v1\.0\/\w+: could not get a token: Invalid client secret provided\..* \(request-id [0-9a-f-]{36}\)\. Hint: the client secret is wrong: use the secret's Value \(not its Secret ID\).*AZURE_CLIENT_SECRET\.$/,
      "AADSTS7000215",
    );

    // --verbose: the engine's own output, stack trace included.
    const verbose = await project.cli(["preview", "--verbose"]);
    assert.equal(verbose.code, 1);
    assert.match(verbose.output, /^\s+at .+/m);
  } finally {
    writeFileSync(file, original);
  }
});

test("a missing Graph permission keeps the hint that names it", async () => {
  await admin("PUT", `/identity/apps/${DEMO_APP_ID}`, { graphAppRoles: ["Organization.Read.All"] });
  try {
    // The pre-flight reports it, one line under its heading, before anything is written.
    const run = await failsWithOneLine(
      ["preview"],
      /^ {2}Entra ID: entra 403 Authorization_RequestDenied on GET \/v1\.0\/users: Insufficient privileges to complete the operation \(request-id [0-9a-f-]{36}\)\. Hint: grant the app the Microsoft Graph application permission User\.ReadWrite\.All.*, with admin consent\.$/,
      "Insufficient privileges",
    );
    assert.match(
      run.stderr,
      /^d365-access preview failed: the pre-flight found 1 problem\(s\); nothing was changed:$/m,
    );
  } finally {
    await admin("PUT", `/identity/apps/${DEMO_APP_ID}`, {
      graphAppRoles: ["User.ReadWrite.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All"],
    });
  }
});

test("F&O answering 401 for every user is one line for the environment, found before any write", async () => {
  // The app unregistered from F&O's Microsoft Entra applications: every F&O call is 401.
  await admin("DELETE", "/journal");
  await admin("DELETE", `/fno/contoso-demo/apps/${DEMO_APP_ID}`);
  try {
    const run = await failsWithOneLine(
      ["up", "--yes"],
      /^ {2}F&O environment "contoso-demo": fno 401 on GET \/data\/\w+: .*Hint: .*Microsoft Entra applications \(SysAADClients\).*$/,
      "fno 401",
    );
    assert.match(run.stderr, /the pre-flight found 1 problem\(s\); nothing was changed/);
    const journal = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal?writes=true`);
    assert.deepEqual((journal.body as { value: unknown[] }).value, [], "nothing was written");
  } finally {
    await admin("PUT", `/fno/contoso-demo/apps/${DEMO_APP_ID}`, { userId: "svc-d365access" });
  }
});

test("a stopped sandbox: one line saying to start it", async () => {
  // As after `sandbox stop`: the CA and endpoints stay in .sandbox/, nothing listens.
  const file = path.join(project.dir, ".sandbox", "endpoints.json");
  const ca = path.join(project.dir, ".sandbox", "ca.pem");
  writeFileSync(ca, project.sandbox.caCert);
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), caCertPath: ca }));
  await project.sandbox.close();
  await failsWithOneLine(
    ["preview"],
    /^d365-access preview failed: reading the tenant failed; nothing was changed: entra endpoints_resolution_error on GET \/v1\.0\/\w+: could not get a token: the sign-in authority did not answer\. Hint: nothing answers at 127\.0\.0\.1:\d+: start the sandbox with `npm run sandbox start`\.$/,
    "npm run sandbox start",
  );
});
