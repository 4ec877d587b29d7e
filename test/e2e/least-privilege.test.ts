/**
 * Least privilege (issue 16 item 5), through the real engine on the lived-in tenant: with
 * exactly the permission set docs/real-tenant.md documents, the demo applies and converges;
 * without any ONE of them, preview fails with one problem line naming it, and nothing is
 * written (the sandbox's journal). The set, per system:
 *
 * - Microsoft Graph application permissions: User.ReadWrite.All, LicenseAssignment.Read.All;
 * - Dataverse: a security role with prvReadUser, prvReadRole, prvReadBusinessUnit, prvReadTeam,
 *   prvWriteUser, prvAssignRole for the app's application user;
 * - F&O: the app registered in SysAADClients, its user holding System administrator;
 * - Power Platform: the app registered as a management application.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { desiredOf } from "./expect.ts";
import { createProject, type E2EProject } from "./harness.ts";

const ENV = "contoso-demo";
const GRAPH = ["User.ReadWrite.All", "LicenseAssignment.Read.All"];
const PRIVILEGES = [
  "prvReadUser",
  "prvReadRole",
  "prvReadBusinessUnit",
  "prvReadTeam",
  "prvWriteUser",
  "prvAssignRole",
];
/** The F&O user the lived-in tenant maps the app to. */
const APP_USER = "svc-d365access";

let project: E2EProject;
let appId = "";

async function admin(method: string, route: string, body?: unknown): Promise<void> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}${route}`, {
    method,
    ...(body === undefined ? {} : { body }),
  });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${route}: ${res.status} ${res.text}`);
}

const graphRoles = (roles: string[]) => admin("PUT", `/identity/apps/${appId}`, { graphAppRoles: roles });
/** The app's application user holds one role with exactly `privileges`. */
async function dataversePrivileges(privileges: string[]): Promise<void> {
  const name = `d365-access ${privileges.length === PRIVILEGES.length ? "least privilege" : privileges.join(" ")}`;
  await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/dataverse/${ENV}/roles`, {
    method: "POST",
    body: { name, privileges },
  }); // 201, or 409 when a previous case made it
  await admin("PUT", `/dataverse/${ENV}/apps/${appId}/roles`, { roles: [name] });
}

before(async () => {
  project = await createProject({ seed: "lived-in" });
  appId = project.sandbox.endpoints.clientId;
  await graphRoles(GRAPH);
  await dataversePrivileges(PRIVILEGES);
  // A user the app can be mapped to that holds no F&O role.
  await admin("POST", `/fno/${ENV}/users`, {
    UserID: "svc-norole",
    Alias: "svc-norole@contoso.example",
    Enabled: true,
    roles: [],
  });
});
after(async () => {
  await project?.close();
});

/** One permission of the set, how to take it away and give it back, and the line preview prints. */
interface Case {
  name: string;
  remove(): Promise<void>;
  restore(): Promise<void>;
  line: RegExp;
}

const CASES: Case[] = [
  ...GRAPH.map((permission) => ({
    name: `Graph ${permission}`,
    remove: () => graphRoles(GRAPH.filter((p) => p !== permission)),
    restore: () => graphRoles(GRAPH),
    line: new RegExp(`Entra ID: .*403 Authorization_RequestDenied.*${permission.replace(/\./g, "\\.")}`),
  })),
  ...PRIVILEGES.map((privilege) => ({
    name: `Dataverse ${privilege}`,
    remove: () => dataversePrivileges(PRIVILEGES.filter((p) => p !== privilege)),
    restore: () => dataversePrivileges(PRIVILEGES),
    line: new RegExp(
      `Dataverse environment "${ENV}": the app's application user lacks the privilege ${privilege}\\b`,
    ),
  })),
  {
    name: "F&O registration (SysAADClients)",
    remove: () => admin("DELETE", `/fno/${ENV}/apps/${appId}`),
    restore: () => admin("PUT", `/fno/${ENV}/apps/${appId}`, { userId: APP_USER }),
    line: new RegExp(`F&O environment "${ENV}": fno 401.*SysAADClients`),
  },
  {
    name: "F&O System administrator role of the app's user",
    remove: () => admin("PUT", `/fno/${ENV}/apps/${appId}`, { userId: "svc-norole" }),
    restore: () => admin("PUT", `/fno/${ENV}/apps/${appId}`, { userId: APP_USER }),
    line: new RegExp(`F&O environment "${ENV}": fno 403.*System administrator`),
  },
  {
    name: "Power Platform management application",
    remove: () => admin("DELETE", `/powerplatform/management-applications/${appId}`),
    restore: () => admin("PUT", `/powerplatform/management-applications/${appId}`),
    line: new RegExp(`Dataverse environment "${ENV}": powerplatform 403.*management application`),
  },
];

test("without any one permission of the minimal set, preview fails with one line naming it and writes nothing", async (t) => {
  const baseline = await project.cli(["preview"]);
  assert.equal(baseline.code, 0, `the minimal set is enough for a preview: ${baseline.output}`);
  for (const c of CASES) {
    await c.remove();
    project.sandbox.sandbox.journal.clear();
    const run = await project.cli(["preview"]);
    await c.restore();
    t.diagnostic(
      `${c.name}: ${
        run.output
          .split("\n")
          .find((l) => c.line.test(l))
          ?.trim() ?? "(no line)"
      }`,
    );
    assert.notEqual(run.code, 0, `${c.name}: ${run.output}`);
    assert.match(
      run.output,
      /the pre-flight found 1 problem\(s\); nothing was changed/,
      `${c.name}: ${run.output}`,
    );
    assert.match(run.output, c.line, `${c.name}: ${run.output}`);
    assert.deepEqual(
      project.sandbox.sandbox.journal.entries({ writesOnly: true }),
      [],
      `${c.name}: no write`,
    );
  }
});

test("with exactly the minimal set the demo applies and converges", async () => {
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.doesNotMatch(up.output, /not granted|refused/i);
  // Every declared grant is there (the lived-in tenant keeps what users.yaml does not own).
  for (const user of desiredOf(project).users) {
    const live = await project.live(user.upn);
    for (const access of user.dataverse)
      for (const role of access.roles)
        assert.ok(live.dataverse?.roles.includes(role), `${user.upn}: Dataverse role ${role} granted`);
    for (const access of user.fno)
      for (const role of access.roles)
        assert.ok(live.fno?.roles.includes(role.role), `${user.upn}: F&O role ${role.role} granted`);
  }
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, again.output);
});
