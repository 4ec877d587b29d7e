/**
 * F&O as an environment in daily use answers it (the lived-in seed): preconfigured accounts,
 * the app's own mapped user, roles restricted to legal entities, rule-based rows and an
 * exclusion behaving as F&O's "Assign users to roles" describes, users whose delete is refused,
 * and a SystemUsers create without Alias or AccountType failing as the real service does.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CallOptions, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;
const ENV = "contoso-demo";

describe("F&O on the lived-in tenant", () => {
  let t: TestSandbox;
  let base: string;
  let token: string;
  const fno = async (path: string, options: CallOptions = {}) => {
    const res = await t.call(`${base}/data/${path}`, { token, ...options });
    return { ...res, body: res.body as Json };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(`${t.endpoints.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body }) });
  const rolesOf = async (userId: string) =>
    (await fno(`SecurityUserRoles?$filter=UserId eq '${userId}'`)).body.value as Json[];

  before(async () => {
    t = await startTestSandbox({ seed: "lived-in" });
    const env = t.endpoints.environments[0];
    assert.ok(env);
    base = env.fnoUrl;
    token = await t.token(`${env.fnoUrl}/.default`);
  });
  after(() => t.close());

  it("holds the documented preconfigured accounts and maps our app to a dedicated service user", async () => {
    const users = (await fno("SystemUsers?$select=UserID")).body.value.map((u: Json) => u.UserID) as string[];
    for (const id of ["Axrunner", "FRServiceUser", "RetailServiceAccount", "SysHealthServiceUser", "Admin"])
      assert.ok(users.includes(id), id);
    const client = await fno(`SysAADClients('${t.endpoints.clientId}')`);
    assert.equal(client.body.UserId, "svc-d365access");
    const roles = await rolesOf("svc-d365access");
    assert.ok(
      roles.some((r) => r.SecurityRoleIdentifier === "-SYSADMIN-" && r.AssignmentStatus === "Enabled"),
    );
  });

  it("restricts roles to legal entities", async () => {
    const orgs = (await fno("SecurityUserRoleOrganizations?$filter=UserId eq 'alex.wilber'")).body
      .value as Json[];
    assert.deepEqual(
      orgs.map((o) => [o.SecurityRoleIdentifier, o.OrganizationType, o.OrganizationId]),
      [["LEDGERACCOUNTINGMANAGER", "LegalEntity", "GBSI"]],
    );
  });

  it("holds rule-based rows (Automatic) and an exclusion (Manual, not Enabled)", async () => {
    const adele = await rolesOf("adele.vance");
    const employee = adele.find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE");
    assert.equal(employee?.AssignmentMode, "Automatic");
    assert.equal(employee?.AssignmentStatus, "Enabled");
    const patti = (await rolesOf("patti.fernandez")).find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE");
    assert.deepEqual([patti?.AssignmentMode, patti?.AssignmentStatus], ["Manual", "Disabled"]);
  });

  it("rule-based rows: cannot be deleted, disabling one excludes the user, the rule respects exclusions", async () => {
    const key = "SecurityUserRoles(UserId='lee.gu',SecurityRoleIdentifier='HCMEMPLOYEE')";
    const deleted = await fno(key, { method: "DELETE" });
    assert.equal(deleted.status, 400);
    assert.equal(
      deleted.body.error.innererror.type,
      "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
    );
    assert.equal((await fno(key, { method: "PATCH", body: { AssignmentStatus: "Disabled" } })).status, 204);
    const excluded = (await rolesOf("lee.gu")).find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE");
    assert.deepEqual([excluded?.AssignmentMode, excluded?.AssignmentStatus], ["Manual", "Disabled"]);
    const run = await admin("POST", `/fno/${ENV}/automatic-role-assignment`);
    assert.equal(run.status, 200);
    const still = (await rolesOf("lee.gu")).find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE");
    assert.equal(still?.AssignmentStatus, "Disabled", "the rule leaves the exclusion alone");
    // "Reset status": removing the exclusion lets the rule assign the role again at its next run.
    assert.equal((await fno(key, { method: "DELETE" })).status, 204);
    await admin("POST", `/fno/${ENV}/automatic-role-assignment`);
    const back = (await rolesOf("lee.gu")).find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE");
    assert.deepEqual([back?.AssignmentMode, back?.AssignmentStatus], ["Automatic", "Enabled"]);
  });

  it("refuses to delete a user that posted transactions reference; another one is deleted", async () => {
    const refused = await fno("SystemUsers('joni.sherman')", { method: "DELETE" });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.innererror.message, /Transactions exist in table 'VendInvoiceJour'/);
    assert.equal((await fno("SystemUsers('joni.sherman')")).status, 200, "still there");
    assert.equal((await fno("SystemUsers('raul.razo')", { method: "DELETE" })).status, 204);
  });

  it("a SystemUsers create without Alias or AccountType fails with F&O's AxODataWriteException", async () => {
    const body = {
      UserID: "new.hire",
      UserName: "New Hire",
      NetworkDomain: "https://sts.windows.net/",
      UserInfo_language: "en-us",
      Helplanguage: "en-us",
      Alias: "new.hire@contoso.example",
      AccountType: "ClaimsUser",
    };
    for (const missing of ["Alias", "AccountType"] as const) {
      const { [missing]: _dropped, ...partial } = body;
      const res = await fno("SystemUsers", { method: "POST", body: partial });
      assert.equal(res.status, 400, missing);
      assert.deepEqual(
        [res.body.error.code, res.body.error.message, res.body.error.innererror.type],
        [
          "",
          "An error has occurred.",
          "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
        ],
      );
      assert.equal(
        res.body.error.innererror.message,
        "Write failed for table row of type 'SystemUserEntity'. Infolog: Error: Object reference not set to an instance of an object..",
      );
    }
    assert.equal((await fno("SystemUsers", { method: "POST", body })).status, 201);
  });

  it("a Disabled role row is not held: an app mapped to a user whose System administrator row is Disabled is refused", async () => {
    await admin("POST", `/fno/${ENV}/users`, {
      UserID: "svc-disabled",
      Alias: "svc-disabled@contoso.example",
      Company: "DAT",
      roles: [{ role: "-SYSADMIN-", status: "Disabled" }, { role: "SYSTEMUSER" }],
    });
    await admin("PUT", `/fno/${ENV}/apps/${t.endpoints.clientId}`, { userId: "svc-disabled" });
    try {
      assert.equal((await fno("SystemUsers?$top=1")).status, 403);
    } finally {
      await admin("PUT", `/fno/${ENV}/apps/${t.endpoints.clientId}`, { userId: "svc-d365access" });
    }
    assert.equal((await fno("SystemUsers?$top=1")).status, 200);
  });
});
