/**
 * Contract tests of the sandbox's F&O OData service through the real HTTPS server, with tokens
 * from the unmodified @azure/identity ClientSecretCredential: every route with its success shape
 * and at least one error case, authorization (audience, SysAADClients, 403), and faults.
 * Behaviour per the sources named in sandbox/fno/ and sandbox/fno/README.md.
 */
// The contract of these routes is asserted on the small demo seed, whose numbers it names (seats,
// counts, the app's registration); the lived-in tenant's behaviours have their own *-lived-in tests.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NO_PERMISSIONS_APP_ID } from "../../sandbox/core/tenant.ts";
import { type CallOptions, type CallResult, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response JSON in tests is untyped by nature
type J = any;

let sb: TestSandbox;
let fno: string;
let token: string;

async function odata(path: string, options: CallOptions = {}): Promise<CallResult & { json: J }> {
  const res = await sb.call(`${fno}${path}`, { token, ...options });
  return { ...res, json: res.body as J };
}

before(async () => {
  sb = await startTestSandbox({ seed: "demo" });
  const env = sb.endpoints.environments.find((e) => e.name === "contoso-demo");
  assert.ok(env, "the demo environment exists");
  fno = env.fnoUrl;
  token = await sb.token(`${fno}/.default`);
});

after(async () => {
  await sb?.close();
});

const NEW_USER = {
  UserID: "chloe.martin",
  UserName: "Chloé Martin",
  NetworkDomain: "https://sts.windows.net/",
  UserInfo_language: "en-us",
  Helplanguage: "en-us",
  Alias: "chloe.martin@contoso.example",
  Email: "chloe.martin@contoso.example",
  AccountType: "ClaimsUser",
  Company: "USMF",
  Theme: "Theme1",
  Enabled: true,
};

describe("F&O authorization", () => {
  it("redirects a call without a token to sign-in (302) instead of answering 401", async () => {
    const res = await sb.call(`${fno}/data/SystemUsers`);
    assert.equal(res.status, 302);
    assert.match(res.headers.location ?? "", /^https:\/\/login\.microsoftonline\.com\//);
  });

  it("answers 401 to expired tokens, another service's token and a trailing-slash audience", async () => {
    const expired = await sb.mintToken({ audience: fno, expiresInSeconds: -600 });
    assert.equal((await sb.call(`${fno}/data/SystemUsers`, { token: expired })).status, 401);
    const graph = await sb.token(`${sb.endpoints.graphUrl}/.default`);
    assert.equal((await sb.call(`${fno}/data/SystemUsers`, { token: graph })).status, 401);
    const slash = await sb.mintToken({ audience: `${fno}/` });
    assert.equal((await sb.call(`${fno}/data/SystemUsers`, { token: slash })).status, 401);
  });

  it("answers 401 to a valid token of an app not registered in SysAADClients, until it is registered", async () => {
    const other = await sb.token(`${fno}/.default`, "noPermissions");
    const before = await sb.call(`${fno}/data/SystemUsers`, { token: other });
    assert.equal(before.status, 401);
    assert.equal(before.text, "");
    const reg = await odata("/data/SysAADClients", {
      method: "POST",
      body: { AADClientId: NO_PERMISSIONS_APP_ID, Name: "Integration", UserId: "FRServiceUser" },
    });
    assert.equal(reg.status, 201);
    assert.equal(reg.json.UserId, "FRServiceUser");
    assert.equal((await sb.call(`${fno}/data/SystemUsers`, { token: other })).status, 200);
    const del = await odata(`/data/SysAADClients('${NO_PERMISSIONS_APP_ID}')`, { method: "DELETE" });
    assert.equal(del.status, 204);
    assert.equal((await sb.call(`${fno}/data/SystemUsers`, { token: other })).status, 401);
  });

  it("answers 403 when the registered app's user is not a System administrator", async () => {
    const other = await sb.token(`${fno}/.default`, "noPermissions");
    await odata("/data/SysAADClients", {
      method: "POST",
      body: { AADClientId: NO_PERMISSIONS_APP_ID, Name: "Low rights", UserId: "bruno.keller" },
    });
    const res = await sb.call(`${fno}/data/SystemUsers`, { token: other });
    assert.equal(res.status, 403);
    assert.equal((res.body as J).error.message, "An error has occurred.");
    await odata(`/data/SysAADClients('${NO_PERMISSIONS_APP_ID}')`, { method: "DELETE" });
  });

  it("lists the demo app's registration, and 400s a registration for an unknown user", async () => {
    const res = await odata(`/data/SysAADClients('${sb.endpoints.clientId}')`);
    assert.equal(res.status, 200);
    assert.equal(res.json.UserId, "Admin");
    const bad = await odata("/data/SysAADClients", {
      method: "POST",
      body: { AADClientId: "99999999-2222-3333-4444-555555555555", UserId: "ghost" },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.json.error.innererror.type,
      "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
    );
  });
});

describe("F&O service document and $metadata", () => {
  it("serves the service document and CSDL with keys and enum types", async () => {
    const doc = await odata("/data/");
    assert.equal(doc.status, 200);
    assert.equal(doc.json["@odata.context"], `${fno}/data/$metadata`);
    const sets = doc.json.value.map((s: J) => s.name);
    for (const s of [
      "SystemUsers",
      "SecurityRoles",
      "SecurityUserRoles",
      "SecurityUserRoleAssociations",
      "SecurityUserRoleOrganizations",
      "SysAADClients",
    ]) {
      assert.ok(sets.includes(s), s);
    }
    const meta = await odata("/data/$metadata");
    assert.equal(meta.status, 200);
    assert.match(meta.headers["content-type"] ?? "", /xml/);
    assert.match(meta.text, /<EntityType Name="SystemUser">\s*<Key><PropertyRef Name="UserID" \/><\/Key>/);
    assert.match(meta.text, /<Property Name="Enabled" Type="Edm.Boolean" Nullable="false" \/>/);
    assert.match(meta.text, /<EnumType Name="UserAccountType">/);
  });

  it("answers 501 naming method and path for a set it does not emulate", async () => {
    const res = await odata("/data/CustomersV3");
    assert.equal(res.status, 501);
    assert.match(res.json.error.message, /GET \/data\/CustomersV3/);
  });
});

describe("F&O SystemUsers", () => {
  it("lists users (built-in service users included) and refuses wrongly cased properties", async () => {
    const res = await odata("/data/SystemUsers?$select=UserID,Enabled&$count=true");
    assert.equal(res.status, 200);
    assert.equal(res.json["@odata.context"], `${fno}/data/$metadata#SystemUsers(UserID,Enabled)`);
    const ids = res.json.value.map((u: J) => u.UserID);
    for (const id of ["Admin", "FRServiceUser", "PowerPlatformApp", "adele.vance"])
      assert.ok(ids.includes(id), id);
    assert.equal(res.json["@odata.count"], res.json.value.length);
    const bad = await odata("/data/SystemUsers?$select=UserId");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.innererror.message, /Could not find a property named 'UserId'/);
  });

  it("filters with qualified enum literals and wildcards; 400 for contains(), startswith() and plain enum strings", async () => {
    const claims = await odata(
      "/data/SystemUsers?$filter=AccountType eq Microsoft.Dynamics.DataEntities.UserAccountType'ClaimsUser' and UserID eq 'adele*'",
    );
    assert.equal(claims.status, 200);
    assert.deepEqual(
      claims.json.value.map((u: J) => u.UserID),
      ["adele.vance"],
    );
    for (const filter of [
      "contains(UserID,'adele')",
      "startswith(UserID,'adele')",
      "AccountType eq 'ClaimsUser'",
    ]) {
      const res = await odata(`/data/SystemUsers?$filter=${encodeURIComponent(filter)}`);
      assert.equal(res.status, 400, filter);
      assert.equal(res.json.error.code, "");
    }
  });

  it("creates a user (Enabled given, SYSTEMUSER added), reads it by both key forms, patches and deletes it", async () => {
    const created = await odata("/data/SystemUsers", { method: "POST", body: NEW_USER });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `${fno}/data/SystemUsers('chloe.martin')`);
    assert.equal(created.json.UserName, "Chloé Martin");
    assert.equal(created.json.Enabled, true);
    const roles = await odata("/data/SecurityUserRoles?$filter=UserId eq 'chloe.martin'");
    assert.deepEqual(
      roles.json.value.map((r: J) => r.SecurityRoleIdentifier),
      ["SYSTEMUSER"],
    );
    const byName = await odata("/data/SystemUsers(UserID='chloe.martin')");
    const byShort = await odata("/data/SystemUsers('chloe.martin')");
    assert.deepEqual(byName.json, byShort.json);
    assert.equal(
      (await odata("/data/SystemUsers('chloe.martin')", { method: "PATCH", body: { Enabled: false } }))
        .status,
      204,
    );
    assert.equal((await odata("/data/SystemUsers('chloe.martin')")).json.Enabled, false);
    assert.equal((await odata("/data/SystemUsers(UserID='chloe.martin')", { method: "DELETE" })).status, 204);
    assert.equal((await odata("/data/SystemUsers('chloe.martin')")).status, 404);
  });

  it("defaults Enabled to false and rejects missing language fields, long ids and duplicates", async () => {
    const { Enabled: _e, ...noEnabled } = NEW_USER;
    const created = await odata("/data/SystemUsers", {
      method: "POST",
      body: { ...noEnabled, UserID: "eva.nowak" },
    });
    assert.equal(created.json.Enabled, false);
    const dup = await odata("/data/SystemUsers", {
      method: "POST",
      body: { ...NEW_USER, UserID: "EVA.NOWAK" },
    });
    assert.equal(dup.status, 400);
    const { UserInfo_language: _l, ...noLanguage } = NEW_USER;
    const missing = await odata("/data/SystemUsers", {
      method: "POST",
      body: { ...noLanguage, UserID: "x1" },
    });
    assert.equal(missing.status, 400);
    assert.equal(
      missing.json.error.innererror.message,
      "Write failed for table row of type 'SystemUserEntity'. Infolog: Error: Field 'UserInfo_language' must be filled in.",
    );
    const long = await odata("/data/SystemUsers", {
      method: "POST",
      body: { ...NEW_USER, UserID: "a-very-long-user-id-21" },
    });
    assert.equal(long.status, 400);
    const cased = await odata("/data/SystemUsers", {
      method: "POST",
      body: { ...NEW_USER, UserID: "x2", enabled: true },
    });
    assert.equal(cased.status, 400);
    assert.equal(cased.json.error.innererror.type, "System.Reflection.TargetInvocationException");
  });
});

describe("F&O security roles and assignments", () => {
  it("lists SecurityRoles with AOT identifiers and labels; writes are not emulated", async () => {
    const res = await odata("/data/SecurityRoles?$filter=SecurityRoleIdentifier eq '-SYSADMIN-'");
    assert.equal(res.status, 200);
    assert.equal(res.json.value[0].SecurityRoleName, "System administrator");
    const ap = await odata("/data/SecurityRoles('VENDINVOICEACCOUNTSPAYABLECLERK')");
    assert.equal(ap.json.SecurityRoleName, "Accounts payable clerk");
    assert.equal((await odata("/data/SecurityRoles('NOPE')")).status, 404);
  });

  it("assigns and removes a role through SecurityUserRoles with the composite key in any order", async () => {
    const body = {
      UserId: "diego.ramos",
      SecurityRoleIdentifier: "BUDGETBUDGETCLERK",
      SecurityRoleName: "Budget clerk",
    };
    const created = await odata("/data/SecurityUserRoles", { method: "POST", body });
    assert.equal(created.status, 201);
    assert.equal(created.json.AssignmentStatus, "Enabled");
    assert.equal(created.json.UserLicenseType, "Finance");
    const swapped = await odata(
      "/data/SecurityUserRoles(SecurityRoleIdentifier='BUDGETBUDGETCLERK',UserId='diego.ramos')",
    );
    assert.equal(swapped.status, 200);
    const again = await odata("/data/SecurityUserRoles", { method: "POST", body });
    assert.equal(again.status, 400);
    const unknown = await odata("/data/SecurityUserRoles", {
      method: "POST",
      body: { ...body, SecurityRoleIdentifier: "NOSUCHROLE" },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.innererror.message, /identifier value 'NOSUCHROLE' is not valid/);
    const del = await odata(
      "/data/SecurityUserRoles(UserId='diego.ramos',SecurityRoleIdentifier='BUDGETBUDGETCLERK')",
      {
        method: "DELETE",
      },
    );
    assert.equal(del.status, 204);
    assert.equal((await odata("/data/SecurityUserRoles('diego.ramos')")).status, 400);
  });

  it("writes through SecurityUserRoleAssociations; its DELETE answers 204 but removes nothing", async () => {
    const body = {
      UserId: "diego.ramos",
      SecurityRoleIdentifier: "TRADEBUYINGAGENT",
      SecurityRoleName: "Buying agent",
    };
    const created = await odata("/data/SecurityUserRoleAssociations", { method: "POST", body });
    assert.equal(created.status, 201);
    assert.equal(created.json.UserLicenseType, undefined);
    const key = "(UserId='diego.ramos',SecurityRoleIdentifier='TRADEBUYINGAGENT')";
    assert.equal((await odata(`/data/SecurityUserRoleAssociations${key}`, { method: "DELETE" })).status, 204);
    assert.equal((await odata(`/data/SecurityUserRoles${key}`)).status, 200);
    const noName = await odata("/data/SecurityUserRoleAssociations", {
      method: "POST",
      body: { UserId: "diego.ramos", SecurityRoleIdentifier: "HCMEMPLOYEE" },
    });
    assert.equal(noName.status, 400);
  });

  it("restricts an assignment to a legal entity through the four-part key", async () => {
    const body = {
      UserId: "adele.vance",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      OrganizationType: "LegalEntity",
      OrganizationId: "USMF",
      OperatingUnitType: "None",
    };
    const created = await odata("/data/SecurityUserRoleOrganizations", { method: "POST", body });
    assert.equal(created.status, 201);
    const key = encodeURIComponent(
      "UserId='adele.vance',SecurityRoleIdentifier='LEDGERACCOUNTANT',OrganizationType=Microsoft.Dynamics.DataEntities.OmInternalOrganizationType'LegalEntity',OrganizationId='USMF'",
    );
    const got = await odata(`/data/SecurityUserRoleOrganizations(${key})`);
    assert.equal(got.status, 200);
    assert.equal(got.json.OrganizationId, "USMF");
    const unknownLe = await odata("/data/SecurityUserRoleOrganizations", {
      method: "POST",
      body: { ...body, OrganizationId: "ZZZZ" },
    });
    assert.equal(unknownLe.status, 400);
    assert.equal(
      (await odata(`/data/SecurityUserRoleOrganizations(${key})`, { method: "DELETE" })).status,
      204,
    );
    assert.equal((await odata(`/data/SecurityUserRoleOrganizations(${key})`)).status, 404);
  });
});

describe("F&O company data, paging and faults", () => {
  it("lists legal entities and limits company data to the session company unless cross-company=true", async () => {
    const les = await odata("/data/LegalEntities?$orderby=LegalEntityId");
    assert.ok(["DEMF", "USMF"].every((id) => les.json.value.some((l: J) => l.LegalEntityId === id)));
    const own = await odata("/data/CustomerGroups");
    assert.ok(own.json.value.every((g: J) => g.dataAreaId === "usmf"));
    const all = await odata("/data/CustomerGroups?cross-company=true");
    assert.ok(all.json.value.some((g: J) => g.dataAreaId === "demf"));
    const bad = await odata("/data/CustomerGroups?$filter=DataAreaId eq 'demf'");
    assert.equal(bad.status, 400);
  });

  it("serves SecurityGroups (none imported in the demo) and 404s unknown legal entities", async () => {
    const groups = await odata("/data/SecurityGroups");
    assert.equal(groups.status, 200);
    assert.deepEqual(groups.json.value, []);
    assert.equal((await odata("/data/SecurityGroups?$select=ObjectId")).status, 400);
    assert.equal((await odata("/data/LegalEntities('USMF')")).json.Name, "Contoso Entertainment System USA");
    assert.equal((await odata("/data/LegalEntities('ZZZZ')")).status, 404);
  });

  it("restores the seed on reset", async () => {
    await odata("/data/SystemUsers", { method: "POST", body: { ...NEW_USER, UserID: "nestor.wilke" } });
    assert.equal((await odata("/data/SystemUsers('nestor.wilke')")).status, 200);
    await sb.sandbox.reset();
    assert.equal((await odata("/data/SystemUsers('nestor.wilke')")).status, 404);
    assert.equal((await odata("/data/SystemUsers('Admin')")).status, 200);
  });

  it("pages with $top/$skip and follows @odata.nextLink only when a page is full", async () => {
    const page = await odata("/data/SecurityRoles?$top=5&$skip=5&$orderby=SecurityRoleIdentifier");
    assert.equal(page.json.value.length, 5);
    assert.equal(page.json["@odata.nextLink"], undefined);
    const count = await odata("/data/SecurityRoles/$count");
    assert.equal(count.text, "15");
    const badCount = await odata(
      `/data/SecurityRoles/$count?$filter=${encodeURIComponent("contains(SecurityRoleName,'clerk')")}`,
    );
    assert.equal(badCount.status, 400);
  });

  it("injects 429 with Retry-After in F&O's error shape, then recovers", async () => {
    sb.sandbox.setFaults({ services: { fno: { rate429: 1, retryAfterSeconds: 3 } } });
    try {
      const res = await odata("/data/SystemUsers");
      assert.equal(res.status, 429);
      assert.equal(res.headers["retry-after"], "3");
      assert.equal(res.json.error.message, "An error has occurred.");
    } finally {
      sb.sandbox.setFaults({ services: { fno: null } });
    }
    assert.equal((await odata("/data/SystemUsers?$top=1")).status, 200);
  });

  it("injects 503 in F&O's error shape", async () => {
    sb.sandbox.setFaults({ services: { fno: { rate503: 1 } } });
    try {
      const res = await odata("/data/SecurityRoles");
      assert.equal(res.status, 503);
      assert.equal(typeof res.json.error.innererror.message, "string");
    } finally {
      sb.sandbox.setFaults({ services: { fno: null } });
    }
  });
});
