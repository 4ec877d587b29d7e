// The contract of these routes is asserted on the small demo seed, whose numbers it names (seats,
// counts, the app's registration); the lived-in tenant's behaviours have their own *-lived-in tests.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  SKU_FINANCE,
  SKU_OPERATIONS_ACTIVITY,
  SKU_TEAM_MEMBERS,
  TEAM_MEMBERS_GROUP_ID,
} from "../../sandbox/graph/seed.ts";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

type Json = Record<string, unknown>;
const ADELE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51";
const BRUNO = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a52";
const CHLOE_UPN = "chloe.martin@contoso.example";
const EVA = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a55";

describe("sandbox Graph v1.0", () => {
  let t: TestSandbox;
  let token: string;
  let g: string;
  const errorCode = (body: unknown) => ((body as Json).error as Json).code;
  const errorMessage = (body: unknown) => ((body as Json).error as Json).message as string;
  const get = (path: string, headers?: Record<string, string>) =>
    t.call(`${g}/v1.0${path}`, { token, ...(headers ? { headers } : {}) });
  const send = (method: string, path: string, body: unknown) =>
    t.call(`${g}/v1.0${path}`, { method, token, body });

  before(async () => {
    t = await startTestSandbox({ seed: "demo" });
    g = t.endpoints.graphUrl;
    token = await t.token(`${g}/.default`);
  });
  after(() => t.close());

  describe("authorization", () => {
    it("401 InvalidAuthenticationToken without a token, with Microsoft's message", async () => {
      const res = await t.call(`${g}/v1.0/users`);
      assert.equal(res.status, 401);
      assert.equal(errorCode(res.body), "InvalidAuthenticationToken");
      assert.equal(errorMessage(res.body), "Access token is empty.");
      assert.ok(((res.body as Json).error as Json).innerError);
    });
    it("401 for an expired token and for another resource's token", async () => {
      const expired = await t.mintToken({ audience: g, expiresInSeconds: -10 });
      const res = await t.call(`${g}/v1.0/users`, { token: expired });
      assert.equal(res.status, 401);
      assert.equal(errorMessage(res.body), "Lifetime validation failed, the token is expired.");
      const env = t.endpoints.environments[0];
      assert.ok(env);
      const other = await t.token(`${env.dataverseUrl}/.default`);
      const wrong = await t.call(`${g}/v1.0/users`, { token: other });
      assert.equal(wrong.status, 401);
      assert.equal(errorMessage(wrong.body), "Access token validation failure. Invalid audience.");
    });
    it("accepts a token whose audience is Graph's app id", async () => {
      const byAppId = await t.token("00000003-0000-0000-c000-000000000000/.default");
      assert.equal((await t.call(`${g}/v1.0/users`, { token: byAppId })).status, 200);
    });
    it("403 Authorization_RequestDenied for an app without Graph permissions", async () => {
      const weak = await t.token(`${g}/.default`, "noPermissions");
      for (const res of [
        await t.call(`${g}/v1.0/users`, { token: weak }),
        await t.call(`${g}/v1.0/subscribedSkus`, { token: weak }),
        await t.call(`${g}/v1.0/users/${ADELE}/assignLicense`, {
          method: "POST",
          token: weak,
          body: { addLicenses: [], removeLicenses: [SKU_FINANCE] },
        }),
      ]) {
        assert.equal(res.status, 403);
        assert.equal(errorCode(res.body), "Authorization_RequestDenied");
      }
    });
    it("501 naming method and path for an unrouted request", async () => {
      const res = await get("/groups");
      assert.equal(res.status, 501);
      assert.match(errorMessage(res.body), /GET \/v1\.0\/groups/);
    });
  });

  describe("users", () => {
    it("lists with the default property set, paging by @odata.nextLink", async () => {
      const first = await get("/users?$top=2");
      assert.equal(first.status, 200);
      const body = first.body as Json;
      assert.match(body["@odata.context"] as string, /\$metadata#users$/);
      const page = body.value as Json[];
      assert.equal(page.length, 2);
      assert.ok(!("accountEnabled" in (page[0] as Json)), "accountEnabled is $select-only");
      assert.ok("userPrincipalName" in (page[0] as Json));
      const seen = page.map((u) => u.id);
      let next = body["@odata.nextLink"] as string | undefined;
      while (next) {
        const res = await t.call(next, { token });
        seen.push(...((res.body as Json).value as Json[]).map((u) => u.id));
        next = (res.body as Json)["@odata.nextLink"] as string | undefined;
      }
      assert.equal(new Set(seen).size, seen.length);
      assert.ok(seen.length >= 5);
    });
    it("filters with eq and startsWith, selects properties", async () => {
      const res = await get(
        `/users?$filter=${encodeURIComponent("startsWith(displayName,'adele') or userPrincipalName eq 'BRUNO.KELLER@contoso.example'")}&$select=id,accountEnabled`,
      );
      assert.equal(res.status, 200);
      const ids = ((res.body as Json).value as Json[]).map((u) => u.id).sort();
      assert.deepEqual(ids, [ADELE, BRUNO]);
      assert.deepEqual(Object.keys(((res.body as Json).value as Json[])[0] as Json).sort(), [
        "accountEnabled",
        "id",
      ]);
    });
    it("refuses advanced operators without ConsistencyLevel and $count, and $top out of range", async () => {
      const ne = await get(`/users?$filter=${encodeURIComponent("accountEnabled ne true")}`);
      assert.equal(ne.status, 400);
      assert.equal(errorCode(ne.body), "Request_UnsupportedQuery");
      const top = await get("/users?$top=1000");
      assert.equal(top.status, 400);
      assert.match(errorMessage(top.body), /Must be between 1 and 999/);
      const unknown = await get(`/users?$filter=${encodeURIComponent("favoriteColor eq 'red'")}`);
      assert.equal(unknown.status, 400);
    });
    it("counts with ConsistencyLevel: eventual and ignores $count without it", async () => {
      const advanced = await get(
        `/users?$count=true&$filter=${encodeURIComponent("accountEnabled ne true")}`,
        { ConsistencyLevel: "eventual" },
      );
      assert.equal(advanced.status, 200);
      assert.equal((advanced.body as Json)["@odata.count"], 1);
      const plain = await get("/users?$count=true");
      assert.equal(plain.status, 200);
      assert.ok(!("@odata.count" in (plain.body as Json)));
      const segment = await get("/users/$count");
      assert.equal(segment.status, 400);
    });
    it("gets by id and by UPN; 404 Request_ResourceNotFound for an unknown one", async () => {
      const byUpn = await get(`/users/${encodeURIComponent(CHLOE_UPN)}`);
      assert.equal(byUpn.status, 200);
      assert.equal((byUpn.body as Json).displayName, "Chloé Martin");
      const byId = await get(`/users/${ADELE}`);
      assert.equal((byId.body as Json).userPrincipalName, "adele.vance@contoso.example");
      const missing = await get("/users/00000000-0000-4000-8000-000000000000");
      assert.equal(missing.status, 404);
      assert.equal(errorCode(missing.body), "Request_ResourceNotFound");
      assert.match(
        errorMessage(missing.body),
        /does not exist or one of its queried reference-property objects are not present/,
      );
    });
    it("creates (201), refuses a duplicate UPN and an unverified domain, patches (204), deletes (204)", async () => {
      const body = {
        accountEnabled: true,
        displayName: "Fiona Test",
        mailNickname: "fiona.test",
        userPrincipalName: "fiona.test@contoso.example",
        passwordProfile: { forceChangePasswordNextSignIn: true, password: "Sandbox-Passw0rd!" },
      };
      const created = await send("POST", "/users", body);
      assert.equal(created.status, 201);
      const id = (created.body as Json).id as string;
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.match((created.body as Json)["@odata.context"] as string, /#users\/\$entity$/);
      assert.ok(!JSON.stringify(created.body).includes("Sandbox-Passw0rd!"), "the password is never echoed");
      const duplicate = await send("POST", "/users", body);
      assert.equal(duplicate.status, 400);
      assert.deepEqual(((duplicate.body as Json).error as Json).details, [
        { target: "userPrincipalName", code: "ObjectConflict" },
      ]);
      const foreign = await send("POST", "/users", { ...body, userPrincipalName: "x@fabrikam.example" });
      assert.equal(foreign.status, 400);
      const missing = await send("POST", "/users", {
        ...body,
        mailNickname: undefined,
        userPrincipalName: "y@contoso.example",
      });
      assert.equal(missing.status, 400);
      const patched = await send("PATCH", `/users/${id}`, { usageLocation: "NL", jobTitle: "Tester" });
      assert.equal(patched.status, 204);
      const read = await get(`/users/${id}?$select=usageLocation,jobTitle`);
      assert.equal((read.body as Json).usageLocation, "NL");
      const unset = await send("PATCH", `/users/${id}`, { usageLocation: null });
      assert.equal(unset.status, 400, "usageLocation cannot go back to null");
      assert.equal((await t.call(`${g}/v1.0/users/${id}`, { method: "DELETE", token })).status, 204);
      assert.equal((await get(`/users/${id}`)).status, 404);
    });
  });

  describe("licenses", () => {
    it("subscribedSkus carries real skuIds, id = tenant_sku and seat counts; $filter refused", async () => {
      const res = await get("/subscribedSkus");
      assert.equal(res.status, 200);
      const skus = (res.body as Json).value as Json[];
      const finance = skus.find((s) => s.skuPartNumber === "DYN365_FINANCE");
      assert.ok(finance);
      assert.equal(finance.skuId, SKU_FINANCE);
      assert.equal(finance.id, `${t.endpoints.tenantId}_${SKU_FINANCE}`);
      assert.equal(finance.consumedUnits, 1);
      assert.deepEqual(finance.prepaidUnits, { enabled: 5, suspended: 0, warning: 0, lockedOut: 0 });
      assert.ok((finance.servicePlans as Json[]).some((p) => p.servicePlanName === "DYN365_CDS_FINANCE"));
      const filtered = await get(
        `/subscribedSkus?$filter=${encodeURIComponent("skuPartNumber eq 'DYN365_FINANCE'")}`,
      );
      assert.equal(filtered.status, 400);
    });
    it("licenseAssignmentStates tell direct from group-inherited; licenseDetails lists both", async () => {
      const res = await get(`/users/${BRUNO}?$select=id,assignedLicenses,licenseAssignmentStates`);
      const states = (res.body as Json).licenseAssignmentStates as Json[];
      assert.equal(states.length, 1);
      assert.equal(states[0]?.assignedByGroup, TEAM_MEMBERS_GROUP_ID);
      assert.equal(((res.body as Json).assignedLicenses as Json[])[0]?.skuId, SKU_TEAM_MEMBERS);
      const adele = await get(`/users/${ADELE}?$select=licenseAssignmentStates`);
      assert.equal(((adele.body as Json).licenseAssignmentStates as Json[])[0]?.assignedByGroup, null);
      const details = await get(`/users/${BRUNO}/licenseDetails`);
      assert.equal(details.status, 200);
      const row = ((details.body as Json).value as Json[])[0] as Json;
      assert.equal(row.skuPartNumber, "DYN365_ENTERPRISE_TEAM_MEMBERS");
      assert.ok((row.servicePlans as Json[]).every((p) => p.provisioningStatus === "Success"));
      assert.equal((await get("/users/nobody@contoso.example/licenseDetails")).status, 404);
    });
    it("assignLicense adds with disabledPlans, upserts, removes, and refuses an inherited removal", async () => {
      const cdsFinance = "e95d7060-d4d9-400a-a2bd-a244bf0b609e";
      const added = await send("POST", `/users/${encodeURIComponent(CHLOE_UPN)}/assignLicense`, {
        addLicenses: [{ skuId: SKU_FINANCE.toUpperCase(), disabledPlans: [cdsFinance] }],
        removeLicenses: [],
      });
      assert.equal(added.status, 200);
      assert.deepEqual((added.body as Json).assignedLicenses, [
        { skuId: SKU_FINANCE, disabledPlans: [cdsFinance] },
      ]);
      const details = await get(`/users/${encodeURIComponent(CHLOE_UPN)}/licenseDetails`);
      const firstRow = ((details.body as Json).value as Json[])[0] as Json;
      const plan = (firstRow.servicePlans as Json[]).find((p) => p.servicePlanId === cdsFinance);
      assert.equal(plan?.provisioningStatus, "Disabled");
      const upsert = await send("POST", `/users/${encodeURIComponent(CHLOE_UPN)}/assignLicense`, {
        addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [] }],
        removeLicenses: [],
      });
      assert.deepEqual((upsert.body as Json).assignedLicenses, [{ skuId: SKU_FINANCE, disabledPlans: [] }]);
      const removed = await send("POST", `/users/${encodeURIComponent(CHLOE_UPN)}/assignLicense`, {
        addLicenses: [],
        removeLicenses: [SKU_FINANCE],
      });
      assert.equal(removed.status, 200);
      assert.deepEqual((removed.body as Json).assignedLicenses, []);
      const inherited = await send("POST", `/users/${BRUNO}/assignLicense`, {
        addLicenses: [],
        removeLicenses: [SKU_TEAM_MEMBERS],
      });
      assert.equal(inherited.status, 400);
      assert.match(errorMessage(inherited.body), /inherited from a group/);
    });
    it("assignLicense errors: usage location, unknown SKU, missing parameter, empty change, non-GUID", async () => {
      const noLocation = await send("POST", `/users/${EVA}/assignLicense`, {
        addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [] }],
        removeLicenses: [],
      });
      assert.equal(noLocation.status, 400);
      assert.equal(
        errorMessage(noLocation.body),
        "License assignment cannot be done for user with invalid usage location.",
      );
      const unknown = await send("POST", `/users/${ADELE}/assignLicense`, {
        addLicenses: [{ skuId: "00000000-0000-4000-8000-000000000001", disabledPlans: [] }],
        removeLicenses: [],
      });
      assert.equal(unknown.status, 400);
      assert.match(errorMessage(unknown.body), /does not correspond to a valid company License/);
      const missing = await send("POST", `/users/${ADELE}/assignLicense`, { addLicenses: [] });
      assert.equal(missing.status, 400);
      assert.match(errorMessage(missing.body), /The missing parameters are: removeLicenses\./);
      const empty = await send("POST", `/users/${ADELE}/assignLicense`, {
        addLicenses: [],
        removeLicenses: [],
      });
      assert.equal(empty.status, 400);
      const notGuid = await send("POST", `/users/${ADELE}/assignLicense`, {
        addLicenses: [{ skuId: "DYN365_FINANCE" }],
        removeLicenses: [],
      });
      assert.equal(notGuid.status, 400);
      assert.match(errorMessage(notGuid.body), /Edm\.Guid/);
    });
    it("assignLicense refuses when the subscription has no free seat", async () => {
      // Operations – Activity: 2 seats, one held by Diego.
      const first = await send("POST", `/users/${ADELE}/assignLicense`, {
        addLicenses: [{ skuId: SKU_OPERATIONS_ACTIVITY, disabledPlans: [] }],
        removeLicenses: [],
      });
      assert.equal(first.status, 200);
      const second = await send("POST", `/users/${BRUNO}/assignLicense`, {
        addLicenses: [{ skuId: SKU_OPERATIONS_ACTIVITY, disabledPlans: [] }],
        removeLicenses: [],
      });
      assert.equal(second.status, 400);
      assert.equal(errorCode(second.body), "Request_BadRequest");
      assert.match(errorMessage(second.body), /does not have any available licenses\.$/);
      const skus = await get("/subscribedSkus");
      const activity = ((skus.body as Json).value as Json[]).find((s) => s.skuId === SKU_OPERATIONS_ACTIVITY);
      assert.equal(activity?.consumedUnits, 2);
    });
  });

  describe("$batch", () => {
    it("runs requests with dependsOn; a dependant of a failure gets 424", async () => {
      const res = await send("POST", "/$batch", {
        requests: [
          { id: "1", method: "GET", url: `/users/${ADELE}?$select=id` },
          { id: "2", method: "GET", url: "users/missing@contoso.example", dependsOn: ["1"] },
          { id: "3", method: "GET", url: "/subscribedSkus", dependsOn: ["2"] },
        ],
      });
      assert.equal(res.status, 200);
      const byId = new Map(((res.body as Json).responses as Json[]).map((r) => [r.id, r]));
      assert.equal(byId.get("1")?.status, 200);
      assert.equal(((byId.get("1") as Json).body as Json).id, ADELE);
      assert.equal(byId.get("2")?.status, 404);
      assert.equal(byId.get("3")?.status, 424);
    });
    it("refuses more than 20 requests and duplicate ids", async () => {
      const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: "GET", url: "/users" }));
      assert.equal((await send("POST", "/$batch", { requests: many })).status, 400);
      const dup = [
        { id: "a", method: "GET", url: "/users" },
        { id: "A", method: "GET", url: "/users" },
      ];
      assert.equal((await send("POST", "/$batch", { requests: dup })).status, 400);
    });
  });
});
