/**
 * The one pre-flight through the real engine, on the lived-in tenant (issue 12 items 5, 6;
 * issue 16 item 3): everything preview can know is reported at once, each at its users.yaml
 * file:line:col, by preview and by up, and the sandbox's journal shows no write; segregation of
 * duties compares canonical roles (a label does not sidestep a rule; a rule naming a role the
 * tenant lacks is an error at its line); an F&O environment that refuses the app fails preview.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { formatDiagnostics, loadDesiredState } from "../../src/model/index.ts";
import { createProject, type E2EProject } from "./harness.ts";

let project: E2EProject;
let demo = "";
before(async () => {
  project = await createProject({ seed: "lived-in" });
  demo = project.usersYaml();
});
after(async () => {
  await project?.close();
});

/** `users.yaml:<line>:<col>` of the `nth` occurrence of `text` in `yaml` (1-based). */
function at(yaml: string, text: string, nth = 1): string {
  let index = -1;
  for (let i = 0; i < nth; i++) index = yaml.indexOf(text, index + 1);
  assert.ok(index >= 0, `${text} is in users.yaml`);
  const before = yaml.slice(0, index).split("\n");
  return `users.yaml:${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Runs preview and up on `yaml`; both fail, listing `expected` lines, and nothing is written. */
async function refusedBoth(yaml: string, expected: RegExp[], problems?: number): Promise<void> {
  project.writeUsersYaml(yaml);
  project.sandbox.sandbox.journal.clear();
  for (const operation of [["preview"], ["up", "--yes"]]) {
    const run = await project.cli(operation);
    assert.notEqual(run.code, 0, run.output);
    if (problems !== undefined)
      assert.match(
        run.output,
        new RegExp(`the pre-flight found ${problems} problem\\(s\\); nothing was changed`),
      );
    for (const line of expected) assert.match(run.output, line, `${operation[0]}: ${run.output}`);
    assert.doesNotMatch(run.stdout, /dynamic\/\w+:User .*(creating|created|updating|updated)/);
  }
  assert.deepEqual(project.sandbox.sandbox.journal.entries({ writesOnly: true }), [], "nothing was written");
}

/** `d365-access validate` (no tenant) accepts `yaml`. */
function assertValid(yaml: string, why: string): void {
  project.writeUsersYaml(yaml);
  const { state, diagnostics } = loadDesiredState(["users.yaml"], { cwd: project.dir });
  assert.ok(state, `${why}: ${formatDiagnostics(diagnostics, "text")}`);
}

const GUEST = "grady.archie_fabrikam.example#EXT#@contoso.example";

test("every unknown name and unacceptable UPN is reported at once, with its position, before any write", async () => {
  const yaml = demo
    .replace("legalEntities: [USMF, DEMF, GBSI]", "legalEntities: [USMF, DEMF, GBSI, FRRT]")
    .replace("roles: [Contoso Finance Reader]", 'roles: [Contoso Finanse Reader, "\\"Basic User\\""]')
    .replace("businessUnit: Contoso Europe", "businessUnit: Contoso Europa")
    .replace("- role: BUDGETBUDGETCLERK", "- role: BUDGETCLERKX")
    .replace("        company: GBSI", "        company: FRRT")
    .replace(
      "  # A new hire: created in Entra by the tool.",
      [
        "  - upn: ghost.user@contoso.example",
        "    displayName: Ghost User",
        "    personas: [team_member]",
        "",
        `  - upn: ${GUEST}`,
        "    displayName: Grady Archie",
        "    fno:",
        "      contoso-demo:",
        "        userId: grady.archie",
        "        roles: [HCMEMPLOYEE]",
        "",
        "  # A new hire: created in Entra by the tool.",
      ].join("\n"),
    );
  assertValid(yaml, "the mistakes are ones only the tenant can show");
  await refusedBoth(
    yaml,
    [
      new RegExp(`${at(yaml, "upn: ghost.user@")}: Entra user ghost\\.user@contoso\\.example does not exist`),
      new RegExp(
        `${at(yaml, "Contoso Finanse Reader")}: Dataverse environment "contoso-demo".*role "Contoso Finanse Reader" does not exist`,
      ),
      new RegExp(
        `${at(yaml, '"\\"Basic User\\""')}: Dataverse environment "contoso-demo".*role "\\\\?"Basic User\\\\?"" does not exist`,
      ),
      new RegExp(
        `${at(yaml, "Contoso Europa")}: Dataverse environment "contoso-demo": business unit "Contoso Europa" does not exist`,
      ),
      new RegExp(
        `${at(yaml, "BUDGETCLERKX")}: F&O environment "contoso-demo": F&O role "BUDGETCLERKX" is unknown`,
      ),
      new RegExp(
        `${at(yaml, "FRRT", 2)}: F&O environment "contoso-demo": legal entity "FRRT" is unknown in LegalEntities`,
      ),
      new RegExp(
        `${at(yaml, `upn: ${GUEST}`).replace(/:\d+$/, "")}:\\d+: F&O environment "contoso-demo": ${literal(GUEST)}: guest \\(#EXT#\\) users are not supported`,
      ),
    ],
    7,
  );
});

test("segregation of duties compares canonical roles: a label is refused like the identifier", async () => {
  // Chloé is an AP clerk; the rule forbids the AP manager too, which her file names by its label.
  const yaml = demo.replace("- role: BUDGETBUDGETCLERK", "- role: Accounts payable manager");
  assertValid(yaml, "validation compares the names as written: no conflict there");
  await refusedBoth(yaml, [
    new RegExp(
      `${at(yaml, "- upn: chloe.martin").replace(/:\d+$/, "")}:\\d+: segregation of duties rule "Post and approve vendor invoices" \\(users\\.yaml:\\d+:\\d+\\) forbids holding .*"Accounts payable manager"`,
    ),
  ]);
});

test("a segregation-of-duties rule naming a role the tenant does not have is an error at its line", async () => {
  const yaml = demo.replace(
    "roles: [VENDINVOICEACCOUNTSPAYABLECLERK, VENDINVOICEACCOUNTSPAYABLEMANAGER]",
    "roles: [VENDINVOICEACCOUNTSPAYABLECLERK, VENDINVOICEAPPROVERX]",
  );
  await refusedBoth(
    yaml,
    [
      new RegExp(
        `${at(yaml, "VENDINVOICEAPPROVERX")}: segregation of duties rule "Post and approve vendor invoices" names role "VENDINVOICEAPPROVERX", which F&O environment "contoso-demo" does not have`,
      ),
    ],
    1,
  );
});

test("an F&O environment that does not know the app fails the preview (its 401 is not swallowed)", async () => {
  const env = project.sandbox.endpoints.environments[0];
  assert.ok(env);
  const appId = project.sandbox.endpoints.clientId;
  const removed = await project.sandbox.call(
    `${project.sandbox.endpoints.adminUrl}/fno/${env.name}/apps/${appId}`,
    { method: "DELETE" },
  );
  assert.equal(removed.status, 204, removed.text);
  await refusedBoth(demo, [/F&O environment "contoso-demo": fno 401.*register app/], 1);
});
