/**
 * The admin routes tests use to set up a case without editing the state file: each one's
 * effect as the emulated APIs then show it, and its refusal of bad input.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;
const ENV = "contoso-demo";

describe("sandbox admin routes", () => {
  let t: TestSandbox;
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await t.call(`${t.endpoints.adminUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body }),
    });
    return { ...res, body: res.body as Json };
  };
  const graph = async (path: string, token: string) => {
    const res = await t.call(`${t.endpoints.graphUrl}/v1.0${path}`, { token });
    return { ...res, body: res.body as Json };
  };

  before(async () => {
    t = await startTestSandbox();
  });
  after(() => t.close());

  it("identity: registers an app and changes its Graph permissions", async () => {
    const created = await admin("POST", "/identity/apps", {
      displayName: "Reader",
      secret: "Reader-secret-1",
    });
    assert.equal(created.status, 201);
    const app = { clientId: created.body.appId as string, clientSecret: "Reader-secret-1" };
    const first = await t.token(`${t.endpoints.graphUrl}/.default`, app);
    assert.equal((await graph("/users", first)).status, 403, "no Graph permission yet");
    const granted = await admin("PUT", `/identity/apps/${app.clientId}`, {
      graphAppRoles: ["User.Read.All"],
    });
    assert.equal(granted.status, 200);
    assert.ok(!("clientSecretHashes" in granted.body), "credentials are never shown");
    const second = await t.mintToken({ appId: app.clientId, audience: t.endpoints.graphUrl });
    assert.equal((await graph("/users", second)).status, 200);
    assert.equal((await admin("PUT", "/identity/apps/00000000-0000-4000-8000-000000000009", {})).status, 404);
    assert.equal((await admin("POST", "/identity/apps", { displayName: "" })).status, 400);
  });

  it("graph: adds a SKU, a licensing group, a user with direct and group licences, and changes seats", async () => {
    const token = await t.token(`${t.endpoints.graphUrl}/.default`);
    const sku = await admin("POST", "/graph/skus", {
      skuPartNumber: "POWER_BI_PRO",
      skuId: "f8a1db68-be16-40ed-86d5-cb42ce701560",
      servicePlans: [
        { servicePlanId: "70d33638-9c74-4d01-bfd3-562de28bd4ba", servicePlanName: "BI_AZURE_P2" },
      ],
      seats: 3,
    });
    assert.equal(sku.status, 201);
    const group = await admin("POST", "/graph/groups", {
      displayName: "BI users",
      licenses: ["POWER_BI_PRO"],
    });
    assert.equal(group.status, 201);
    const user = await admin("POST", "/graph/users", {
      userPrincipalName: "quinn.admin@contoso.example",
      displayName: "Quinn Admin",
      usageLocation: "US",
      licenses: [{ sku: "DYN365_FINANCE", disabledPlans: ["FLOW_DYN_APPS"] }],
      groups: ["BI users"],
      onPremisesSyncEnabled: true,
    });
    assert.equal(user.status, 201);
    const read = await graph(
      `/users/quinn.admin@contoso.example?$select=id,onPremisesSyncEnabled,assignedLicenses,licenseAssignmentStates`,
      token,
    );
    assert.equal(read.body.id, user.body.id);
    assert.equal(read.body.onPremisesSyncEnabled, true);
    assert.deepEqual(
      (read.body.licenseAssignmentStates as Json[]).map((s) => [s.skuId, s.assignedByGroup === null]),
      [
        ["55c9eb4e-c746-45b4-b255-9ab6b19d5c62", true],
        ["f8a1db68-be16-40ed-86d5-cb42ce701560", false],
      ],
    );
    assert.equal((await admin("PATCH", "/graph/skus/POWER_BI_PRO", { seats: 1 })).status, 200);
    const skus = (await graph("/subscribedSkus", token)).body.value as Json[];
    const bi = skus.find((s) => s.skuPartNumber === "POWER_BI_PRO");
    assert.deepEqual([bi.prepaidUnits.enabled, bi.consumedUnits], [1, 1]);
    assert.equal(
      (
        await admin("POST", "/graph/users", {
          userPrincipalName: "x@contoso.example",
          displayName: "X",
          licenses: ["NOPE"],
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await admin("POST", "/graph/users", {
          userPrincipalName: "quinn.admin@contoso.example",
          displayName: "Q",
        })
      ).status,
      400,
    );
  });

  it("dataverse: adds a custom role, hand-grants it, and sets the app's own roles", async () => {
    const env = t.endpoints.environments[0];
    assert.ok(env);
    const token = await t.token(`${env.dataverseUrl}/.default`);
    const api = `${env.dataverseUrl}/api/data/v9.2`;
    const role = await admin("POST", `/dataverse/${ENV}/roles`, {
      name: "Contoso Auditor",
      privileges: ["prvReadUser"],
    });
    assert.equal(role.status, 201);
    const copies = ((await t.call(`${api}/roles?$filter=name eq 'Contoso Auditor'`, { token })).body as Json)
      .value;
    assert.equal(copies.length, 2, "copied into the child unit");
    const adele = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51";
    const granted = await admin("POST", `/dataverse/${ENV}/users/${adele}/roles`, {
      roles: ["Contoso Auditor"],
    });
    assert.equal(granted.status, 200);
    const row = (
      await t.call(
        `${api}/systemusers(azureactivedirectoryobjectid=${adele})?$expand=systemuserroles_association($select=name)`,
        { token },
      )
    ).body as Json;
    assert.ok(row.systemuserroles_association.some((r: Json) => r.name === "Contoso Auditor"));
    const demoted = await admin("PUT", `/dataverse/${ENV}/apps/${t.endpoints.clientId}/roles`, {
      roles: ["Basic User"],
    });
    assert.equal(demoted.status, 200);
    const denied = await t.call(`${api}/systemusers(azureactivedirectoryobjectid=${adele})`, {
      method: "PATCH",
      token,
      body: { firstname: "A." },
    });
    assert.equal(denied.status, 403, "Basic User may not write users");
    await admin("PUT", `/dataverse/${ENV}/apps/${t.endpoints.clientId}/roles`, {
      roles: ["System Administrator"],
    });
    assert.equal(
      (await admin("POST", `/dataverse/${ENV}/roles`, { name: "Bad", privileges: ["prvEverything"] })).status,
      400,
    );
    assert.equal((await admin("PATCH", `/dataverse/${ENV}/settings`, { nope: true })).status, 400);
    assert.equal((await admin("POST", "/dataverse/nowhere/roles", { name: "X" })).status, 400);
  });

  it("fno: unregisters and registers an app, adds a user with restricted roles, adds and runs a rule", async () => {
    const env = t.endpoints.environments[0];
    assert.ok(env);
    const token = await t.token(`${env.fnoUrl}/.default`);
    const fno = (path: string) => t.call(`${env.fnoUrl}/data/${path}`, { token });
    assert.equal((await admin("DELETE", `/fno/${ENV}/apps/${t.endpoints.clientId}`)).status, 204);
    assert.equal((await fno("SystemUsers?$top=1")).status, 401, "an unregistered app is refused");
    assert.equal(
      (await admin("PUT", `/fno/${ENV}/apps/${t.endpoints.clientId}`, { userId: "Admin" })).status,
      200,
    );
    assert.equal((await fno("SystemUsers?$top=1")).status, 200);
    const added = await admin("POST", `/fno/${ENV}/users`, {
      UserID: "ivy.chen",
      Alias: "ivy.chen@contoso.example",
      Company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTANT", legalEntities: ["usmf"] }],
    });
    assert.equal(added.status, 201);
    const orgs = ((await fno("SecurityUserRoleOrganizations?$filter=UserId eq 'ivy.chen'")).body as Json)
      .value;
    assert.deepEqual(
      orgs.map((o: Json) => o.OrganizationId),
      ["USMF"],
    );
    assert.equal(
      (await admin("POST", `/fno/${ENV}/role-rules`, { role: "HCMEMPLOYEE", company: "USMF" })).status,
      201,
    );
    const run = await admin("POST", `/fno/${ENV}/automatic-role-assignment`);
    assert.equal(run.body.changed, true);
    const rows = ((await fno("SecurityUserRoles?$filter=UserId eq 'ivy.chen'")).body as Json).value as Json[];
    assert.equal(rows.find((r) => r.SecurityRoleIdentifier === "HCMEMPLOYEE")?.AssignmentMode, "Automatic");
    assert.equal(
      (await admin("POST", `/fno/${ENV}/users`, { UserID: "ivy.chen", Alias: "x@contoso.example" })).status,
      400,
    );
    assert.equal((await admin("POST", `/fno/${ENV}/users/ivy.chen/roles`, { role: "NOPE" })).status, 400);
  });

  it("powerplatform: removes and restores the app's management registration", async () => {
    const token = await t.token("https://service.powerapps.com//.default");
    const url = `${t.endpoints.powerPlatformUrl}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2021-04-01`;
    assert.equal(
      (await admin("DELETE", `/powerplatform/management-applications/${t.endpoints.clientId}`)).status,
      204,
    );
    assert.equal((await t.call(url, { token })).status, 403);
    assert.equal(
      (await admin("PUT", `/powerplatform/management-applications/${t.endpoints.clientId}`)).status,
      200,
    );
    assert.equal((await t.call(url, { token })).status, 200);
  });

  it("answers 501 for an unknown route and 400 for a body that is not an object", async () => {
    assert.equal((await admin("GET", "/graph/nothing")).status, 501);
    const bad = await t.call(`${t.endpoints.adminUrl}/graph/users`, {
      method: "POST",
      body: "[1,2]",
      headers: { "content-type": "application/json" },
    });
    assert.equal(bad.status, 400);
  });
});
