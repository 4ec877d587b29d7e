/**
 * Issue 11 (Dataverse and F&O parts) end to end on the lived-in tenant, with the real engine:
 * what users.yaml does not own stays exactly as it was (read through the sandbox's Dataverse and
 * F&O APIs before and after), the F&O user the app acts as cannot be declared (the preview fails
 * with no write, counted by the sandbox's journal), a delete F&O refuses leaves the user disabled,
 * and an environment being serviced never makes Pulumi forget a user.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createProject, type E2EProject, steps } from "./harness.ts";

const ENV = "contoso-demo";
/** The F&O user the lived-in tenant maps our app to (SysAADClients). */
const APP_USER = "svc-d365access";

let project: E2EProject;
let dvApi = "";
let fnoApi = "";
let dvScope = "";
let fnoScope = "";

before(async () => {
  // The lived-in tenant, with Dataverse's per-row expand links switched on, as the service answers.
  project = await createProject({ seed: "lived-in" });
  const env = project.sandbox.endpoints.environments[0];
  assert.ok(env);
  dvApi = `${env.dataverseUrl}/api/data/v9.2`;
  fnoApi = `${env.fnoUrl}/data`;
  dvScope = `${env.dataverseUrl}/.default`;
  fnoScope = `${env.fnoUrl}/.default`;
});
after(async () => {
  await project?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: rows of the services' JSON, compared whole
type Row = Record<string, any>;

async function get(url: string, scope: string): Promise<Row[]> {
  const rows: Row[] = [];
  let next: string | undefined = url;
  while (next) {
    const res = await project.sandbox.call(next, { token: await project.sandbox.token(scope) });
    assert.equal(res.status, 200, `GET ${next}: ${res.text}`);
    const body = res.body as { value: Row[]; "@odata.nextLink"?: string };
    rows.push(...body.value);
    next = body["@odata.nextLink"];
  }
  return rows;
}

const lower = (s: unknown) => String(s ?? "").toLowerCase();
const strip = (row: Row) => {
  const { "@odata.etag": _etag, ...rest } = row;
  for (const key of Object.keys(rest)) if (key.endsWith("@odata.nextLink")) delete rest[key];
  return rest;
};

/** Everything Dataverse and F&O hold about people, read through their APIs. */
interface Tenant {
  /** Dataverse human users by object id: enabled state, unit and direct role ids. */
  dvUsers: Map<string, Row>;
  /** Dataverse teams with their roles and members. */
  dvTeams: Row[];
  /** F&O users by lower-case UserID. */
  fnoUsers: Map<string, Row>;
  /** F&O role rows. */
  fnoRoles: Row[];
  /** F&O legal-entity rows. */
  fnoOrgs: Row[];
}

async function snapshot(): Promise<Tenant> {
  const users = await get(
    `${dvApi}/systemusers?$select=systemuserid,azureactivedirectoryobjectid,isdisabled,_businessunitid_value&$filter=azureactivedirectoryobjectid ne null and applicationid eq null&$expand=systemuserroles_association($select=roleid,name)`,
    dvScope,
  );
  const teams = await get(
    `${dvApi}/teams?$select=teamid,name&$expand=teamroles_association($select=roleid),teammembership_association($select=systemuserid)`,
    dvScope,
  );
  const fnoUsers = await get(`${fnoApi}/SystemUsers?cross-company=true`, fnoScope);
  return {
    dvUsers: new Map(
      users.map((u) => [
        lower(u.azureactivedirectoryobjectid),
        {
          ...strip(u),
          systemuserroles_association: (u.systemuserroles_association as Row[])
            .map((r) => r.name as string)
            .sort(),
        },
      ]),
    ),
    dvTeams: teams.map(strip),
    fnoUsers: new Map(fnoUsers.map((u) => [lower(u.UserID), strip(u)])),
    fnoRoles: (await get(`${fnoApi}/SecurityUserRoles?cross-company=true`, fnoScope)).map(strip),
    fnoOrgs: (await get(`${fnoApi}/SecurityUserRoleOrganizations?cross-company=true`, fnoScope)).map(strip),
  };
}

/** The declared people: lower-case UPNs, their Entra object ids and F&O UserIDs. */
async function declared(upns: string[]): Promise<{ objectIds: Set<string>; userIds: Set<string> }> {
  const objectIds = new Set<string>();
  const userIds = new Set<string>();
  for (const upn of upns) {
    const live = await project.live(upn);
    if (live.entra) objectIds.add(lower(live.entra.id));
    if (live.fno) userIds.add(lower(live.fno.userId));
  }
  return { objectIds, userIds };
}

const DEMO = [
  "adele.vance@contoso.example",
  "bruno.keller@contoso.example",
  "chloe.martin@contoso.example",
  "diego.ramos@contoso.example",
  "eva.nowak@contoso.example",
  "nestor.wilke@contoso.example",
];

/** Rule-based rows and exclusions: never d365-access's. */
const notOwnedRows = (t: Tenant) =>
  t.fnoRoles
    .filter((r) => r.AssignmentMode === "Automatic" || r.AssignmentStatus !== "Enabled")
    .map((r) => `${r.UserId}|${r.SecurityRoleIdentifier}|${r.AssignmentMode}|${r.AssignmentStatus}`)
    .sort();

function assertUntouched(
  before: Tenant,
  after: Tenant,
  ours: { objectIds: Set<string>; userIds: Set<string> },
) {
  // Dataverse: every user users.yaml does not name is exactly as it was; teams (and their roles) too.
  for (const [oid, row] of before.dvUsers) {
    if (ours.objectIds.has(oid)) continue;
    assert.deepEqual(after.dvUsers.get(oid), row, `Dataverse user ${oid} changed`);
  }
  assert.deepEqual(after.dvTeams, before.dvTeams, "Dataverse teams changed");
  // F&O: every user users.yaml does not name, its role rows and legal entities, exactly as they were.
  for (const [id, row] of before.fnoUsers) {
    if (ours.userIds.has(id)) continue;
    assert.deepEqual(after.fnoUsers.get(id), row, `F&O user ${id} changed`);
    const of = (t: Tenant, rows: "fnoRoles" | "fnoOrgs") => t[rows].filter((r) => lower(r.UserId) === id);
    assert.deepEqual(of(after, "fnoRoles"), of(before, "fnoRoles"), `F&O roles of ${id} changed`);
    assert.deepEqual(of(after, "fnoOrgs"), of(before, "fnoOrgs"), `F&O legal entities of ${id} changed`);
  }
  // Rule-based rows and exclusions, of anyone: exactly as they were.
  assert.deepEqual(notOwnedRows(after), notOwnedRows(before), "a rule-based row or an exclusion changed");
}

function edit(from: string | RegExp, to: string): void {
  const text = project.usersYaml();
  const next = text.replace(from, to);
  assert.notEqual(next, text, `users.yaml edit did not apply: ${from}`);
  project.writeUsersYaml(next);
}

test("the demo's first up on the lived-in tenant leaves what users.yaml does not own exactly as it was", async () => {
  const before = await snapshot();
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  const after = await snapshot();
  assertUntouched(before, after, await declared(DEMO));
  // Adele's rule-based Employee role (USMF employees) stayed, next to the roles users.yaml gives her.
  const adele = after.fnoRoles
    .filter((r) => r.UserId === "adele.vance")
    .map((r) => `${r.SecurityRoleIdentifier}:${r.AssignmentMode}`);
  assert.ok(adele.includes("HCMEMPLOYEE:Automatic"), adele.join(", "));
  assert.ok(adele.includes("LEDGERACCOUNTINGMANAGER:Manual"), adele.join(", "));
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, `the lived-in tenant does not converge in one up:\n${again.output}`);
});

test("declaring people with rule rows, exclusions and team roles changes only what users.yaml owns", async () => {
  const before = await snapshot();
  // Patti is excluded from the USMF employee rule, Lee holds it by the rule, Miriam holds a team role.
  edit(
    /\nrules:\n/,
    `
  - upn: patti.fernandez@contoso.example
    displayName: Patti Fernandez
    fno:
      ${ENV}:
        roles: [LEDGERACCOUNTANT]
  - upn: lee.gu@contoso.example
    displayName: Lee Gu
    fno:
      ${ENV}:
        roles: [LEDGERACCOUNTANT]
  - upn: miriam.graham@contoso.example
    displayName: Miriam Graham
    dataverse:
      ${ENV}:
        roles: [Basic User]

rules:
`,
  );
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.match(
    up.output,
    /miriam\.graham@contoso\.example in environment "contoso-demo": also holds "Contoso Finance Reader" \(team "Contoso Approvers"\) through teams/,
  );
  const after = await snapshot();
  const people = [
    ...DEMO,
    "patti.fernandez@contoso.example",
    "lee.gu@contoso.example",
    "miriam.graham@contoso.example",
  ];
  assertUntouched(before, after, await declared(people));
  const rows = (userId: string) =>
    after.fnoRoles
      .filter((r) => r.UserId === userId)
      .map((r) => `${r.SecurityRoleIdentifier}:${r.AssignmentMode}:${r.AssignmentStatus}`)
      .sort();
  assert.deepEqual(rows("patti.fernandez"), [
    "HCMEMPLOYEE:Manual:Disabled",
    "LEDGERACCOUNTANT:Manual:Enabled",
    "SYSTEMUSER:Manual:Enabled",
  ]);
  assert.deepEqual(rows("lee.gu"), [
    "HCMEMPLOYEE:Automatic:Enabled",
    "LEDGERACCOUNTANT:Manual:Enabled",
    "SYSTEMUSER:Manual:Enabled",
  ]);
});

test("the F&O user the app acts as cannot be declared: the preview fails with one line and writes nothing", async () => {
  const text = project.usersYaml();
  edit(
    /\nrules:\n/,
    `
  - upn: ${APP_USER}@contoso.example
    displayName: d365-access service user
    manage: create
    fno:
      ${ENV}:
        roles: [LEDGERACCOUNTANT]

rules:
`,
  );
  try {
    project.sandbox.sandbox.journal.clear();
    const preview = await project.cli(["preview"]);
    assert.notEqual(preview.code, 0, preview.output);
    assert.match(
      preview.output,
      /svc-d365access is the user d365-access's own app acts as .*lock d365-access out/,
    );
    assert.deepEqual(project.sandbox.sandbox.journal.entries({ writesOnly: true }), [], "no write at all");
  } finally {
    project.writeUsersYaml(text);
  }
});

test("onRemove: delete of a user F&O refuses to delete: roles revoked, disabled, and the run says why", async () => {
  const text = project.usersYaml();
  const upn = "kai.moreno@contoso.example";
  edit(
    /\nrules:\n/,
    `
  - upn: ${upn}
    displayName: Kai Moreno
    usageLocation: US
    manage: create
    onRemove: delete
    fno:
      ${ENV}:
        roles: [LEDGERACCOUNTANT]

rules:
`,
  );
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  const created = (await project.live(upn)).fno;
  assert.ok(created);
  // Kai posts vendor invoices: F&O will not delete the user any more.
  const fno = project.sandbox.sandbox.state.fno[ENV];
  assert.ok(fno);
  fno.userReferences = [...(fno.userReferences ?? []), { UserId: created.userId, Table: "VendInvoiceJour" }];
  project.sandbox.sandbox.store.changed();

  project.writeUsersYaml(text);
  const removal = await project.cli(["up", "--yes"]);
  assert.equal(removal.code, 0, removal.output);
  assert.match(
    removal.output,
    new RegExp(
      `warning: fno:User ${upn.replace(/\./g, "\\.")} in environment "${ENV}": F&O refused to delete user ${created.userId} .*VendInvoiceJour.*it stays disabled`,
    ),
  );
  const rows = await get(`${fnoApi}/SystemUsers?$filter=UserID eq '${created.userId}'`, fnoScope);
  assert.equal(rows.length, 1, "still there");
  assert.equal(rows[0]?.Enabled, false);
  const roles = await get(`${fnoApi}/SecurityUserRoles?$filter=UserId eq '${created.userId}'`, fnoScope);
  assert.deepEqual(
    roles.map((r) => r.SecurityRoleIdentifier),
    ["SYSTEMUSER"],
  );
});

test("while F&O is being serviced a refresh fails instead of forgetting anyone; afterwards nothing changed", async () => {
  project.sandbox.sandbox.setFaults({ servicing: [{ service: "fno", environment: ENV, status: 404 }] });
  try {
    const refresh = await project.cli(["refresh", "--yes"]);
    assert.notEqual(refresh.code, 0, refresh.output);
    assert.match(refresh.output, /fno 404 .*being serviced or recycled/);
  } finally {
    project.sandbox.sandbox.setFaults({ servicing: [] });
  }
  const preview = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(preview.code, 0, preview.output);
  assert.deepEqual(steps(preview.stdout), [], "no F&O user to create again");
});
