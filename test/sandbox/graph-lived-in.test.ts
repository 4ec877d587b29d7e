/**
 * Graph as a tenant in daily use answers it (the lived-in seed): eventual consistency, synced
 * users, privileged users, group licences in error, guests, disabled plans outside the SKU, and
 * the documented errors for invalid query options. Each behaviour: the success shape and the
 * real error. The clock is injected, so the consistency lags are exact and fast.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SKU_FINANCE } from "../../sandbox/graph/seed.ts";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;

const ADMIN_UPN = "admin@contoso.example";
const JOHANNA_UPN = "johanna.lorenz@contoso.example";
const ISAIAH = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a04";
const GUEST_UPN = "grady.archie_fabrikam.example#EXT#@contoso.example";
const E5_PLAN_TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929";

describe("Graph on the lived-in tenant", () => {
  let t: TestSandbox;
  let token: string;
  const clock = { ms: Date.parse("2026-05-04T08:00:00Z") };
  const g = () => `${t.endpoints.graphUrl}/v1.0`;
  const get = async (path: string, headers?: Record<string, string>) => {
    const res = await t.call(`${g()}${path}`, { token, ...(headers ? { headers } : {}) });
    return { ...res, body: res.body as Json };
  };
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await t.call(`${g()}${path}`, { method, token, ...(body === undefined ? {} : { body }) });
    return { ...res, body: res.body as Json };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(`${t.endpoints.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body }) });

  before(async () => {
    t = await startTestSandbox({ seed: "lived-in", clock: () => clock.ms });
    token = await t.token(`${t.endpoints.graphUrl}/.default`);
  });
  after(() => t.close());

  describe("eventual consistency", () => {
    it("delays default to 0 and are settable through the admin API (and at start)", async () => {
      const faults = (await admin("GET", "/faults")).body as Json;
      assert.equal(faults.graphNewUserDelaySeconds, 0);
      assert.equal(faults.graphPropertyDelaySeconds, 0);
      const bad = await admin("PATCH", "/faults", { graphNewUserDelaySeconds: -1 });
      assert.equal(bad.status, 400);
      const started = await startTestSandbox({ faults: { graphPropertyDelaySeconds: 3 } });
      try {
        assert.equal(started.sandbox.faults().graphPropertyDelaySeconds, 3);
      } finally {
        await started.close();
      }
    });

    it("a new user is not found for graphNewUserDelaySeconds after its creation, reads and writes alike", async () => {
      await admin("PATCH", "/faults", { graphNewUserDelaySeconds: 5 });
      try {
        const created = await send("POST", "/users", {
          accountEnabled: true,
          displayName: "Lag Test",
          mailNickname: "lag.test",
          userPrincipalName: "lag.test@contoso.example",
          usageLocation: "US",
          passwordProfile: { password: "Lag-Passw0rd!" },
        });
        assert.equal(created.status, 201);
        const id = created.body.id as string;
        const early = await get(`/users/${id}`);
        assert.equal(early.status, 404);
        assert.equal(early.body.error.code, "Request_ResourceNotFound");
        const listed = await get(
          `/users?$filter=${encodeURIComponent("userPrincipalName eq 'lag.test@contoso.example'")}`,
        );
        assert.deepEqual(listed.body.value, []);
        const assign = await send("POST", `/users/${id}/assignLicense`, {
          addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [] }],
          removeLicenses: [],
        });
        assert.equal(assign.status, 404, "a write to a not-yet-replicated user is a 404 too");
        // The primary knows the UPN: a second create conflicts rather than duplicating.
        const again = await send("POST", "/users", {
          accountEnabled: true,
          displayName: "Lag Test",
          mailNickname: "lag.test",
          userPrincipalName: "lag.test@contoso.example",
          passwordProfile: { password: "Lag-Passw0rd!" },
        });
        assert.equal(again.status, 400);
        clock.ms += 5_000;
        assert.equal((await get(`/users/${id}`)).status, 200);
      } finally {
        await admin("PATCH", "/faults", { graphNewUserDelaySeconds: 0 });
      }
    });

    it("a changed property is not yet seen for graphPropertyDelaySeconds after the change", async () => {
      await admin("PATCH", "/faults", { graphPropertyDelaySeconds: 10 });
      try {
        const chloe = "chloe.martin@contoso.example";
        const before = await get(`/users/${chloe}?$select=jobTitle,assignedLicenses`);
        assert.equal((await send("PATCH", `/users/${chloe}`, { jobTitle: "AP Lead" })).status, 204);
        const assigned = await send("POST", `/users/${chloe}/assignLicense`, {
          addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [] }],
          removeLicenses: [],
        });
        assert.equal(assigned.status, 200);
        assert.ok(
          assigned.body.assignedLicenses.some((l: Json) => l.skuId === SKU_FINANCE),
          "the write's own answer shows the change",
        );
        clock.ms += 4_000;
        const stale = await get(`/users/${chloe}?$select=jobTitle,assignedLicenses`);
        assert.equal(stale.body.jobTitle, before.body.jobTitle);
        assert.deepEqual(stale.body.assignedLicenses, before.body.assignedLicenses);
        clock.ms += 6_000;
        const fresh = await get(`/users/${chloe}?$select=jobTitle,assignedLicenses`);
        assert.equal(fresh.body.jobTitle, "AP Lead");
        assert.ok(fresh.body.assignedLicenses.some((l: Json) => l.skuId === SKU_FINANCE));
      } finally {
        await admin("PATCH", "/faults", { graphPropertyDelaySeconds: 0 });
      }
    });
  });

  it("a synced user: its mastered properties are refused with Graph's 400, usageLocation is accepted", async () => {
    const user = await get(`/users/${JOHANNA_UPN}?$select=id,onPremisesSyncEnabled,onPremisesImmutableId`);
    assert.equal(user.body.onPremisesSyncEnabled, true);
    assert.ok(user.body.onPremisesImmutableId);
    const cloud = await get("/users/adele.vance@contoso.example?$select=onPremisesSyncEnabled");
    assert.equal(cloud.body.onPremisesSyncEnabled, null, "cloud users carry null");
    for (const body of [{ displayName: "J. Lorenz" }, { accountEnabled: false }]) {
      const refused = await send("PATCH", `/users/${JOHANNA_UPN}`, body);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, "Request_BadRequest");
      assert.match(
        refused.body.error.message,
        /^Unable to update the specified properties for on-premises mastered Directory Sync objects/,
      );
    }
    assert.equal((await send("PATCH", `/users/${JOHANNA_UPN}`, { usageLocation: "AT" })).status, 204);
  });

  it("a privileged user: an app-only caller without a privileged role may not disable or delete it", async () => {
    const disable = await send("PATCH", `/users/${ADMIN_UPN}`, { accountEnabled: false });
    assert.equal(disable.status, 403);
    assert.equal(disable.body.error.code, "Authorization_RequestDenied");
    assert.equal(disable.body.error.message, "Insufficient privileges to complete the operation.");
    assert.equal((await send("DELETE", `/users/${ADMIN_UPN}`)).status, 403);
    assert.equal(
      (await send("PATCH", `/users/${ADMIN_UPN}`, { jobTitle: "IT" })).status,
      204,
      "non-sensitive: allowed",
    );
    const granted = await admin("PUT", `/identity/apps/${t.endpoints.clientId}`, {
      directoryRoles: ["Privileged Authentication Administrator"],
    });
    assert.equal(granted.status, 200);
    try {
      assert.equal((await send("PATCH", `/users/${ADMIN_UPN}`, { accountEnabled: true })).status, 204);
    } finally {
      await admin("PUT", `/identity/apps/${t.endpoints.clientId}`, { directoryRoles: [] });
    }
  });

  it("group-based licensing: a CountViolation entry is in state Error and the licence is not held", async () => {
    const isaiah = await get(`/users/${ISAIAH}?$select=assignedLicenses,licenseAssignmentStates`);
    const states = isaiah.body.licenseAssignmentStates as Json[];
    const failed = states.find((s) => s.assignedByGroup !== null);
    assert.ok(failed);
    assert.equal(failed.skuId, SKU_FINANCE);
    assert.equal(failed.state, "Error");
    assert.equal(failed.error, "CountViolation");
    assert.ok(
      !isaiah.body.assignedLicenses.some((l: Json) => l.skuId === SKU_FINANCE),
      "not in the aggregate",
    );
    const details = await get(`/users/${ISAIAH}/licenseDetails`);
    assert.ok(!details.body.value.some((d: Json) => d.skuId === SKU_FINANCE));
    // Alex holds Finance directly and through the group: two paths, one seat.
    const alex = await get(
      "/users/alex.wilber@contoso.example?$select=assignedLicenses,licenseAssignmentStates",
    );
    const finance = (alex.body.licenseAssignmentStates as Json[]).filter((s) => s.skuId === SKU_FINANCE);
    assert.deepEqual(finance.map((s) => s.assignedByGroup === null).sort(), [false, true]);
    assert.equal(alex.body.assignedLicenses.filter((l: Json) => l.skuId === SKU_FINANCE).length, 1);
  });

  it("Microsoft 365 SKUs are held directly by most users, next to the Dynamics ones", async () => {
    const skus = (await get("/subscribedSkus")).body.value as Json[];
    const parts = skus.map((s) => s.skuPartNumber);
    for (const part of ["SPE_E5", "SPE_E3", "ENTERPRISEPACK", "DYN365_FINANCE"])
      assert.ok(parts.includes(part), part);
    const e5 = skus.find((s) => s.skuPartNumber === "SPE_E5");
    assert.equal(e5.skuId, "06ebc4ee-1bb5-47dd-8120-11324bc54e06");
    assert.ok(e5.consumedUnits > 0 && e5.consumedUnits <= e5.prepaidUnits.enabled);
    const users = (await get("/users?$select=id,assignedLicenses&$top=999")).body.value as Json[];
    const m365 = new Set(skus.filter((s) => !/^DYN|^Dyn/.test(s.skuPartNumber)).map((s) => s.skuId));
    const holders = users.filter((u) => u.assignedLicenses.some((l: Json) => m365.has(l.skuId)));
    assert.ok(holders.length > users.length / 2, `${holders.length} of ${users.length} hold Microsoft 365`);
    const adele = users.find((u) => u.id === "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51");
    assert.ok(
      adele.assignedLicenses.some((l: Json) => l.skuId === e5.skuId),
      "a demo user the demo adopts holds E5",
    );
  });

  it("a guest: #EXT# UPN, userType Guest, addressed with %23", async () => {
    const res = await get(`/users/${encodeURIComponent(GUEST_UPN)}?$select=userPrincipalName,userType,mail`);
    assert.equal(res.status, 200);
    assert.equal(res.body.userType, "Guest");
    assert.equal(res.body.mail, "grady.archie@fabrikam.example");
  });

  it("a disabled user still holds licences", async () => {
    const res = await get("/users/pradeep.gupta@contoso.example?$select=accountEnabled,assignedLicenses");
    assert.equal(res.body.accountEnabled, false);
    assert.ok(res.body.assignedLicenses.some((l: Json) => l.skuId === SKU_FINANCE));
  });

  it("assignLicense refuses a disabled plan that is not one of the SKU's plans", async () => {
    const ok = await send("POST", "/users/lidia.holloway@contoso.example/assignLicense", {
      addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: ["7e6d7d78-73de-46ba-83b1-6d25117334ba"] }],
      removeLicenses: [],
    });
    assert.equal(ok.status, 200, "FLOW_DYN_APPS belongs to Finance");
    const refused = await send("POST", "/users/lidia.holloway@contoso.example/assignLicense", {
      addLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [E5_PLAN_TEAMS] }],
      removeLicenses: [],
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "Request_BadRequest");
    assert.match(refused.body.error.message, new RegExp(E5_PLAN_TEAMS));
  });

  it("invalid query options answer Graph's documented codes", async () => {
    const cases: [string, number, string][] = [
      [`$filter=${encodeURIComponent("accountEnabled eq 'true'")}`, 400, "BadRequest"],
      [`$filter=${encodeURIComponent("displayName eq")}`, 400, "BadRequest"],
      [`$filter=${encodeURIComponent("accountEnabled ne true")}`, 400, "Request_UnsupportedQuery"],
      [`$filter=${encodeURIComponent("favoriteColor eq 'red'")}`, 400, "Request_UnsupportedQuery"],
      ["$top=1000", 400, "Request_BadRequest"],
      ["$skip=5", 400, "Request_BadRequest"],
      ["$orderby=jobTitle", 400, "Request_UnsupportedQuery"],
      ["$search=%22displayName:adele%22", 400, "Request_UnsupportedQuery"],
    ];
    for (const [query, status, code] of cases) {
      const res = await get(`/users?${query}`);
      assert.equal(res.status, status, query);
      assert.equal(res.body.error.code, code, query);
    }
    const clause = await get(`/users?$filter=${encodeURIComponent("accountEnabled eq 'true'")}`);
    assert.equal(clause.body.error.message, "Invalid filter clause");
    const syntax = await get(`/users?$filter=${encodeURIComponent("displayName eq")}`);
    assert.match(syntax.body.error.message, /^Invalid filter clause: /);
  });
});
