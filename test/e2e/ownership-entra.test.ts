/**
 * Issue 11 on a lived-in tenant, Entra's part, with the real engine (d365-access → Automation
 * API → pulumi): the demo users.yaml's first `up` leaves every license it does not own and every
 * user it does not name exactly as they were; a hybrid user's license change applies while AD
 * keeps what it masters; a person renamed in Entra, with users.yaml following, keeps everything
 * and the preview shows updates only. Asserted through Graph, Dataverse, F&O and the sandbox's
 * request journal, before and after.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { desiredOf } from "./expect.ts";
import { createProject, type E2EProject, type LiveUser, steps } from "./harness.ts";

let project: E2EProject;
let graphToken: string;
/** What the rename test saw, for the F&O half of its acceptance. */
let rename: { preview: string; before: LiveUser; after: LiveUser } | undefined;

const ADELE = "adele.vance@contoso.example";
const JOHANNA = "johanna.lorenz@contoso.example";
const ENV = "contoso-demo";

/** One user as Graph shows it: every property we could touch, every license path. */
interface GraphView {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  licenseAssignmentStates: {
    skuId: string;
    assignedByGroup: string | null;
    state: string;
    disabledPlans: string[];
  }[];
}

async function tenant(): Promise<Map<string, GraphView>> {
  const users = new Map<string, GraphView>();
  let url: string | undefined =
    `${project.sandbox.endpoints.graphUrl}/v1.0/users?$select=id,userPrincipalName,displayName,accountEnabled,usageLocation,licenseAssignmentStates&$top=999`;
  while (url) {
    const res = await project.sandbox.call(url, { token: graphToken });
    assert.equal(res.status, 200, res.text);
    const body = res.body as { value: GraphView[]; "@odata.nextLink"?: string };
    for (const u of body.value) users.set(u.id, u);
    url = body["@odata.nextLink"];
  }
  return users;
}

async function skuIds(): Promise<Map<string, string>> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.graphUrl}/v1.0/subscribedSkus`, {
    token: graphToken,
  });
  const skus = (res.body as { value: { skuId: string; skuPartNumber: string }[] }).value;
  return new Map(skus.map((s) => [s.skuId.toLowerCase(), s.skuPartNumber]));
}

async function journal(): Promise<{ method: string; path: string; write: boolean }[]> {
  const res = await project.sandbox.call(
    `${project.sandbox.endpoints.adminUrl}/journal?writes=true&service=graph`,
  );
  return (res.body as { value: { method: string; path: string; write: boolean }[] }).value;
}

async function clearJournal(): Promise<void> {
  await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal`, { method: "DELETE" });
}

before(async () => {
  project = await createProject({ seed: "lived-in" });
  graphToken = await project.sandbox.token(`${project.sandbox.endpoints.graphUrl}/.default`);
});
after(async () => {
  await project?.close();
});

test("the first up leaves every license users.yaml does not own, and every user it does not name, as it was", async () => {
  const state = desiredOf(project);
  const managed = new Set(state.managedLicenses.map((s) => s.toLowerCase()));
  const declared = new Set(state.users.map((u) => u.upn.toLowerCase()));
  const names = await skuIds();
  const before = await tenant();
  assert.ok(
    [...before.values()].some(
      (u) =>
        declared.has(u.userPrincipalName.toLowerCase()) &&
        u.licenseAssignmentStates.some(
          (s) => !s.assignedByGroup && !managed.has(names.get(s.skuId.toLowerCase())?.toLowerCase() ?? ""),
        ),
    ),
    "the lived-in tenant gives declared users licenses users.yaml does not manage (else this test proves nothing)",
  );
  await clearJournal();

  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);

  const afterUp = await tenant();
  const ids = new Set<string>();
  for (const [id, was] of before) {
    const now = afterUp.get(id);
    assert.ok(now, `${was.userPrincipalName} still exists`);
    const upn = was.userPrincipalName.toLowerCase();
    if (declared.has(upn)) {
      ids.add(id);
      const unowned = (u: GraphView) =>
        u.licenseAssignmentStates
          .filter(
            (s) => s.assignedByGroup || !managed.has(names.get(s.skuId.toLowerCase())?.toLowerCase() ?? ""),
          )
          .map((s) =>
            JSON.stringify([s.skuId.toLowerCase(), s.assignedByGroup, s.state, [...s.disabledPlans].sort()]),
          )
          .sort();
      assert.deepEqual(
        unowned(now),
        unowned(was),
        `${upn}: licenses users.yaml does not own are as they were`,
      );
    } else {
      assert.deepEqual(now, was, `${upn} is not in users.yaml: untouched`);
    }
  }
  const created = [...afterUp.values()].find((u) => u.userPrincipalName === "nestor.wilke@contoso.example");
  assert.ok(created, "the new hire was created");
  ids.add(created.id);
  // Graph writes went to declared users only (and the one user users.yaml creates).
  for (const entry of await journal()) {
    const target = /^\/v1\.0\/users\/([^/?]+)/.exec(entry.path)?.[1];
    if (entry.method === "POST" && /^\/v1\.0\/users(\?|$)/.test(entry.path)) continue;
    assert.ok(
      target && ids.has(decodeURIComponent(target)),
      `a write to someone users.yaml does not name: ${entry.method} ${entry.path}`,
    );
  }
});

test("a hybrid user's license change applies; what on-premises AD masters is reported, not patched", async () => {
  const before = [...(await tenant()).values()].find((u) => u.userPrincipalName === JOHANNA);
  assert.ok(before, "Johanna is in the lived-in tenant");
  const names = await skuIds();
  // Finance and Team Members are managed (users.yaml names them); Office 365 E3 is not.
  const johanna = `  - upn: ${JOHANNA}
    displayName: Johanna Lorenz-Berg
    usageLocation: DE
    licenses: [DYN365_ENTERPRISE_TEAM_MEMBERS]

rules:`;
  project.writeUsersYaml(project.usersYaml().replace("\nrules:", `\n${johanna}`));

  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  assert.match(
    preview.output,
    /johanna\.lorenz@contoso\.example is synced from on-premises Active Directory/,
  );
  assert.match(preview.output, /displayName is "Johanna Lorenz" \(users\.yaml: "Johanna Lorenz-Berg"\)/);
  await clearJournal();
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);

  const now = (await tenant()).get(before.id);
  assert.ok(now);
  assert.equal(now.displayName, "Johanna Lorenz", "AD's display name stays");
  const direct = (u: GraphView) =>
    u.licenseAssignmentStates
      .filter((s) => !s.assignedByGroup)
      .map((s) => names.get(s.skuId.toLowerCase()))
      .sort();
  assert.deepEqual(direct(before), ["DYN365_FINANCE", "ENTERPRISEPACK"]);
  assert.deepEqual(direct(now), ["DYN365_ENTERPRISE_TEAM_MEMBERS", "ENTERPRISEPACK"]);
  const patches = (await journal()).filter((e) => e.method === "PATCH" && e.path.includes(before.id));
  assert.deepEqual(patches, [], "nothing AD masters was patched");
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, again.output);
});

test("a rename in Entra that users.yaml follows keeps the person's access; the preview shows no delete", async () => {
  const NEW = "adele.king@contoso.example";
  const was: LiveUser = await project.live(ADELE);
  assert.ok(was.entra && was.dataverse && was.fno, "Adele is managed in every system");
  const renamed = await project.sandbox.call(
    `${project.sandbox.endpoints.graphUrl}/v1.0/users/${was.entra.id}`,
    {
      method: "PATCH",
      token: graphToken,
      body: { userPrincipalName: NEW },
    },
  );
  assert.equal(renamed.status, 204, renamed.text);

  // users.yaml not following yet: the run stops before any write and says what to do.
  const stale = await project.cli(["preview"]);
  assert.notEqual(stale.code, 0);
  assert.match(
    stale.output,
    /Entra user adele\.vance@contoso\.example was renamed to adele\.king@contoso\.example/,
  );

  project.writeUsersYaml(project.usersYaml().replace(`upn: ${ADELE}`, `upn: ${NEW}`));
  const preview = await project.cli(["preview"]);
  assert.equal(preview.code, 0, preview.output);
  const planned = steps(preview.stdout);
  assert.deepEqual(planned, [
    `update dataverse:${NEW}/${ENV}`,
    `update entra:${NEW}`,
    `update fno:${NEW}/${ENV}`,
  ]);
  assert.doesNotMatch(preview.stdout, /(entra|dataverse):User\s+\S+\s+(delete|replace|create)/);

  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  const now = await project.live(NEW);
  rename = { preview: preview.stdout, before: was, after: now };
  assert.equal(now.entra?.id, was.entra.id, "the same Entra user");
  assert.deepEqual(now.entra?.directLicenses, was.entra.directLicenses, "licenses kept");
  assert.deepEqual(now.dataverse?.roles, was.dataverse.roles, "Dataverse roles kept");
  assert.equal(now.dataverse?.isdisabled, false);
});

test("a rename keeps the same F&O user and roles (its Alias follows the new UPN)", () => {
  assert.ok(rename, "the rename test ran");
  assert.doesNotMatch(rename.preview, /fno:User\s+\S+\s+(delete|replace|create)/);
  assert.equal(rename.after.fno?.userId, rename.before.fno?.userId, "the same F&O user");
  assert.deepEqual(rename.after.fno?.roles, rename.before.fno?.roles, "F&O roles kept");
  assert.equal(rename.after.fno?.enabled, true);
});
