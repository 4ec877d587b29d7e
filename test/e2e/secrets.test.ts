/**
 * No secret in any log, output, state or report (issue 16 item 6), with the real engine on the
 * lived-in tenant: preview, up (which creates a user, so a password is generated), refresh, a
 * refreshing preview, the live report in Markdown and HTML, and a preview that fails because
 * the client secret is wrong. Then every byte they left is scanned: the CLI's stdout and
 * stderr, every file of the state backend (checkpoints, backups, history, `.attrs`), the
 * exported stack and its outputs, the sandbox's state files and its log. Searched for: every
 * client secret the stack or the sandbox knows (the wrong one included), every initial password
 * the run generated (read back decrypted with the passphrase, so the test fails if there is
 * none), and anything shaped like a bearer token (a JWT). The sandbox's files must be 0600.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { NO_PERMISSIONS_APP_SECRET } from "../../sandbox/core/tenant.ts";
import { createProject, type E2EProject } from "./harness.ts";

const run = promisify(execFile);
/** A JWT: base64url header `{"…` and payload, dot-separated (what `Authorization: Bearer` carries). */
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/;
const WRONG_SECRET = "wrong-secret-Zq8!mK2#pL5";

let project: E2EProject;
const sandboxLog: string[] = [];
/** Everything the CLI printed, by command. */
const printed: { command: string; text: string }[] = [];

async function cli(args: string[], expectCode = 0): Promise<void> {
  const result = await project.cli(args);
  printed.push({ command: args.join(" "), text: result.output });
  assert.equal(result.code, expectCode, `${args.join(" ")}:\n${result.output}`);
}

/** Every file under `dir`, recursively, with its text. */
function filesUnder(dir: string): { file: string; text: string; mode: number }[] {
  const out: { file: string; text: string; mode: number }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, text: readFileSync(file, "latin1"), mode: statSync(file).mode & 0o777 });
  }
  return out;
}

/** `pulumi stack <args>` in the project, with the sandbox passphrase. */
async function pulumi(args: string[]): Promise<string> {
  const { stdout } = await run(
    path.join(project.dir, ".tools", "bin", "pulumi"),
    [...args, "--stack", "sandbox"],
    {
      cwd: project.dir,
      env: {
        ...process.env,
        PULUMI_CONFIG_PASSPHRASE: "d365-access-sandbox",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_BACKEND_URL: "",
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

before(async () => {
  project = await createProject({ seed: "lived-in", log: (line) => void sandboxLog.push(line) });
});
after(async () => {
  await project?.close();
});

test("no client secret, generated password or bearer token in any output, log, state or report", async () => {
  await cli(["preview", "--diff"]);
  await cli(["up", "--yes"]);
  await cli(["refresh", "--yes"]);
  await cli(["preview", "--diff", "--refresh"]);
  await cli(["report", "--live"]);
  await cli(["report", "--live", "--format", "html"]);

  // A failure path: the token endpoint refuses the secret; its error must not echo it.
  const endpointsFile = path.join(project.dir, ".sandbox", "endpoints.json");
  const endpoints = readFileSync(endpointsFile, "utf8");
  const clientSecret = (JSON.parse(endpoints) as { clientSecret: string }).clientSecret;
  writeFileSync(endpointsFile, endpoints.replace(JSON.stringify(clientSecret), JSON.stringify(WRONG_SECRET)));
  await cli(["preview"], 1);
  assert.match(printed.at(-1)?.text ?? "", /AADSTS7000215|invalid client secret|401/i);
  writeFileSync(endpointsFile, endpoints);

  // The passwords the run generated, decrypted with the passphrase: the test needs at least one.
  const decrypted = JSON.parse(await pulumi(["stack", "export", "--show-secrets"])) as {
    deployment: { resources?: { outputs?: { initialPassword?: unknown } }[] };
  };
  // A decrypted secret is exported as `{"4dabf18193072939515e22adb298388d": …, "plaintext": "<JSON>"}`.
  const plaintext = (value: unknown): unknown =>
    value && typeof value === "object" && "plaintext" in value
      ? JSON.parse(String((value as { plaintext: unknown }).plaintext))
      : value;
  const passwords = (decrypted.deployment.resources ?? [])
    .map((r) => plaintext(r.outputs?.initialPassword))
    .filter((p): p is string => typeof p === "string" && p.length > 0);
  assert.ok(
    passwords.length >= 1,
    "the demo creates a user: its initial password is in the state (encrypted)",
  );

  const secrets = [clientSecret, NO_PERMISSIONS_APP_SECRET, WRONG_SECRET, ...passwords];
  const places = [
    ...printed.map((p) => ({ where: `output of \`d365-access ${p.command}\``, text: p.text })),
    { where: "the sandbox log", text: sandboxLog.join("\n") },
    { where: "pulumi stack export", text: await pulumi(["stack", "export"]) },
    { where: "pulumi stack output", text: await pulumi(["stack", "output", "--json"]) },
    ...filesUnder(path.join(project.dir, ".pulumi-state")).map((f) => ({ where: f.file, text: f.text })),
  ];
  const sandboxFiles = filesUnder(project.sandbox.sandbox.stateDir).filter((f) => f.file !== endpointsFile);
  places.push(
    ...sandboxFiles
      // endpoints.json is where the sandbox hands the app its secret (0600, like a credentials file).
      .filter((f) => path.basename(f.file) !== "endpoints.json")
      .map((f) => ({ where: f.file, text: f.text })),
  );
  assert.ok(places.length > 10, "the run left outputs and state files to scan");
  const leaks: string[] = [];
  for (const { where, text } of places) {
    for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where}: holds a secret`);
    const token = JWT.exec(text);
    if (token) leaks.push(`${where}: holds a bearer token ${token[0].slice(0, 16)}…`);
  }
  assert.deepEqual(leaks, []);
  for (const f of sandboxFiles)
    assert.equal(f.mode, 0o600, `${f.file} is mode ${f.mode.toString(8)}, not 0600`);
});
