/**
 * Issue 12 items 1–3 end to end on the lived-in tenant, with the real engine: the preview a
 * reviewer reads says what `up` will change on each user, per system, and `up` then does exactly
 * that (read back through the sandbox's Graph, Dataverse and F&O APIs and its request journal):
 * adoptions with and without changes, removals with each `onRemove` and of an adopted user, and
 * drift of a role, a license and a legal-entity restriction named in `preview --refresh` and
 * undone by `up --refresh`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { createProject, type E2EProject } from "./harness.ts";

const ENV = "contoso-demo";
/** skuId of DYN365_FINANCE in every seed. */
const FINANCE = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";

let project: E2EProject;

before(async () => {
  project = await createProject({ seed: "lived-in" });
});
after(async () => {
  await project?.close();
});

/** The lines that say what up changes: `<verb> <system> user …`, one per resource. */
function said(output: string): string[] {
  return [...output.matchAll(/^\s*(?:[\w-]+:User \S+: )?((?:adopts|creates|updates|removes) .+)$/gm)]
    .map((m) => (m[1] as string).trim())
    .sort();
}

function assertSays(output: string, expected: string): void {
  assert.ok(
    said(output).includes(expected),
    `the preview does not say:\n  ${expected}\nit says:\n  ${said(output).join("\n  ")}\n${output}`,
  );
}

async function writes(): Promise<string[]> {
  return project.sandbox.sandbox.journal
    .entries({ writesOnly: true })
    .map((e) => `${e.service} ${e.method} ${decodeURIComponent(e.path)}`);
}

function edit(from: string | RegExp, to: string): void {
  const text = project.usersYaml();
  const next = text.replace(from, to);
  assert.notEqual(next, text, `users.yaml edit did not apply: ${from}`);
  project.writeUsersYaml(next);
}

test("people outside users.yaml with privileged roles are warnings in report --live, the preview and its PR comment", async () => {
  const original = project.usersYaml();
  edit(/\nguards:\n/, "\nprivilegedRoles: [System Customizer]\n\nguards:\n");
  const report = await project.cli(["report", "--live"]);
  assert.equal(report.code, 0, report.output);
  for (const line of [
    "Dataverse user admin@contoso.example holds privileged role System Administrator",
    "Dataverse user patti.fernandez@contoso.example holds privileged role System Administrator",
    // The configurable list: Megan Bowen was given System Customizer by hand.
    "Dataverse user megan.bowen@contoso.example holds privileged role System Customizer",
    "F&O user Admin (admin@contoso.example) holds privileged role -SYSADMIN- (System administrator)",
  ]) {
    assert.ok(
      report.stderr.includes(`warning: ${line}, and users.yaml does not declare them`),
      `${line}\n${report.stderr}`,
    );
    assert.ok(report.stdout.includes(`- ⚠ ${line}`), report.stdout);
  }
  // A declared person is no outsider, whatever they hold.
  assert.doesNotMatch(report.output, /adele\.vance\S* holds privileged/);

  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  assert.match(
    preview.stdout,
    /warning: Dataverse user megan\.bowen@contoso\.example holds privileged role System Customizer/,
  );
  writeFileSync(path.join(project.dir, "preview.txt"), preview.stdout);
  const comment = await project.cli(["preview-comment", "--preview", "preview.txt"]);
  assert.equal(comment.code, 0, comment.output);
  const head = comment.stdout.slice(0, comment.stdout.indexOf("<details>"));
  assert.match(head, /\*\*Privileged access outside users\.yaml\*\*/);
  assert.match(
    head,
    /- ⚠ Dataverse user megan\.bowen@contoso\.example holds privileged role System Customizer/,
  );
  project.writeUsersYaml(original);
});

test("a first preview on the lived-in tenant lists every change up makes on the people it adopts", async () => {
  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  // Adopted with changes, per system: a license, roles revoked and granted, a business unit, a flag.
  assertSays(preview.output, "adopts Entra user chloe.martin@contoso.example: add license DYN365_FINANCE");
  assertSays(
    preview.output,
    `adopts Dataverse user bruno.keller@contoso.example in ${ENV}: revoke role Environment Maker; revoke role Finance and Operations Basic User; move to business unit Contoso Europe; grant role Basic User`,
  );
  assertSays(
    preview.output,
    `adopts F&O user diego.ramos in ${ENV}: disable the account; revoke role LEDGERACCOUNTANT (Accountant)`,
  );
  assertSays(
    preview.output,
    `adopts F&O user adele.vance in ${ENV}: grant role LEDGERACCOUNTINGMANAGER (Accounting manager) [USMF]`,
  );
  // Adopted without changes: said so.
  assertSays(preview.output, "adopts Entra user adele.vance@contoso.example unchanged");
  assertSays(preview.output, "adopts Entra user diego.ramos@contoso.example unchanged");
  // The new hire is created.
  assertSays(
    preview.output,
    "creates Entra user nestor.wilke@contoso.example: sign-in enabled; add license DYN365_ENTERPRISE_TEAM_MEMBERS",
  );

  project.sandbox.sandbox.journal.clear();
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  // What the preview said is what happened.
  const diego = await project.live("diego.ramos@contoso.example");
  assert.equal(diego.fno?.enabled, false);
  // Only the USMF employees rule's row stays: it is the rule's, never d365-access's.
  assert.deepEqual(
    diego.fno?.roles.filter((r) => r !== "SYSTEMUSER"),
    ["HCMEMPLOYEE"],
  );
  assert.equal(diego.entra?.accountEnabled, false);
  const bruno = await project.live("bruno.keller@contoso.example");
  assert.equal(bruno.dataverse?.businessUnit, "Contoso Europe");
  assert.deepEqual(bruno.dataverse?.roles, ["Basic User"]);
  assert.ok(
    (await project.live("chloe.martin@contoso.example")).entra?.directLicenses.includes("DYN365_FINANCE"),
  );
  const adele = await project.live("adele.vance@contoso.example");
  assert.deepEqual(adele.fno?.legalEntities.LEDGERACCOUNTINGMANAGER, ["USMF"]);
  // Adele's Entra user was adopted unchanged: no Graph write names her.
  assert.ok(adele.entra);
  assert.deepEqual(
    (await writes()).filter((w) => w.startsWith("graph") && w.includes(adele.entra?.id ?? "?")),
    [],
  );

  // Converged: the next preview says nothing will change.
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, again.output);
  assert.deepEqual(said(again.output), []);
});

test("drift of a role, a license and a legal-entity restriction is named in preview --refresh and undone exactly by up --refresh", async () => {
  const env = project.sandbox.endpoints.environments[0];
  assert.ok(env);
  const fnoToken = await project.sandbox.token(`${env.fnoUrl}/.default`);
  const graphToken = await project.sandbox.token(`${project.sandbox.endpoints.graphUrl}/.default`);
  // An admin grants Bruno System administrator in F&O, widens Adele's Accounting manager role to
  // DEMF, and removes Chloé's Finance license in Entra.
  const grant = await project.sandbox.call(
    `${project.sandbox.endpoints.adminUrl}/fno/${ENV}/users/bruno.keller/roles`,
    {
      method: "POST",
      body: { role: "-SYSADMIN-" },
    },
  );
  assert.equal(grant.status, 201, grant.text);
  const widen = await project.sandbox.call(`${env.fnoUrl}/data/SecurityUserRoleOrganizations`, {
    method: "POST",
    token: fnoToken,
    body: {
      UserId: "adele.vance",
      SecurityRoleIdentifier: "LEDGERACCOUNTINGMANAGER",
      OrganizationType: "LegalEntity",
      OrganizationId: "DEMF",
      OperatingUnitType: "None",
    },
  });
  assert.ok(widen.status < 300, widen.text);
  const chloe = await project.live("chloe.martin@contoso.example");
  assert.ok(chloe.entra);
  const unlicense = await project.sandbox.call(
    `${project.sandbox.endpoints.graphUrl}/v1.0/users/${chloe.entra.id}/assignLicense`,
    { method: "POST", token: graphToken, body: { addLicenses: [], removeLicenses: [FINANCE] } },
  );
  assert.equal(unlicense.status, 200, unlicense.text);

  // Without --refresh, up would not see the drift: the preview does not claim it would undo it.
  const plain = await project.cli(["preview"]);
  assert.equal(plain.code, 0, plain.output);
  assert.deepEqual(said(plain.output), []);

  const preview = await project.cli(["preview", "--refresh"]);
  assert.equal(preview.code, 0, preview.output);
  assert.deepEqual(said(preview.output), [
    "updates Entra user chloe.martin@contoso.example: add license DYN365_FINANCE",
    `updates F&O user adele.vance in ${ENV}: role LEDGERACCOUNTINGMANAGER (Accounting manager): remove legal entity DEMF`,
    `updates F&O user bruno.keller in ${ENV}: revoke role -SYSADMIN- (System administrator)`,
  ]);

  project.sandbox.sandbox.journal.clear();
  const up = await project.cli(["up", "--refresh", "--yes"]);
  assert.equal(up.code, 0, up.output);
  // Exactly those three writes, and the tenant back as users.yaml says.
  assert.deepEqual(
    (await writes()).sort(),
    [
      `fno DELETE /data/SecurityUserRoleOrganizations(UserId='adele.vance',SecurityRoleIdentifier='LEDGERACCOUNTINGMANAGER',OrganizationType=Microsoft.Dynamics.DataEntities.OmInternalOrganizationType'LegalEntity',OrganizationId='DEMF')`,
      `fno DELETE /data/SecurityUserRoles(UserId='bruno.keller',SecurityRoleIdentifier='-SYSADMIN-')`,
      `graph POST /v1.0/users/${chloe.entra.id}/assignLicense`,
    ].sort(),
  );
  assert.deepEqual(
    (await project.live("adele.vance@contoso.example")).fno?.legalEntities.LEDGERACCOUNTINGMANAGER,
    ["USMF"],
  );
  assert.ok(!(await project.live("bruno.keller@contoso.example")).fno?.roles.includes("-SYSADMIN-"));
  assert.ok(
    (await project.live("chloe.martin@contoso.example")).entra?.directLicenses.includes("DYN365_FINANCE"),
  );
});

test("removing people says, per system, whether each is disabled, deleted or left as found, and what it loses", async () => {
  // A contractor d365-access creates and deletes when removed.
  edit(
    /\nrules:\n/,
    `
  - upn: olga.petrova@contoso.example
    displayName: Olga Petrova
    manage: create
    onRemove: delete
    personas: [team_member]

rules:
`,
  );
  const add = await project.cli(["up", "--yes"]);
  assert.equal(add.code, 0, add.output);
  const olga = await project.live("olga.petrova@contoso.example");
  assert.ok(olga.entra && olga.fno);

  // Remove Olga (created, onRemove: delete), Nestor (created, onRemove: disable) and Adele (adopted).
  const text = project.usersYaml();
  const without = (t: string, upn: string) =>
    t.replace(
      new RegExp(`\\n  - upn: ${upn.replace(/\./g, "\\.")}[\\s\\S]*?(?=\\n  - upn: |\\n\\n?rules:)`),
      "",
    );
  project.writeUsersYaml(
    ["olga.petrova", "nestor.wilke", "adele.vance"].reduce(
      (t, u) => without(t, `${u}@contoso.example`),
      text,
    ),
  );
  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  assert.deepEqual(said(preview.output), [
    "removes Dataverse user adele.vance@contoso.example in contoso-demo: revoke role Basic User; revoke role Contoso Finance Reader; revoke role Finance and Operations Basic User (the Dataverse user stays, neither disabled nor deleted: it follows Entra)",
    "removes Dataverse user nestor.wilke@contoso.example in contoso-demo: revoke role Basic User (the Dataverse user stays, neither disabled nor deleted: it follows Entra)",
    "removes Dataverse user olga.petrova@contoso.example in contoso-demo: revoke role Basic User (the Dataverse user stays, neither disabled nor deleted: it follows Entra)",
    "removes Entra user adele.vance@contoso.example: remove license DYN365_FINANCE (the user is left as found: adopted, its account serves more than Dynamics)",
    "removes Entra user nestor.wilke@contoso.example: remove license DYN365_ENTERPRISE_TEAM_MEMBERS; disable sign-in",
    "removes Entra user olga.petrova@contoso.example: remove license DYN365_ENTERPRISE_TEAM_MEMBERS; disable sign-in; delete the user",
    `removes F&O user adele.vance in ${ENV}: revoke role LEDGERACCOUNTANT (Accountant); revoke role LEDGERACCOUNTINGMANAGER (Accounting manager) [USMF]; disable the account (adopted: never deleted; rule-based roles and exclusions stay)`,
    `removes F&O user nestor.wilke in ${ENV}: revoke role HCMEMPLOYEE (Employee); disable the account (rule-based roles and exclusions stay)`,
    `removes F&O user olga.petrova in ${ENV}: revoke role HCMEMPLOYEE (Employee); disable the account; delete the user (rule-based roles and exclusions stay)`,
  ]);

  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  const adele = await project.live("adele.vance@contoso.example");
  const nestor = await project.live("nestor.wilke@contoso.example");
  const gone = await project.live("olga.petrova@contoso.example");
  // Adele: adopted, left as found in Entra (enabled), disabled in F&O, roles revoked everywhere.
  assert.equal(adele.entra?.accountEnabled, true);
  assert.ok(!adele.entra?.directLicenses.includes("DYN365_FINANCE"));
  assert.equal(adele.fno?.enabled, false);
  assert.deepEqual(
    adele.fno?.roles.filter((r) => r === "LEDGERACCOUNTANT" || r === "LEDGERACCOUNTINGMANAGER"),
    [],
  );
  assert.deepEqual(
    adele.dataverse?.roles.filter((r) => r !== "Environment Maker"),
    [],
  );
  // Nestor: created, disabled, not deleted.
  assert.equal(nestor.entra?.accountEnabled, false);
  assert.equal(nestor.fno?.enabled, false);
  // Olga: created with onRemove: delete, gone.
  assert.equal(gone.entra, undefined);
  assert.equal(gone.fno, undefined);
});
