/**
 * Issue 13 end to end on the lived-in tenant, with the real engine: `export` writes users.yaml
 * from what Entra, Dataverse and F&O hold; `validate` finds no error; `preview` adopts every
 * user and writes nothing; the first `up` makes zero write requests (the sandbox's journal,
 * `GET /journal?writes=true`, read through its admin API); the next preview has no changes; and
 * one edit then applies exactly that edit. Also `--out-dir` with `--split-by company`, and a
 * generated tenant of 60 users (the 1,000-user run is `npm run bench`, bench/export.ts).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadDesiredState } from "../../src/model/index.ts";
import { createProject, type E2EProject, steps } from "./harness.ts";

const ENV = "contoso-demo";

interface Entry {
  service: string;
  method: string;
  path: string;
}

async function writes(project: E2EProject): Promise<Entry[]> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal?writes=true`);
  assert.equal(res.status, 200, res.text);
  return (res.body as { value: Entry[] }).value;
}

async function clearJournal(project: E2EProject): Promise<void> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal`, {
    method: "DELETE",
  });
  assert.ok(res.status < 300, res.text);
}

const show = (entries: Entry[]) => entries.map((e) => `${e.service} ${e.method} ${e.path}`).join("\n");

/** Exports into the project's users.yaml as a first-time user would: there is no users.yaml yet. */
async function exportTenant(project: E2EProject, args: string[] = ["--out", "users.yaml"]) {
  rmSync(path.join(project.dir, "users.yaml"), { force: true });
  const result = await project.cli(["export", ...args]);
  assert.equal(result.code, 0, result.output);
  return result;
}

describe("export on the lived-in tenant", () => {
  let project: E2EProject;
  before(async () => {
    project = await createProject({ seed: "lived-in" });
  });
  after(async () => {
    await project?.close();
  });

  test("export, validate, preview and the first up write nothing; one edit applies exactly that edit", async () => {
    await clearJournal(project);
    const exported = await exportTenant(project);
    // Progress and the summary on stderr, the file untouched by them.
    assert.match(exported.stderr, /Entra ID: \d+ users, \d+ pages read/);
    assert.match(exported.stderr, /F&O \(contoso-demo\): \d+ users, \d+ pages read/);
    assert.match(exported.stderr, /19 users written to users\.yaml/);
    assert.match(
      exported.stderr,
      /export: 19 users \(19 in Entra ID, 16 in Dataverse, 14 in F&O\), \d+ personas inferred, 2 inconsistent/,
    );
    assert.deepEqual(await writes(project), [], "export wrote something");

    const text = project.usersYaml();
    assert.match(text, /^# yaml-language-server: \$schema=\.\/schemas\/users\.schema\.json\n/);
    // Microsoft's accounts and our app's own F&O user: comments, not declarations.
    assert.match(text, /#\s+F&O \(contoso-demo\) user Axrunner: one of Microsoft's preconfigured accounts/);
    assert.match(
      text,
      /#\s+F&O \(contoso-demo\) user svc-d365access: the user d365-access's own app acts as/,
    );
    const { state, diagnostics } = loadDesiredState([path.join(project.dir, "users.yaml")], {
      cwd: project.dir,
    });
    assert.ok(state, JSON.stringify(diagnostics));
    const user = (upn: string) => {
      const found = state.users.find((u) => u.upn === upn);
      assert.ok(found, `${upn} was not exported`);
      return found;
    };
    for (const account of ["svc-d365access", "axrunner", "admin"])
      assert.ok(!state.users.some((u) => u.fno.some((f) => f.userId.toLowerCase() === account)), account);
    // Bruno's Team Members comes from a group: a comment, no declaration.
    assert.deepEqual(user("bruno.keller@contoso.example").licenses, []);
    assert.match(
      text,
      /# Entra ID: DYN365_ENTERPRISE_TEAM_MEMBERS through a group: not declared[^\n]*\n\s+- upn: bruno\.keller/,
    );
    // Miriam's team role and Patti's exclusion from the employee rule are comments.
    assert.deepEqual(user("miriam.graham@contoso.example").dataverse[0]?.roles, ["Basic User"]);
    assert.match(text, /"Contoso Finance Reader" through team Contoso Approvers: the team's, not declared/);
    assert.match(
      text,
      /HCMEMPLOYEE: a Manual row that is Disabled \(an exclusion from a rule\): not declared\n\s+- upn: patti\.fernandez/,
    );
    // Alex's legal-entity restriction and unit, as the systems hold them.
    const alex = user("alex.wilber@contoso.example");
    assert.equal(alex.dataverse[0]?.businessUnit, "Contoso Europe");
    assert.deepEqual(alex.fno[0]?.roles, [{ role: "LEDGERACCOUNTINGMANAGER", legalEntities: ["GBSI"] }]);
    assert.equal(alex.fno[0]?.company, "GBSI");
    // Pradeep is disabled in Entra but enabled in F&O: his F&O part is left out, said why.
    const pradeep = user("pradeep.gupta@contoso.example");
    assert.equal(pradeep.enabled, false);
    assert.deepEqual(pradeep.fno, []);
    assert.match(text, /F&O \(contoso-demo\) left out: its enabled is true, Entra ID's false/);
    // Raul has no Dataverse user: exported as he is, with where he is missing.
    assert.match(text, /# not in Dataverse \(contoso-demo\)\n\s+- upn: raul\.razo/);

    const validate = await project.cli(["validate"]);
    assert.equal(validate.code, 0, validate.output);
    assert.match(validate.stdout, /^0 errors, \d+ warnings$/m);

    const preview = await project.cli(["preview"]);
    assert.equal(preview.code, 0, preview.output);
    const planned = steps(preview.output);
    assert.ok(planned.length >= 19 + 16, planned.join("\n"));
    assert.deepEqual(
      planned.filter((s) => !s.startsWith("create ")),
      [],
      "adoption is a create of every resource, nothing else",
    );
    assert.deepEqual(await writes(project), [], `preview wrote:\n${show(await writes(project))}`);

    const up = await project.cli(["up", "--yes"]);
    assert.equal(up.code, 0, up.output);
    assert.deepEqual(
      await writes(project),
      [],
      `the first up after export wrote:\n${show(await writes(project))}`,
    );

    const again = await project.cli(["preview", "--expect-no-changes"]);
    assert.equal(again.code, 0, again.output);

    // One edit: Adele gets the Dataverse role Basic User besides hers.
    const before = await project.live("adele.vance@contoso.example");
    assert.ok(before.dataverse && !before.dataverse.roles.includes("Basic User"));
    const edited = text.replace(
      /(- upn: adele\.vance@contoso\.example[\s\S]*?roles: \[)(Environment Maker)/,
      "$1Basic User, $2",
    );
    assert.notEqual(edited, text);
    project.writeUsersYaml(edited);
    const editPreview = await project.cli(["preview"]);
    assert.equal(editPreview.code, 0, editPreview.output);
    assert.deepEqual(steps(editPreview.output), [`update dataverse:adele.vance@contoso.example/${ENV}`]);
    await clearJournal(project);
    const editUp = await project.cli(["up", "--yes"]);
    assert.equal(editUp.code, 0, editUp.output);
    const made = await writes(project);
    assert.equal(made.length, 1, show(made));
    assert.equal(made[0]?.service, "dataverse");
    assert.equal(made[0]?.method, "POST");
    assert.match(made[0]?.path ?? "", /systemusers\([0-9a-f-]+\)\/systemuserroles_association\/\$ref/);
    const afterEdit = await project.live("adele.vance@contoso.example");
    assert.deepEqual(afterEdit.dataverse?.roles, [...(before.dataverse.roles ?? []), "Basic User"].sort());
  });

  test("--out-dir splits the users by F&O company into included files that validate", async () => {
    const split = await project.cli(["export", "--out-dir", "split", "--split-by", "company"]);
    assert.equal(split.code, 0, split.output);
    const main = readFileSync(path.join(project.dir, "split", "users.yaml"), "utf8");
    assert.match(main, /^# yaml-language-server: \$schema=\.\.\/schemas\/users\.schema\.json\n/);
    assert.match(
      main,
      /^include: \[users\/demf\.yaml, users\/gbsi\.yaml, users\/unassigned\.yaml, users\/usmf\.yaml\]$/m,
    );
    const demf = readFileSync(path.join(project.dir, "split", "users", "demf.yaml"), "utf8");
    assert.match(demf, /^# yaml-language-server: \$schema=\.\.\/\.\.\/schemas\/users\.schema\.json\n/);
    for (const upn of ["bruno.keller", "henrietta.mueller", "johanna.lorenz"])
      assert.match(demf, new RegExp(`upn: ${upn}@`));
    assert.ok(existsSync(path.join(project.dir, "split", "users", "usmf.yaml")));
    // A second export never overwrites without --force, and refuses before reading anything.
    const again = await project.cli(["export", "--out-dir", "split"]);
    assert.equal(again.code, 2, again.output);
    assert.match(again.stderr, /split\/users\.yaml exists; pass --force to overwrite it/);
    assert.equal(readFileSync(path.join(project.dir, "split", "users.yaml"), "utf8"), main);
    const validate = await project.cli(["validate", "split/users.yaml"]);
    assert.equal(validate.code, 0, validate.output);
    assert.match(validate.stdout, /valid: 19 users .* 5 file\(s\)/);
  });
});

describe("export on a generated tenant of 60 people", () => {
  let project: E2EProject;
  before(async () => {
    project = await createProject({ seed: { name: "lived-in", generatedUsers: 60 } });
  });
  after(async () => {
    await project?.close();
  });

  test("infers personas and the first up writes nothing", async () => {
    const exported = await exportTenant(project);
    const { state } = loadDesiredState([path.join(project.dir, "users.yaml")], { cwd: project.dir });
    assert.ok(state);
    assert.ok(state.users.length > 50, `${state.users.length} users`);
    const personas = [
      ...project.usersYaml().matchAll(/^ {2}(\w+):\n {4}description: "Inferred by export/gm),
    ].map((m) => m[1]);
    assert.ok(personas.length >= 3, exported.stderr);
    assert.ok(personas.includes("accountant"), personas.join(", "));
    for (const name of personas) assert.doesNotMatch(name ?? "", /[0-9a-f]{6}/, "readable names, not hashes");
    await clearJournal(project);
    const up = await project.cli(["up", "--yes", "--skip-checkpoints"]);
    assert.equal(up.code, 0, up.output);
    assert.deepEqual(await writes(project), [], show(await writes(project)));
  });
});
