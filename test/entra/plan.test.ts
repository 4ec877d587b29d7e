import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toSku, toUserSnapshot } from "../../providers/entra/dto.ts";
import type { DesiredEntraUser, UserSnapshot } from "../../providers/entra/model.ts";
import {
  checkSeats,
  diff,
  ownedLicenses,
  planLicenseChanges,
  planRemoval,
  planUser,
  planUserChanges,
  seatDemand,
} from "../../providers/entra/plan.ts";

const FIN = { sku: "DYN365_FINANCE", disabledPlans: [] as string[] };
const SCM = { sku: "DYN365_SCM", disabledPlans: [] as string[] };
const desired = (over: Partial<DesiredEntraUser> = {}): DesiredEntraUser => ({
  upn: "ada@contoso.com",
  displayName: "Ada Lovelace",
  usageLocation: "FR",
  enabled: true,
  licenses: [FIN],
  ...over,
});
const actual = (over: Partial<UserSnapshot> = {}): UserSnapshot => ({
  upn: "ada@contoso.com",
  displayName: "Ada Lovelace",
  usageLocation: "FR",
  enabled: true,
  directLicenses: [FIN],
  inheritedSkus: [],
  ...over,
});

describe("planUserChanges", () => {
  it("is a no-op when everything matches, whatever the case of names", () => {
    const p = planUserChanges(
      desired({ usageLocation: "fr", licenses: [{ sku: "dyn365_finance", disabledPlans: [] }] }),
      actual({ upn: "ADA@Contoso.com" }),
    );
    assert.equal(p.changed, false);
    assert.deepEqual(p.summary, []);
  });
  it("adds a missing license and patches only differing properties", () => {
    const p = planUserChanges(desired({ displayName: "Ada King", licenses: [FIN, SCM] }), actual());
    assert.deepEqual(p.properties, { displayName: "Ada King" });
    assert.deepEqual(p.licenses, { add: [SCM], remove: [] });
    assert.deepEqual(p.summary, ['displayName: "Ada Lovelace" → "Ada King"', "add license DYN365_SCM"]);
  });
  it("removes an undeclared direct license and disables sign-in", () => {
    const p = planUserChanges(
      desired({ enabled: false, licenses: [] }),
      actual({ directLicenses: [SCM, FIN] }),
    );
    assert.deepEqual(p.properties, { accountEnabled: false });
    assert.deepEqual(p.licenses.remove, ["DYN365_FINANCE", "DYN365_SCM"]);
  });
  it("adopting a user with nothing: sets usage location and adds licenses, sorted", () => {
    const p = planUserChanges(
      desired({ licenses: [SCM, FIN] }),
      actual({ usageLocation: undefined, directLicenses: [] }),
    );
    assert.deepEqual(p.properties, { usageLocation: "FR" });
    assert.deepEqual(
      p.licenses.add.map((l) => l.sku),
      ["DYN365_FINANCE", "DYN365_SCM"],
    );
  });
  it("never clears a usage location Graph cannot reset", () => {
    assert.equal(planUserChanges(desired({ usageLocation: "", licenses: [FIN] }), actual()).changed, false);
  });
  it("leaves group-inherited licenses alone", () => {
    const p = planUserChanges(
      desired({ licenses: [FIN] }),
      actual({ directLicenses: [FIN], inheritedSkus: ["DYN365_SCM", "ENTERPRISEPACK"] }),
    );
    assert.equal(p.changed, false);
    assert.deepEqual(p.licenses.remove, []);
  });
});

describe("planLicenseChanges", () => {
  it("re-adds a SKU whose disabled plans differ (exact set), ignoring case and order", () => {
    const want = [{ sku: "DYN365_FINANCE", disabledPlans: ["FLOW_DYN_APPS", "POWERAPPS_DYN_APPS"] }];
    assert.deepEqual(
      planLicenseChanges(want, [
        { sku: "DYN365_FINANCE", disabledPlans: ["powerapps_dyn_apps", "flow_dyn_apps"] },
      ]),
      { add: [], remove: [] },
    );
    assert.deepEqual(planLicenseChanges(want, [{ sku: "DYN365_FINANCE", disabledPlans: [] }]).add, want);
    assert.deepEqual(
      planLicenseChanges([FIN], [{ sku: "DYN365_FINANCE", disabledPlans: ["FLOW_DYN_APPS"] }]).add,
      [FIN],
    );
  });
  it("is deterministic: same output for any input order", () => {
    const a = planLicenseChanges(
      [SCM, FIN, { sku: "A", disabledPlans: ["Z", "Y"] }],
      [
        { sku: "X", disabledPlans: [] },
        { sku: "B", disabledPlans: [] },
      ],
    );
    const b = planLicenseChanges(
      [{ sku: "A", disabledPlans: ["Y", "Z"] }, FIN, SCM],
      [
        { sku: "B", disabledPlans: [] },
        { sku: "X", disabledPlans: [] },
      ],
    );
    assert.deepEqual(a, b);
    assert.deepEqual(
      a.add.map((l) => l.sku),
      ["A", "DYN365_FINANCE", "DYN365_SCM"],
    );
    assert.deepEqual(a.remove, ["B", "X"]);
  });
});

describe("seats", () => {
  it("counts a seat only for SKUs the user does not hold directly or through a group", () => {
    const changes = planLicenseChanges(
      [FIN, SCM, { sku: "DYN365_TEAM_MEMBERS", disabledPlans: ["X"] }],
      [{ sku: "DYN365_TEAM_MEMBERS", disabledPlans: [] }],
    );
    assert.deepEqual(
      seatDemand(changes, {
        directLicenses: [{ sku: "DYN365_TEAM_MEMBERS", disabledPlans: [] }],
        inheritedSkus: ["dyn365_scm"],
      }),
      { DYN365_FINANCE: 1 },
    );
  });
  it("names the SKU, seats needed and seats free", () => {
    const skus = [
      { partNumber: "DYN365_FINANCE", enabled: 10, consumed: 9 },
      { partNumber: "DYN365_SCM", enabled: 5, consumed: 0 },
    ];
    assert.deepEqual(checkSeats({ dyn365_finance: 1, DYN365_SCM: 5 }, skus), []);
    const short = checkSeats({ DYN365_FINANCE: 3, NOPE: 1 }, skus);
    assert.deepEqual(
      short.map((s) => [s.sku, s.needed, s.free]),
      [
        ["DYN365_FINANCE", 3, 1],
        ["NOPE", 1, 0],
      ],
    );
    assert.equal(short[0]?.message, "not enough DYN365_FINANCE licenses: 3 seat(s) needed, 1 free of 10");
  });
});

describe("toUserSnapshot", () => {
  const skus = [
    toSku({
      skuId: "55C9EB4E-C746-45B4-B255-9AB6B19D5C62",
      skuPartNumber: "DYN365_FINANCE",
      consumedUnits: 1,
      prepaidUnits: { enabled: 5 },
      servicePlans: [
        { servicePlanId: "7e6d7d78-73de-46ba-83b1-6d25117334ba", servicePlanName: "FLOW_DYN_APPS" },
      ],
    }),
    toSku({
      skuId: "f2e48cb3-9da0-42cd-8464-4a54ce198ad0",
      skuPartNumber: "DYN365_SCM",
      consumedUnits: 0,
      prepaidUnits: { enabled: 5 },
      servicePlans: [],
    }),
  ];
  it("splits direct from group-inherited licenses and names plans, matching skuIds case-insensitively", () => {
    const s = toUserSnapshot(
      {
        id: "u1",
        userPrincipalName: "Ada@contoso.com",
        displayName: "Ada",
        usageLocation: null,
        accountEnabled: false,
        assignedLicenses: [],
        licenseAssignmentStates: [
          {
            skuId: "55c9eb4e-c746-45b4-b255-9ab6b19d5c62",
            disabledPlans: ["7E6D7D78-73DE-46BA-83B1-6D25117334BA"],
            assignedByGroup: null,
          },
          { skuId: "f2e48cb3-9da0-42cd-8464-4a54ce198ad0", assignedByGroup: "g1" },
        ],
      },
      skus,
    );
    assert.deepEqual(s.directLicenses, [{ sku: "DYN365_FINANCE", disabledPlans: ["FLOW_DYN_APPS"] }]);
    assert.deepEqual(s.inheritedSkus, ["DYN365_SCM"]);
    assert.equal(s.usageLocation, undefined);
    assert.equal(s.enabled, false);
  });
});

describe("planUser (operations, ownership, seats)", () => {
  it("patches properties before licenses, and a created user only gets its licenses", () => {
    const plan = planUser(desired({ displayName: "Ada L." }), actual({ directLicenses: [] }), {
      adopted: false,
      managedLicenses: [],
    });
    assert.deepEqual(
      plan.operations.map((o) => o.kind),
      ["updateUser", "assignLicenses"],
    );
    assert.deepEqual(plan.seats, { DYN365_FINANCE: 1 });
    const created = planUser(desired(), actual({ directLicenses: [] }), {
      adopted: false,
      managedLicenses: [],
      created: true,
    });
    assert.deepEqual(
      created.operations.map((o) => o.kind),
      ["assignLicenses"],
    );
  });
  it("an adopted user owns only the licenses we added, and keeps what it owned", () => {
    const adoptedWithFin = planUser(desired({ licenses: [FIN, SCM] }), actual(), {
      adopted: true,
      managedLicenses: [],
    });
    assert.deepEqual(adoptedWithFin.managedLicenses, ["DYN365_SCM"]);
    assert.deepEqual(
      ownedLicenses(true, [FIN, SCM], [FIN, SCM], ["DYN365_FINANCE"]),
      ["DYN365_FINANCE"],
      "still declared and ours before; SCM was there already",
    );
    assert.deepEqual(ownedLicenses(false, [SCM, FIN], [FIN], []), ["DYN365_FINANCE", "DYN365_SCM"]);
  });
  it("removal revokes only our licenses; a created user is disabled or deleted, an adopted one left as found", () => {
    const user = actual({ directLicenses: [FIN, SCM] });
    assert.deepEqual(
      planRemoval(user, { managedLicenses: ["dyn365_scm"], adopted: true, onRemove: "disable" }),
      [{ kind: "assignLicenses", add: [], remove: ["DYN365_SCM"] }],
    );
    assert.deepEqual(planRemoval(user, { managedLicenses: [], adopted: false, onRemove: "disable" }), [
      { kind: "updateUser", changes: { accountEnabled: false } },
    ]);
    assert.deepEqual(planRemoval(user, { managedLicenses: [], adopted: false, onRemove: "delete" }), [
      { kind: "deleteUser" },
    ]);
    assert.deepEqual(
      planRemoval(actual({ enabled: false, directLicenses: [] }), {
        managedLicenses: [],
        adopted: false,
        onRemove: "disable",
      }),
      [],
    );
  });
  it("diff replaces on a new UPN only, and sees removal settings", () => {
    const outs = {
      ...desired(),
      manage: "adopt" as const,
      onRemove: "disable" as const,
      objectId: "x",
      adopted: true,
      managedLicenses: [],
    };
    const news = { ...outs, upn: "ADA@contoso.com" };
    assert.deepEqual(diff(outs, news), { changes: false, replaces: [] });
    assert.deepEqual(diff(outs, { ...news, upn: "eve@contoso.com" }), { changes: true, replaces: ["upn"] });
    assert.deepEqual(diff(outs, { ...news, onRemove: "delete" }), { changes: true, replaces: [] });
  });
});
