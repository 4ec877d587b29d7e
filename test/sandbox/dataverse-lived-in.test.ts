/**
 * Dataverse and the Power Platform admin API as an environment in daily use answers them (the
 * lived-in seed): what the environment holds, the per-row nextLink of a collection `$expand`,
 * UserInWrongBusiness, no privilege elevation, JIT by alternate key, counted service protection
 * limits, and addUser's userNotLicensed inside the message. Success shape and real error each.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CallOptions, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;

const ALEX = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a05";
const MEGAN = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a02";
const PRADEEP = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a08";
const LIDIA = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a09";
const EVA = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a55";
const ENV = "contoso-demo";

describe("Dataverse on the lived-in tenant", () => {
  let t: TestSandbox;
  let api: string;
  let token: string;
  const clock = { ms: Date.parse("2026-05-04T08:00:00Z") };
  const dv = async (path: string, options: CallOptions = {}) => {
    const res = await t.call(path.startsWith("https:") ? path : `${api}/${path}`, { token, ...options });
    return { ...res, body: res.body as Json };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(`${t.endpoints.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body }) });
  const userByOid = async (oid: string) =>
    (
      await dv(
        `systemusers?$filter=azureactivedirectoryobjectid eq ${oid}&$expand=systemuserroles_association($select=name,_businessunitid_value)`,
      )
    ).body.value[0] as Json;
  const roleId = async (name: string, unitName?: string) => {
    const units = (await dv("businessunits?$select=businessunitid,name,_parentbusinessunitid_value")).body
      .value as Json[];
    const unit = units.find((u) => (unitName ? u.name === unitName : u._parentbusinessunitid_value === null));
    const roles = await dv(
      `roles?$select=roleid&$filter=name eq '${name}' and _businessunitid_value eq ${unit.businessunitid}`,
    );
    return roles.body.value[0].roleid as string;
  };
  const associate = (userKey: string, roleid: string) =>
    dv(`systemusers(${userKey})/systemuserroles_association/$ref`, {
      method: "POST",
      body: { "@odata.id": `${api}/roles(${roleid})` },
    });

  before(async () => {
    t = await startTestSandbox({ seed: "lived-in", clock: () => clock.ms, faults: { syncDelaySeconds: 0 } });
    const env = t.endpoints.environments[0];
    assert.ok(env);
    api = `${env.dataverseUrl}/api/data/v9.2`;
    token = await t.token(`${env.dataverseUrl}/.default`);
  });
  after(() => t.close());

  it("holds hand-granted roles, a child-unit user, a disabled user with roles and application users", async () => {
    const megan = await userByOid(MEGAN);
    assert.ok(megan.systemuserroles_association.some((r: Json) => r.name === "System Customizer"));
    const alex = await userByOid(ALEX);
    const units = (await dv("businessunits?$select=businessunitid,name")).body.value as Json[];
    assert.equal(units.find((u) => u.businessunitid === alex._businessunitid_value)?.name, "Contoso Europe");
    assert.ok(
      alex.systemuserroles_association.every(
        (r: Json) => r._businessunitid_value === alex._businessunitid_value,
      ),
    );
    const pradeep = await userByOid(PRADEEP);
    assert.equal(pradeep.isdisabled, true);
    assert.ok(pradeep.systemuserroles_association.length >= 2, "disabled, yet still holding roles");
    const apps = (
      await dv("systemusers?$select=fullname,applicationid,accessmode&$filter=applicationid ne null")
    ).body.value as Json[];
    assert.ok(
      apps.some((a) => a.applicationid === t.endpoints.clientId),
      "our own app's application user",
    );
    assert.ok(apps.length >= 4 && apps.every((a) => a.accessmode === 4));
    // Every root role has a copy in each child unit, same name, its own roleid.
    const roles = (await dv("roles?$select=roleid,name,_businessunitid_value,_parentrootroleid_value")).body
      .value as Json[];
    const root = roles.filter((r) => r.roleid === r._parentrootroleid_value);
    for (const r of root) {
      const copies = roles.filter((c) => c._parentrootroleid_value === r.roleid && c.roleid !== r.roleid);
      assert.equal(copies.length, units.length - 1, `${r.name} is copied into every child unit`);
    }
  });

  it("serves an Entra group team with its roles and members", async () => {
    const teams = await dv(
      "teams?$select=name,teamtype,azureactivedirectoryobjectid&$expand=teamroles_association($select=name),teammembership_association($select=domainname)",
    );
    assert.equal(teams.status, 200);
    const approvers = (teams.body.value as Json[]).find((x) => x.name === "Contoso Approvers");
    assert.equal(approvers.teamtype, 2);
    assert.match(approvers.azureactivedirectoryobjectid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      approvers.teamroles_association.map((r: Json) => r.name),
      ["Contoso Finance Reader"],
    );
    assert.deepEqual(
      approvers.teammembership_association.map((m: Json) => m.domainname),
      ["miriam.graham@contoso.example"],
    );
    assert.equal((await dv("teams(00000000-0000-4000-8000-000000000000)")).status, 404);
  });

  it("adds <navigation>@odata.nextLink to every row of a collection $expand; the list is complete and the link pages nothing", async () => {
    // The default, as Dataverse answers.
    {
      const list = await dv("systemusers?$select=fullname&$expand=systemuserroles_association($select=name)");
      const rows = list.body.value as Json[];
      assert.ok(rows.length > 10);
      for (const row of rows) {
        const link = row["systemuserroles_association@odata.nextLink"] as string;
        assert.ok(link, `${row.fullname} has the link`);
        assert.equal(
          link,
          `${api}/systemusers(${row.systemuserid})/systemuserroles_association?$select=name`,
        );
      }
      const withRoles = rows.find((r) => r.systemuserroles_association.length > 1);
      const followed = await dv(withRoles["systemuserroles_association@odata.nextLink"]);
      assert.deepEqual(
        followed.body.value.map((r: Json) => r.name).sort(),
        withRoles.systemuserroles_association.map((r: Json) => r.name).sort(),
        "the link returns the same rows",
      );
      assert.ok(!("@odata.nextLink" in followed.body));
      const single = await dv(
        `systemusers(${withRoles.systemuserid})?$expand=systemuserroles_association($select=name)`,
      );
      assert.ok(!("systemuserroles_association@odata.nextLink" in single.body), "a single-row GET has none");
    }
  });

  it("refuses a role of another business unit with UserInWrongBusiness, unless ownership across units is on", async () => {
    const alex = await userByOid(ALEX);
    const rootMaker = await roleId("Environment Maker");
    const refused = await associate(alex.systemuserid, rootMaker);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "0x80041409");
    assert.match(
      refused.body.error.message,
      /^Cannot associate security role because the security role's Business Unit is not the same as the user's Business Unit\. Details: userid=/,
    );
    assert.equal(
      (await admin("PATCH", `/dataverse/${ENV}/settings`, { recordOwnershipAcrossBusinessUnits: true }))
        .status,
      200,
    );
    try {
      assert.equal((await associate(alex.systemuserid, rootMaker)).status, 204);
    } finally {
      await admin("PATCH", `/dataverse/${ENV}/settings`, { recordOwnershipAcrossBusinessUnits: false });
    }
  });

  it("a caller that is not System Administrator cannot assign a role with more privileges than its own", async () => {
    const set = await admin("PUT", `/dataverse/${ENV}/apps/${t.endpoints.clientId}/roles`, {
      roles: ["Contoso User Administrator"],
    });
    assert.equal(set.status, 200);
    try {
      const lidia = LIDIA;
      const sysadmin = await associate(
        `azureactivedirectoryobjectid=${lidia}`,
        await roleId("System Administrator"),
      );
      assert.equal(sysadmin.status, 403);
      assert.equal(sysadmin.body.error.code, "0x80040220");
      const customizer = await associate(
        `azureactivedirectoryobjectid=${lidia}`,
        await roleId("System Customizer"),
      );
      assert.equal(customizer.status, 403, "System Customizer is reserved to System Administrators");
      assert.equal(await userByOid(lidia), undefined, "a refused assignment creates no user");
      const basic = await associate(`azureactivedirectoryobjectid=${lidia}`, await roleId("Basic User"));
      assert.equal(basic.status, 204, "a role within the caller's own privileges");
    } finally {
      await admin("PUT", `/dataverse/${ENV}/apps/${t.endpoints.clientId}/roles`, {
        roles: ["System Administrator"],
      });
    }
  });

  it("creates an eligible user just in time through the alternate key; an ineligible one is a 404", async () => {
    const created = await associate(
      `azureactivedirectoryobjectid=${LIDIA}`,
      await roleId("Environment Maker"),
    );
    assert.ok([204, 412].includes(created.status), `status ${created.status}`);
    const row = await dv(
      `systemusers(azureactivedirectoryobjectid=${LIDIA})?$expand=systemuserroles_association($select=name)`,
    );
    assert.equal(row.status, 200);
    assert.ok(row.body.systemuserroles_association.some((r: Json) => r.name === "Environment Maker"));
    const refused = await associate(`azureactivedirectoryobjectid=${EVA}`, await roleId("Basic User"));
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, "0x80060891");
  });

  it("counts service protection limits per caller: requests in the window, then concurrency", async () => {
    await admin("PATCH", "/faults", { dataverseLimits: { requestsPerWindow: 3, windowSeconds: 60 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await dv("WhoAmI")).status, 200);
      const limited = await dv("WhoAmI");
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, "0x80072322");
      assert.equal(
        limited.body.error.message,
        "Number of requests exceeded the limit of 3 over time window of 60 seconds.",
      );
      assert.match(limited.headers["retry-after"] ?? "", /^\d+$/, "whole seconds");
      const first = Number(limited.headers["retry-after"]);
      const again = await dv("WhoAmI");
      assert.ok(Number(again.headers["retry-after"]) >= first, "pushing on does not shorten the wait");
      // Another caller has its own budget.
      const other = await admin("POST", "/identity/apps", {
        displayName: "Second caller",
        secret: "Second-secret-1",
      });
      const appId = (other.body as Json).appId as string;
      await admin("PUT", `/dataverse/${ENV}/apps/${appId}/roles`, { roles: ["Basic User"] });
      const second = await t.token(`${t.endpoints.environments[0]?.dataverseUrl}/.default`, {
        clientId: appId,
        clientSecret: "Second-secret-1",
      });
      assert.equal((await dv("WhoAmI", { token: second })).status, 200);
      clock.ms += 61_000;
      assert.equal((await dv("WhoAmI")).status, 200, "the window slid");
    } finally {
      await admin("PATCH", "/faults", { dataverseLimits: { requestsPerWindow: 6000, windowSeconds: 300 } });
    }
    await admin("PATCH", "/faults", {
      dataverseLimits: { concurrentRequests: 1 },
      services: { dataverse: { latencyMs: 300 } },
    });
    try {
      const answers = await Promise.all([dv("WhoAmI"), dv("WhoAmI"), dv("WhoAmI")]);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 429, 429]);
      const refused = answers.find((a) => a.status === 429);
      assert.equal(refused?.body.error.code, "0x80072326");
      assert.equal(refused?.body.error.message, "Number of concurrent requests exceeded the limit of 1.");
    } finally {
      await admin("PATCH", "/faults", {
        dataverseLimits: { concurrentRequests: 52 },
        services: { dataverse: null },
      });
    }
  });
});

describe("Power Platform addUser on the lived-in tenant", () => {
  let t: TestSandbox;
  let token: string;
  let url: string;
  before(async () => {
    t = await startTestSandbox({ seed: "lived-in" });
    token = await t.token("https://service.powerapps.com//.default");
    const id = t.endpoints.environments[0]?.powerPlatformEnvironmentId;
    url = `${t.endpoints.powerPlatformUrl}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${id}/addUser?api-version=2023-06-01`;
  });
  after(() => t.close());

  it("adds a Microsoft 365-only user on demand (free Dataverse plan), which the background sync never does", async () => {
    const env = t.sandbox.state.dataverse[ENV];
    assert.ok(
      !env?.systemUsers.some((u) => u.azureactivedirectoryobjectid === LIDIA),
      "not synced in the background",
    );
    const res = await t.call(url, { method: "POST", token, body: { objectId: LIDIA } });
    assert.equal(res.status, 200);
  });

  it("reports userNotLicensed only inside the message by default, or as the code with that switch off", async () => {
    t.sandbox.setFaults({ fidelity: { notLicensedInMessage: false } });
    try {
      const plain = await t.call(url, { method: "POST", token, body: { objectId: EVA } });
      assert.equal(plain.status, 400);
      assert.equal((plain.body as Json).error.code, "userNotLicensed");
    } finally {
      t.sandbox.setFaults({ fidelity: { notLicensedInMessage: true } });
    }
    {
      const nested = await t.call(url, { method: "POST", token, body: { objectId: EVA } });
      assert.equal(nested.status, 400);
      const error = (nested.body as Json).error;
      assert.equal(error.code, "BadRequest");
      assert.match(nested.text, /userNotLicensed/, "the condition is in the body, inside the message");
      const inner = JSON.parse((error.message as string).replace(/ The tracking Id is .*$/, ""));
      assert.equal(inner.errors[0].code, "userNotLicensed");
    }
  });
});
