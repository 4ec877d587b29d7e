/**
 * Unit tests of the F&O service module's `handle()` with hand-built requests (no server): the
 * behaviour clients notice (shapes, keys, query rules, validation, side effects), plus the
 * 10,000-row page cap, which is too slow to exercise over HTTP.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultFaults } from "../../sandbox/core/faults.ts";
import type {
  SandboxRequest,
  SandboxResponse,
  SandboxState,
  ServiceContext,
  TokenClaims,
} from "../../sandbox/core/types.ts";
import { fnoService } from "../../sandbox/fno/index.ts";
import { DEMO_APP_ID, newSystemUserRecord, seedFnoEnvironment } from "../../sandbox/fno/seed.ts";
import type { FnoEnvironmentState } from "../../sandbox/fno/state.ts";

// biome-ignore lint/suspicious/noExplicitAny: response JSON in tests is untyped by nature
type J = any;

const ORIGIN = "https://127.0.0.1:9443";
const ENV = "contoso-demo";

function makeContext(env: FnoEnvironmentState = seedFnoEnvironment()): ServiceContext & { changes: number } {
  const ctx = {
    changes: 0,
    state: { fno: { [ENV]: env } } as unknown as SandboxState,
    changed() {
      ctx.changes++;
    },
    now: () => Date.now(),
    endpoints: {
      tenantId: "72f988bf-0000-4000-8000-00000000c0de",
      authorityHost: "https://127.0.0.1:9000",
      graphUrl: "https://127.0.0.1:9001",
      powerPlatformUrl: "https://127.0.0.1:9002",
      adminUrl: "https://127.0.0.1:9003",
      caCertPath: "/dev/null",
      clientId: DEMO_APP_ID,
      clientSecret: "x",
      environments: [
        {
          name: ENV,
          dataverseUrl: "https://127.0.0.1:9444",
          fnoUrl: ORIGIN,
          powerPlatformEnvironmentId: "e",
        },
      ],
    },
    random: () => 0.5,
    journal: { record: () => undefined },
    faults: { ...defaultFaults(), retryAfterSeconds: 1, syncDelaySeconds: 0 },
  };
  return ctx;
}

function token(appid = DEMO_APP_ID): TokenClaims {
  return { aud: ORIGIN, iss: "x", tid: "t", appid, oid: "o", ver: "1.0", iat: 0, nbf: 0, exp: 0 };
}

async function call(
  ctx: ServiceContext,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  appid?: string,
): Promise<SandboxResponse & { json: J }> {
  const rawBody = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  let parsed: unknown;
  try {
    parsed = rawBody === "" ? undefined : JSON.parse(rawBody);
  } catch {
    parsed = undefined;
  }
  const req: SandboxRequest = {
    method,
    url: new URL(ORIGIN + pathAndQuery),
    headers: {},
    body: parsed,
    rawBody,
    requestId: "r",
    token: token(appid),
    environment: ENV,
  };
  const res = await fnoService.handle(req, ctx);
  return { ...res, json: res.body };
}

const NEW_USER = {
  UserID: "jdoe",
  UserName: "John Doe",
  NetworkDomain: "https://sts.windows.net/",
  UserInfo_language: "en-us",
  Helplanguage: "en-us",
  Alias: "jdoe@contoso.example",
  Email: "jdoe@contoso.example",
  AccountType: "ClaimsUser",
  Company: "USMF",
};

describe("F&O handle(): reads", () => {
  it("lists SystemUsers with context, etags and the built-in service users", async () => {
    const res = await call(makeContext(), "GET", "/data/SystemUsers");
    assert.equal(res.status, 200);
    assert.equal(res.json["@odata.context"], `${ORIGIN}/data/$metadata#SystemUsers`);
    const ids = res.json.value.map((u: J) => u.UserID);
    for (const id of [
      "Admin",
      "FRServiceUser",
      "SysHealthServiceUser",
      "ScaleUnitManagement",
      "PowerPlatformApp",
    ]) {
      assert.ok(ids.includes(id), id);
    }
    const admin = res.json.value.find((u: J) => u.UserID === "Admin");
    assert.match(admin["@odata.etag"], /^W\/"[A-Za-z0-9+/=]+"$/);
    assert.equal(
      Buffer.from(admin["@odata.etag"].slice(3, -1), "base64").toString(),
      `'1,${5637144576 + 20}'`,
    );
    assert.equal(admin.PersonName, "", "unset strings are empty, not null");
  });

  it("gets a user by shorthand, named and differently cased key values", async () => {
    const ctx = makeContext();
    for (const path of [
      "/data/SystemUsers('Admin')",
      "/data/SystemUsers(UserID='Admin')",
      "/data/SystemUsers('ADMIN')",
    ]) {
      const res = await call(ctx, "GET", path);
      assert.equal(res.status, 200, path);
      assert.equal(res.json.UserID, "Admin");
      assert.equal(res.json["@odata.context"], `${ORIGIN}/data/$metadata#SystemUsers/$entity`);
    }
    assert.equal(
      (await call(ctx, "GET", "/data/SystemUsers(UserId='Admin')")).status,
      400,
      "key name is case-sensitive",
    );
    assert.equal((await call(ctx, "GET", "/data/SystemUsers('nobody')")).status, 404);
  });

  it("accepts composite keys in any order and refuses the shorthand on multi-key sets", async () => {
    const ctx = makeContext();
    const a = await call(
      ctx,
      "GET",
      "/data/SecurityUserRoles(UserId='Admin',SecurityRoleIdentifier='-SYSADMIN-')",
    );
    const b = await call(
      ctx,
      "GET",
      "/data/SecurityUserRoles(SecurityRoleIdentifier='-SYSADMIN-',UserId='Admin')",
    );
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, b.json);
    assert.equal(a.json.SecurityRoleName, "System administrator");
    const short = await call(ctx, "GET", "/data/SecurityUserRoles('Admin')");
    assert.equal(short.status, 400);
    assert.equal(short.json.error.innererror.message, "No route data was found for this request.");
  });

  it("serves the four-part organization key with a qualified enum literal", async () => {
    const ctx = makeContext();
    const ok = await call(
      ctx,
      "GET",
      "/data/SecurityUserRoleOrganizations(UserId='bruno.keller',SecurityRoleIdentifier='WHSWAREHOUSEWORKER',OrganizationType=Microsoft.Dynamics.DataEntities.OmInternalOrganizationType'LegalEntity',OrganizationId='DEMF')",
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.json.OrganizationType, "LegalEntity");
    const plain = await call(
      ctx,
      "GET",
      "/data/SecurityUserRoleOrganizations(UserId='bruno.keller',SecurityRoleIdentifier='WHSWAREHOUSEWORKER',OrganizationType='LegalEntity',OrganizationId='DEMF')",
    );
    assert.equal(plain.status, 400);
  });

  it("filters with eq, wildcards, enums and booleans; refuses functions, in, wrong case and plain enum values", async () => {
    const ctx = makeContext();
    const enabled = await call(ctx, "GET", "/data/SystemUsers?$filter=Enabled eq false&$select=UserID");
    assert.deepEqual(enabled.json.value.map((u: J) => u.UserID).sort(), ["Guest"]);
    const wild = await call(ctx, "GET", "/data/SystemUsers?$filter=UserID eq '*service*'&$select=UserID");
    assert.deepEqual(wild.json.value.map((u: J) => u.UserID).sort(), [
      "FRServiceUser",
      "RetailServiceAccount",
      "SysHealthServiceUser",
    ]);
    assert.equal(wild.json["@odata.context"], `${ORIGIN}/data/$metadata#SystemUsers(UserID)`);
    assert.deepEqual(Object.keys(wild.json.value[0]).sort(), ["@odata.etag", "UserID"]);
    const en = await call(
      ctx,
      "GET",
      "/data/SecurityUserRoles?$filter=AssignmentStatus eq Microsoft.Dynamics.DataEntities.RoleAssignmentStatus'Enabled' and UserId eq 'adele.vance'",
    );
    assert.equal(en.status, 200);
    assert.equal(en.json.value.length, 2);
    for (const [q, why] of [
      ["$filter=contains(UserID,'adm')", "contains"],
      ["$filter=startswith(UserID,'adm')", "startswith"],
      ["$filter=UserID in ('Admin')", "in"],
      ["$select=UserId", "wrong case in $select"],
      ["$filter=userid eq 'Admin'", "wrong case in $filter"],
      ["$filter=AccountType eq 'ClaimsUser'", "plain string for an enum"],
      ["$filter=AccountType gt Microsoft.Dynamics.DataEntities.UserAccountType'ADUser'", "gt on an enum"],
      ["$orderby=Username", "wrong case in $orderby"],
      ["$expand=Roles", "unknown navigation"],
    ]) {
      const res = await call(ctx, "GET", `/data/SystemUsers?${q}`);
      assert.equal(res.status, 400, why);
      assert.equal(res.json.error.message, "An error has occurred.");
      assert.equal(typeof res.json.error.innererror.message, "string");
    }
  });

  it("orders, skips, tops and counts", async () => {
    const ctx = makeContext();
    const res = await call(
      ctx,
      "GET",
      "/data/SecurityRoles?$orderby=SecurityRoleIdentifier desc&$top=2&$skip=1&$count=true",
    );
    assert.equal(res.json["@odata.count"], 15);
    assert.equal(res.json.value.length, 2);
    assert.equal(res.json["@odata.nextLink"], undefined);
    const all = await call(ctx, "GET", "/data/SecurityRoles?$orderby=SecurityRoleIdentifier desc");
    assert.deepEqual(
      res.json.value.map((r: J) => r.SecurityRoleIdentifier),
      all.json.value.slice(1, 3).map((r: J) => r.SecurityRoleIdentifier),
    );
    assert.equal(
      (await call(ctx, "POST", "/data/SystemUsers", { ...NEW_USER, AccountType: "ADUser" })).status,
      201,
    );
    const byEnum = await call(
      ctx,
      "GET",
      "/data/SystemUsers?$orderby=AccountType desc,UserID&$select=UserID",
    );
    assert.equal(byEnum.json.value.at(-1).UserID, "jdoe", "ADUser (0) sorts after ClaimsUser (2) descending");
    assert.equal(byEnum.json.value.at(0).UserID, "adele.vance", "then by UserID, case-insensitively");
    const count = await call(ctx, "GET", "/data/SystemUsers/$count?$filter=Enabled eq true");
    assert.equal(count.body, "9");
  });

  it("caps pages at 10,000 rows and continues with @odata.nextLink", async () => {
    const env = seedFnoEnvironment();
    for (let i = 0; i < 10_050; i++) {
      env.users.push(newSystemUserRecord(env.nextRecId++, { UserID: `bulk${String(i).padStart(5, "0")}` }));
    }
    const ctx = makeContext(env);
    const first = await call(ctx, "GET", "/data/SystemUsers?$select=UserID&$count=true");
    assert.equal(first.json.value.length, 10_000);
    assert.equal(first.json["@odata.count"], 10_060);
    const next = new URL(first.json["@odata.nextLink"]);
    assert.equal(next.searchParams.get("$skip"), "10000");
    assert.equal(next.searchParams.get("$select"), "UserID");
    const second = await call(ctx, "GET", next.pathname + next.search);
    assert.equal(second.json.value.length, 60);
    assert.equal(second.json["@odata.nextLink"], undefined);
    const topped = await call(ctx, "GET", "/data/SystemUsers?$top=10020");
    assert.equal(topped.json.value.length, 10_000);
    assert.equal(new URL(topped.json["@odata.nextLink"]).searchParams.get("$top"), "20");
  });

  it("limits company-specific data to the session company unless cross-company=true", async () => {
    const ctx = makeContext();
    const own = await call(ctx, "GET", "/data/CustomerGroups");
    assert.deepEqual([...new Set(own.json.value.map((g: J) => g.dataAreaId))], ["usmf"]);
    const all = await call(
      ctx,
      "GET",
      "/data/CustomerGroups?cross-company=true&$filter=dataAreaId eq 'demf'",
    );
    assert.equal(all.json.value.length, 2);
    const users = await call(ctx, "GET", "/data/SystemUsers?cross-company=true");
    const usersPlain = await call(ctx, "GET", "/data/SystemUsers");
    assert.equal(users.json.value.length, usersPlain.json.value.length, "shared sets ignore cross-company");
  });

  it("publishes $metadata with sets, keys and enum types, and a service document", async () => {
    const ctx = makeContext();
    const meta = await call(ctx, "GET", "/data/$metadata");
    assert.equal(meta.status, 200);
    const xml = String(meta.body);
    assert.match(xml, /<Schema Namespace="Microsoft\.Dynamics\.DataEntities"/);
    assert.match(
      xml,
      /<EntitySet Name="SecurityUserRoleOrganizations" EntityType="Microsoft\.Dynamics\.DataEntities\.SecurityUserRoleOrganization" \/>/,
    );
    assert.match(
      xml,
      /<EnumType Name="NoYes">\s*<Member Name="No" Value="0" \/>\s*<Member Name="Yes" Value="1" \/>/,
    );
    assert.match(
      xml,
      /<Key><PropertyRef Name="UserId" \/><PropertyRef Name="SecurityRoleIdentifier" \/><\/Key>/,
    );
    const doc = await call(ctx, "GET", "/data/");
    assert.ok(doc.json.value.some((s: J) => s.name === "SysAADClients" && s.kind === "EntitySet"));
  });
});

describe("F&O handle(): writes", () => {
  it("creates a user with defaults, the automatic SYSTEMUSER role and a Location", async () => {
    const ctx = makeContext();
    const { Company: _c, ...withoutCompany } = NEW_USER;
    const res = await call(ctx, "POST", "/data/SystemUsers", withoutCompany);
    assert.equal(res.status, 201);
    assert.equal(res.json.Enabled, false, "Enabled defaults to false");
    assert.equal(res.json.Company, "USMF", "company defaults to the session (Admin) company");
    assert.equal(res.headers?.location, `${ORIGIN}/data/SystemUsers('jdoe')`);
    assert.equal(ctx.changes, 1);
    const roles = await call(ctx, "GET", "/data/SecurityUserRoles?$filter=UserId eq 'jdoe'");
    assert.deepEqual(
      roles.json.value.map((r: J) => [r.SecurityRoleIdentifier, r.AssignmentStatus]),
      [["SYSTEMUSER", "Enabled"]],
    );
  });

  it("rejects missing mandatory fields with the AxODataWriteException infolog", async () => {
    const ctx = makeContext();
    const { UserInfo_language: _l, Helplanguage: _h, ...body } = NEW_USER;
    const res = await call(ctx, "POST", "/data/SystemUsers", body);
    assert.equal(res.status, 400);
    assert.equal(
      res.json.error.innererror.type,
      "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
    );
    assert.equal(
      res.json.error.innererror.message,
      "Write failed for table row of type 'SystemUserEntity'. Infolog: Error: Field 'UserInfo_language' must be filled in.; Field 'Helplanguage' must be filled in.",
    );
  });

  it("rejects a UserID over 20 characters, duplicates (any case) and wrongly cased body properties", async () => {
    const ctx = makeContext();
    const long = await call(ctx, "POST", "/data/SystemUsers", { ...NEW_USER, UserID: "a".repeat(21) });
    assert.equal(long.status, 400);
    assert.match(long.json.error.innererror.message, /UserID/);
    assert.equal(
      (await call(ctx, "POST", "/data/SystemUsers", { ...NEW_USER, UserID: "a".repeat(20) })).status,
      201,
    );
    const dup = await call(ctx, "POST", "/data/SystemUsers", { ...NEW_USER, UserID: "ADMIN" });
    assert.equal(dup.status, 400);
    assert.match(dup.json.error.innererror.message, /already exists/);
    const cased = await call(ctx, "POST", "/data/SystemUsers", {
      ...NEW_USER,
      userid: "x",
      UserID: undefined,
    });
    assert.equal(cased.status, 400);
    assert.equal(cased.json.error.innererror.type, "System.Reflection.TargetInvocationException");
    const badEnum = await call(ctx, "POST", "/data/SystemUsers", { ...NEW_USER, AccountType: "Claims" });
    assert.equal(badEnum.status, 400);
    const notJson = await call(ctx, "POST", "/data/SystemUsers", "{not json");
    assert.equal(notJson.json.error.innererror.type, "System.Reflection.TargetInvocationException");
  });

  it("patches and deletes users; deleting cascades role rows", async () => {
    const ctx = makeContext();
    await call(ctx, "POST", "/data/SystemUsers", NEW_USER);
    assert.equal((await call(ctx, "PATCH", "/data/SystemUsers('jdoe')", { Enabled: true })).status, 204);
    const got = await call(ctx, "GET", "/data/SystemUsers(UserID='jdoe')");
    assert.equal(got.json.Enabled, true);
    assert.equal(Buffer.from(got.json["@odata.etag"].slice(3, -1), "base64").toString().slice(0, 3), "'2,");
    assert.equal((await call(ctx, "PATCH", "/data/SystemUsers('jdoe')", { UserID: "other" })).status, 400);
    assert.equal((await call(ctx, "DELETE", "/data/SystemUsers(UserID='jdoe')")).status, 204);
    assert.equal((await call(ctx, "GET", "/data/SystemUsers('jdoe')")).status, 404);
    const roles = await call(ctx, "GET", "/data/SecurityUserRoles?$filter=UserId eq 'jdoe'");
    assert.equal(roles.json.value.length, 0);
  });

  it("assigns roles on both sets, requiring a valid SecurityRoleName, and refuses duplicates and unknown roles", async () => {
    const ctx = makeContext();
    await call(ctx, "POST", "/data/SystemUsers", NEW_USER);
    const noName = await call(ctx, "POST", "/data/SecurityUserRoles", {
      UserId: "jdoe",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
    });
    assert.equal(noName.status, 400);
    assert.match(
      noName.json.error.innererror.message,
      /Security role '' with identifier value 'LEDGERACCOUNTANT' is not valid/,
    );
    const unknown = await call(ctx, "POST", "/data/SecurityUserRoles", {
      UserId: "jdoe",
      SecurityRoleIdentifier: "NOSUCHROLE",
      SecurityRoleName: "No such role",
    });
    assert.equal(unknown.status, 400);
    const ok = await call(ctx, "POST", "/data/SecurityUserRoles", {
      UserId: "jdoe",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      SecurityRoleName: "Accountant",
      AssignmentStatus: "Enabled",
      AssignmentMode: "Manual",
      UserLicenseType: "Enterprise",
    });
    assert.equal(ok.status, 201);
    assert.equal(
      ok.headers?.location,
      `${ORIGIN}/data/SecurityUserRoles(UserId='jdoe',SecurityRoleIdentifier='LEDGERACCOUNTANT')`,
    );
    const dup = await call(ctx, "POST", "/data/SecurityUserRoleAssociations", {
      UserId: "jdoe",
      SecurityRoleIdentifier: "ledgeraccountant",
      SecurityRoleName: "Accountant",
    });
    assert.equal(dup.status, 400);
    const viaAssoc = await call(ctx, "POST", "/data/SecurityUserRoleAssociations", {
      UserId: "jdoe",
      SecurityRoleIdentifier: "BUDGETBUDGETCLERK",
      SecurityRoleName: "Budget clerk",
    });
    assert.equal(viaAssoc.status, 201);
    const noUser = await call(ctx, "POST", "/data/SecurityUserRoles", {
      UserId: "ghost",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      SecurityRoleName: "Accountant",
    });
    assert.equal(noUser.status, 400);
  });

  it("ignores DELETE on SecurityUserRoleAssociations but honours it on SecurityUserRoles", async () => {
    const ctx = makeContext();
    const key = "(UserId='adele.vance',SecurityRoleIdentifier='LEDGERACCOUNTANT')";
    assert.equal((await call(ctx, "DELETE", `/data/SecurityUserRoleAssociations${key}`)).status, 204);
    assert.equal((await call(ctx, "GET", `/data/SecurityUserRoles${key}`)).status, 200);
    assert.equal(
      (await call(ctx, "PATCH", `/data/SecurityUserRoleAssociations${key}`, { AssignmentStatus: "Disabled" }))
        .status,
      204,
    );
    assert.equal((await call(ctx, "GET", `/data/SecurityUserRoles${key}`)).json.AssignmentStatus, "Disabled");
    assert.equal((await call(ctx, "DELETE", `/data/SecurityUserRoles${key}`)).status, 204);
    assert.equal((await call(ctx, "GET", `/data/SecurityUserRoles${key}`)).status, 404);
  });

  it("restricts roles to organizations that exist, for assigned roles only", async () => {
    const ctx = makeContext();
    const base = {
      UserId: "adele.vance",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      OrganizationType: "LegalEntity",
    };
    const ok = await call(ctx, "POST", "/data/SecurityUserRoleOrganizations", {
      ...base,
      OrganizationId: "usmf",
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.OrganizationId, "USMF");
    assert.equal(
      (await call(ctx, "POST", "/data/SecurityUserRoleOrganizations", { ...base, OrganizationId: "XXXX" }))
        .status,
      400,
    );
    const unassigned = await call(ctx, "POST", "/data/SecurityUserRoleOrganizations", {
      ...base,
      SecurityRoleIdentifier: "LEDGERACCOUNTINGMANAGER",
      OrganizationId: "USMF",
    });
    assert.equal(unassigned.status, 400);
  });

  it("registers applications in SysAADClients; unregistered apps get 401", async () => {
    const ctx = makeContext();
    const other = "11111111-2222-3333-4444-555555555555";
    assert.equal((await call(ctx, "GET", "/data/SystemUsers", undefined, other)).status, 401);
    const reg = await call(ctx, "POST", "/data/SysAADClients", {
      AADClientId: other,
      Name: "Other",
      UserId: "FRServiceUser",
    });
    assert.equal(reg.status, 201);
    assert.equal((await call(ctx, "GET", "/data/SystemUsers", undefined, other)).status, 200);
    const badUser = await call(ctx, "POST", "/data/SysAADClients", {
      AADClientId: "22222222-2222-3333-4444-555555555555",
      UserId: "ghost",
    });
    assert.equal(badUser.status, 400);
  });

  it("answers 401 once the app's mapped user is disabled", async () => {
    const ctx = makeContext();
    assert.equal((await call(ctx, "PATCH", "/data/SystemUsers('Admin')", { Enabled: false })).status, 204);
    const res = await call(ctx, "GET", "/data/SystemUsers");
    assert.equal(res.status, 401);
    assert.equal(res.body, undefined);
  });

  it("answers 403 when the app's F&O user is not a System administrator", async () => {
    const ctx = makeContext();
    const patch = await call(ctx, "PATCH", `/data/SysAADClients('${DEMO_APP_ID}')`, {
      UserId: "bruno.keller",
    });
    assert.equal(patch.status, 204);
    const denied = await call(ctx, "GET", "/data/SystemUsers");
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.message, "An error has occurred.");
    assert.equal((await call(ctx, "GET", "/data/LegalEntities")).status, 200);
  });

  it("answers 501 for sets and methods it does not emulate, 404 for a wrongly cased set", async () => {
    const ctx = makeContext();
    const res = await call(ctx, "GET", "/data/CustomersV3");
    assert.equal(res.status, 501);
    assert.match(res.json.error.message, /GET \/data\/CustomersV3/);
    assert.equal((await call(ctx, "GET", "/data/systemusers")).status, 404);
    assert.equal(
      (await call(ctx, "POST", "/data/SecurityRoles", { SecurityRoleIdentifier: "X" })).status,
      501,
    );
  });
});

describe("F&O module: auth and faults", () => {
  const req = { url: new URL(`${ORIGIN}/data/SystemUsers`) } as SandboxRequest;
  it("redirects a call without a token to sign-in and answers 401 to a bad token", () => {
    const missing = fnoService.unauthorized({ kind: "missing" }, req);
    assert.equal(missing.status, 302);
    assert.match(missing.headers?.location ?? "", /^https:\/\/login\.microsoftonline\.com\//);
    assert.equal(fnoService.unauthorized({ kind: "expired" }, req).status, 401);
  });
  it("accepts only the environment's own origin as audience", () => {
    assert.deepEqual(fnoService.audiences(makeContext(), ENV), [ORIGIN]);
    assert.deepEqual(fnoService.audiences(makeContext(), "other"), []);
  });
  it("throttles with Retry-After", () => {
    const res = fnoService.throttled(7, req);
    assert.equal(res.status, 429);
    assert.equal(res.headers?.["retry-after"], "7");
  });
});
