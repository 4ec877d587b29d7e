/**
 * Issue 7, 5a–5d and 5g: the demo users.yaml through preview, up, edits, drift and destroy,
 * with the real engine (d365-access → Automation API → pulumi) against a sandbox.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertSandboxMatches } from "./expect.ts";
import { createProject, type E2EProject, type LiveUser, steps } from "./harness.ts";

let project: E2EProject;
/** What the sandbox's seed holds for each demo user before we manage anything. */
const seed = new Map<string, LiveUser>();
before(async () => {
  project = await createProject();
  for (const upn of [ADELE, BRUNO, CHLOE, EVA, NESTOR]) seed.set(upn, await project.live(upn));
});
after(async () => {
  await project?.close();
});

const EVA = "eva.nowak@contoso.example";
const ADELE = "adele.vance@contoso.example";
const CHLOE = "chloe.martin@contoso.example";
const BRUNO = "bruno.keller@contoso.example";
const FARAH = "farah.khan@contoso.example";
const NESTOR = "nestor.wilke@contoso.example";
/**
 * Roles the Dataverse user sync itself assigns (Microsoft's page cited at FNO_VIRTUAL_TABLE_ROLE in
 * src/model/licenses.ts); not granted by us.
 */
const SYNC_ROLES = ["Environment Maker", "Finance and Operations Basic User"];

/** After removal, a user holds at most what it held before we managed it (the seed). */
function assertOnlyPreexisting(upn: string, live: LiveUser): void {
  const before = seed.get(upn) ?? {};
  assert.ok(live.entra, `${upn} still exists in Entra (never hard-deleted)`);
  for (const sku of live.entra.directLicenses) {
    assert.ok(
      before.entra?.directLicenses.includes(sku),
      `${upn}: license ${sku} we granted is still assigned`,
    );
  }
  for (const role of live.dataverse?.roles ?? []) {
    assert.ok(
      before.dataverse?.roles.includes(role) || SYNC_ROLES.includes(role),
      `${upn}: Dataverse role ${role} we granted is still assigned`,
    );
  }
  assert.ok(live.fno, `${upn} still exists in F&O (never hard-deleted)`);
  assert.equal(live.fno.enabled, false, `${upn}: the F&O account is disabled`);
  for (const role of live.fno.roles) {
    assert.ok(
      role === "SYSTEMUSER" || before.fno?.roles.includes(role),
      `${upn}: F&O role ${role} we granted is still assigned`,
    );
  }
}
const ENV = "contoso-demo";

/** Runs a preview, asserts exactly these steps, then up, then checks the sandbox. */
async function change(expected: string[], check?: () => Promise<void>): Promise<void> {
  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  assert.deepEqual(steps(preview.stdout), [...expected].sort(), preview.stdout);
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  await assertSandboxMatches(project);
  await check?.();
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, `after the change, a preview still shows changes:\n${again.stdout}`);
}

function edit(from: string | RegExp, to: string): void {
  const before = project.usersYaml();
  const after = before.replace(from, to);
  assert.notEqual(after, before, `users.yaml edit did not apply: ${from}`);
  project.writeUsersYaml(after);
}

test("5a: the first up creates everything and the sandbox holds exactly the declared access", async () => {
  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  assert.match(preview.stdout, /\+ 18 to create/); // stack + 6 Entra + 5 Dataverse + 6 F&O
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.match(up.stdout, /\+ 18 created/);
  await assertSandboxMatches(project);
  const nestor = await project.live("nestor.wilke@contoso.example");
  assert.ok(nestor.entra, "the manage: create user exists in Entra");
  const report = await project.cli(["report", "--live"]);
  assert.equal(report.code, 0, report.output);
  assert.match(report.stdout, /Drift from the live systems: 0 entries/);
  assert.match(
    report.stdout,
    /\| diego\.ramos@contoso\.example \(Diego Ramos, disabled\) \|.*user diego\.ramos \(USMF, disabled\) \|/,
  );
});

test("5b: a second preview reports no changes", async () => {
  const preview = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(preview.code, 0, preview.output);
  assert.match(preview.stdout, /18 unchanged/);
  assert.deepEqual(steps(preview.stdout), []);
});

test("5c: add a role — only that user's F&O resource changes", async () => {
  edit(/(company: GBSI)\n/, "$1\n        roles:\n          - role: COLLECTIONLETTERCOLLECTIONSMANAGER\n");
  await change([`update fno:${EVA}/${ENV}`]);
});

test("5c: restrict a role to a legal entity", async () => {
  edit(
    "          - role: COLLECTIONLETTERCOLLECTIONSMANAGER\n",
    "          - role: COLLECTIONLETTERCOLLECTIONSMANAGER\n            legalEntities: [GBSI]\n",
  );
  await change([`update fno:${EVA}/${ENV}`], async () => {
    const live = await project.live(EVA);
    assert.deepEqual(live.fno?.legalEntities.COLLECTIONLETTERCOLLECTIONSMANAGER, ["GBSI"]);
  });
});

test("5c: remove a role — only that user's Dataverse resource changes", async () => {
  edit("        roles: [Contoso Finance Reader]\n", "        roles: []\n");
  await change([`update dataverse:${ADELE}/${ENV}`], async () => {
    const live = await project.live(ADELE);
    assert.ok(!live.dataverse?.roles.includes("Contoso Finance Reader"));
  });
});

test("5c: add a user — three resources are created", async () => {
  edit(
    "rules:\n",
    `  - upn: ${FARAH}\n    displayName: Farah Khan\n    manage: create\n    personas: [team_member]\n\nrules:\n`,
  );
  await change([`create dataverse:${FARAH}/${ENV}`, `create entra:${FARAH}`, `create fno:${FARAH}/${ENV}`]);
});

test("5c: remove a user — its three resources are deleted; access revoked, account kept", async () => {
  edit(/ {2}- upn: chloe\.martin@contoso\.example\n(?: {4}.*\n)+\n/, "");
  await change(
    [`delete dataverse:${CHLOE}/${ENV}`, `delete entra:${CHLOE}`, `delete fno:${CHLOE}/${ENV}`],
    async () => {
      const live = await project.live(CHLOE);
      assertOnlyPreexisting(CHLOE, live);
      assert.equal(live.entra?.accountEnabled, true, "an adopted user is left enabled, as found");
      assert.ok(!live.dataverse?.roles.includes("Basic User"), "the Dataverse role we granted is revoked");
    },
  );
});

test("5d: drift made in the sandbox is shown by preview --refresh and undone by up --refresh", async () => {
  const sb = project.sandbox;
  const env = sb.endpoints.environments[0];
  assert.ok(env);
  // Someone removes Eva's F&O role and Bruno's direct license by hand.
  const fnoToken = await sb.token(`${env.fnoUrl}/.default`);
  const removed = await sb.call(
    `${env.fnoUrl}/data/SecurityUserRoles(UserId='eva.nowak',SecurityRoleIdentifier='CUSTINVOICEACCOUNTSRECEIVABLECLERK')`,
    { method: "DELETE", token: fnoToken },
  );
  assert.equal(removed.status, 204, removed.text);
  const graphToken = await sb.token(`${sb.endpoints.graphUrl}/.default`);
  const bruno = await project.live(BRUNO);
  const skus = (await sb.call(`${sb.endpoints.graphUrl}/v1.0/subscribedSkus`, { token: graphToken }))
    .body as {
    value: { skuId: string; skuPartNumber: string }[];
  };
  const teamMembers = skus.value.find((s) => s.skuPartNumber === "DYN365_ENTERPRISE_TEAM_MEMBERS");
  assert.ok(teamMembers && bruno.entra);
  const revoked = await sb.call(`${sb.endpoints.graphUrl}/v1.0/users/${bruno.entra.id}/assignLicense`, {
    method: "POST",
    token: graphToken,
    body: { addLicenses: [], removeLicenses: [teamMembers.skuId] },
  });
  assert.equal(revoked.status, 200, revoked.text);

  const report = await project.cli(["report", "--live"]);
  assert.match(report.stdout, /Drift from the live systems: 2 entries/);
  assert.match(
    report.stdout,
    /\*\*\+CUSTINVOICEACCOUNTSRECEIVABLECLERK\*\*/,
    "Eva's removed role is declared but missing",
  );
  assert.match(
    report.stdout,
    /\*\*\+DYN365_ENTERPRISE_TEAM_MEMBERS\*\*/,
    "Bruno's removed license is declared but missing",
  );

  const plain = await project.cli(["preview"]);
  assert.deepEqual(steps(plain.stdout), [], "without --refresh the engine compares with its state only");
  const refreshed = await project.cli(["preview", "--refresh"]);
  assert.equal(refreshed.code, 0, refreshed.output);
  assert.deepEqual(steps(refreshed.stdout), [`update entra:${BRUNO}`, `update fno:${EVA}/${ENV}`]);
  const up = await project.cli(["up", "--refresh", "--yes"]);
  assert.equal(up.code, 0, up.output);
  await assertSandboxMatches(project);
});

test("5g: destroy revokes and disables, and hard-deletes nothing", async () => {
  // Revoking everything exceeds the guards by design: the explicit override.
  const destroy = await project.cli(["destroy", "--yes", "--override-guards"]);
  assert.equal(destroy.code, 0, destroy.output);
  assert.match(destroy.stdout, /- \d+ deleted/);
  for (const upn of [ADELE, BRUNO, EVA, FARAH, NESTOR]) assertOnlyPreexisting(upn, await project.live(upn));
  // Users we created lose every license and are disabled; adopted ones are left enabled, as found.
  for (const upn of [FARAH, NESTOR]) {
    const live = await project.live(upn);
    assert.equal(live.entra?.accountEnabled, false, `${upn}: created by us, disabled`);
    assert.deepEqual(live.entra?.directLicenses, [], `${upn}: created by us, no license left`);
  }
  assert.equal((await project.live(ADELE)).entra?.accountEnabled, true);
});
