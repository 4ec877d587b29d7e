import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toSku, toUserSnapshot } from "../../providers/entra/dto.ts";
import type { DesiredEntraUser, UserSnapshot } from "../../providers/entra/model.ts";
import {
  checkSeats,
  diff,
  driftLine,
  type EntraOperation,
  normalizeLicenses,
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
  it("removes an undeclared direct license of a managed SKU only, and disables sign-in", () => {
    const E5 = { sku: "SPE_E5", disabledPlans: [] };
    const p = planUserChanges(
      desired({ enabled: false, licenses: [], managedLicenses: ["dyn365_finance", "DYN365_SCM"] }),
      actual({ directLicenses: [SCM, E5, FIN] }),
    );
    assert.deepEqual(p.properties, {});
    assert.equal(p.signIn, false);
    assert.deepEqual(p.licenses.remove, ["DYN365_FINANCE", "DYN365_SCM"], "SPE_E5 is not managed: kept");
    assert.deepEqual(
      planUserChanges(desired({ licenses: [FIN] }), actual({ directLicenses: [E5, FIN] })).changed,
      false,
    );
  });
  it("never patches what on-premises AD masters for a synced user, reports it, and still licenses", () => {
    const p = planUserChanges(
      desired({ displayName: "Ada L.", enabled: false, usageLocation: "DE", licenses: [FIN, SCM] }),
      actual({ onPremisesSync: true }),
    );
    assert.deepEqual(p.properties, { usageLocation: "DE" }, "usage location is cloud-mastered");
    assert.equal(p.signIn, undefined);
    assert.deepEqual(p.licenses.add, [SCM]);
    assert.deepEqual(p.drift, [
      'displayName is "Ada Lovelace" (users.yaml: "Ada L.")',
      "sign-in is enabled (users.yaml: enabled: false)",
    ]);
    assert.match(
      driftLine("ada@contoso.com", p) ?? "",
      /^Entra user ada@contoso\.com is synced from on-premises Active Directory.*displayName is "Ada Lovelace"/,
    );
    assert.equal(driftLine("ada@contoso.com", planUserChanges(desired(), actual())), undefined);
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
        { sku: "C", disabledPlans: [] },
      ],
      ["x", "B"],
    );
    const b = planLicenseChanges(
      [{ sku: "A", disabledPlans: ["Y", "Z"] }, FIN, SCM],
      [
        { sku: "C", disabledPlans: [] },
        { sku: "B", disabledPlans: [] },
        { sku: "X", disabledPlans: [] },
      ],
      ["B", "X"],
    );
    assert.deepEqual(a, b);
    assert.deepEqual(
      a.add.map((l) => l.sku),
      ["A", "DYN365_FINANCE", "DYN365_SCM"],
    );
    assert.deepEqual(a.remove, ["B", "X"], "C is not managed");
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
  it("does not count a group license in an error state as held, so a direct grant needs a seat", () => {
    const s = toUserSnapshot(
      {
        id: "u2",
        userPrincipalName: "isaiah@contoso.com",
        onPremisesSyncEnabled: true,
        licenseAssignmentStates: [
          {
            skuId: "55c9eb4e-c746-45b4-b255-9ab6b19d5c62",
            assignedByGroup: "g1",
            state: "Error",
            error: "CountViolation",
          },
        ],
      },
      skus,
    );
    assert.deepEqual(s.inheritedSkus, []);
    assert.equal(s.onPremisesSync, true);
    assert.deepEqual(seatDemand(planLicenseChanges([FIN], s.directLicenses), s), { DYN365_FINANCE: 1 });
  });
});

describe("planUser (operations, seats)", () => {
  it("patches properties, disables before and enables after the licenses; a created user only gets its licenses", () => {
    const plan = planUser(desired({ displayName: "Ada L.", enabled: false }), actual({ directLicenses: [] }));
    assert.deepEqual(
      plan.operations.map((o) => o.kind),
      ["updateUser", "setSignIn", "assignLicenses"],
    );
    assert.deepEqual(
      planUser(desired(), actual({ enabled: false, directLicenses: [] })).operations.map((o) => o.kind),
      ["assignLicenses", "setSignIn"],
    );
    assert.deepEqual(plan.seats, { DYN365_FINANCE: 1 });
    assert.deepEqual(plan.licensesAfter, [FIN]);
    const created = planUser(desired({ enabled: false }), actual({ directLicenses: [] }), { created: true });
    assert.deepEqual(
      created.operations.map((o) => o.kind),
      ["assignLicenses"],
    );
  });
  it("keeps unmanaged direct licenses in what the user holds afterwards", () => {
    const E5 = { sku: "SPE_E5", disabledPlans: [] };
    const plan = planUser(
      desired({ licenses: [SCM], managedLicenses: ["DYN365_FINANCE"] }),
      actual({ directLicenses: [E5, FIN] }),
    );
    assert.deepEqual(plan.operations, [{ kind: "assignLicenses", add: [SCM], remove: ["DYN365_FINANCE"] }]);
    assert.deepEqual(plan.licensesAfter, [SCM, E5]);
  });
});

describe("planRemoval (the kit's removal rule)", () => {
  const E5 = { sku: "SPE_E5", disabledPlans: [] };
  const user = actual({ directLicenses: [FIN, E5, SCM] });
  it("revokes every held managed SKU, whoever assigned it; other SKUs stay", () => {
    for (const adopted of [true, false])
      assert.deepEqual(
        planRemoval(user, {
          managedLicenses: ["dyn365_scm", "DYN365_FINANCE"],
          adopted,
          onRemove: "disable",
        })[0],
        { kind: "assignLicenses", add: [], remove: ["DYN365_FINANCE", "DYN365_SCM"] },
      );
  });
  it("disables a created user, or disables then deletes it; leaves an adopted one as found", () => {
    const managed = { managedLicenses: [] as string[] };
    assert.deepEqual(planRemoval(user, { ...managed, adopted: false, onRemove: "disable" }), [
      { kind: "setSignIn", enabled: false },
    ]);
    assert.deepEqual(planRemoval(user, { ...managed, adopted: false, onRemove: "delete" }), [
      { kind: "setSignIn", enabled: false },
      { kind: "deleteUser" },
    ]);
    assert.deepEqual(planRemoval(user, { ...managed, adopted: true, onRemove: "delete" }), []);
    assert.deepEqual(
      planRemoval(actual({ enabled: false, directLicenses: [] }), {
        ...managed,
        adopted: false,
        onRemove: "disable",
      }),
      [],
    );
    // A state without provenance counts as adopted: never deleted.
    assert.deepEqual(
      planRemoval(user, { ...managed, adopted: undefined as unknown as boolean, onRemove: "delete" }),
      [],
    );
  });
  it("never disables a synced user (AD masters its sign-in)", () => {
    assert.deepEqual(
      planRemoval(actual({ onPremisesSync: true, directLicenses: [] }), {
        managedLicenses: [],
        adopted: false,
        onRemove: "disable",
      }),
      [],
    );
  });
});

describe("diff", () => {
  const outs = {
    ...desired(),
    managedLicenses: ["DYN365_FINANCE"],
    manage: "adopt" as const,
    onRemove: "disable" as const,
    objectId: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a01",
    adopted: true,
  };
  const news = { ...outs, upn: "ADA@contoso.com" };
  it("updates, never replaces, on a new UPN; replaces on another object id", () => {
    assert.deepEqual(diff(outs, news), { changes: false, replaces: [] });
    assert.deepEqual(diff(outs, { ...news, upn: "ada.king@contoso.com" }), { changes: true, replaces: [] });
    assert.deepEqual(diff(outs, { ...news, objectId: outs.objectId.toUpperCase() }), {
      changes: false,
      replaces: [],
    });
    assert.deepEqual(diff(outs, { ...news, objectId: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a02" }), {
      changes: true,
      replaces: ["objectId"],
    });
    assert.deepEqual(diff(outs, { ...news, onRemove: "delete" }), { changes: true, replaces: [] });
  });
  it("sees a change of the managed SKUs only for users it affects", () => {
    const E5 = { sku: "SPE_E5", disabledPlans: [] };
    const holder = { ...outs, licenses: [FIN, E5] };
    const manageE5 = { ...news, managedLicenses: ["DYN365_FINANCE", "SPE_E5"] };
    assert.equal(diff(holder, manageE5).changes, true, "E5 held and now managed but not declared: removed");
    assert.equal(diff(outs, manageE5).changes, false, "does not hold E5: unaffected");
    const declaredE5 = { ...holder, licenses: [FIN, E5] };
    assert.equal(
      diff({ ...declaredE5, managedLicenses: ["DYN365_FINANCE", "SPE_E5"] }, news).changes,
      true,
      "E5 leaves the managed set: what removal would revoke changes",
    );
  });
});

describe("planUser, property-based (seeded random states)", () => {
  // A tiny deterministic PRNG so failures reproduce.
  const rng = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const SKUS = ["DYN365_FINANCE", "DYN365_SCM", "DYN365_ENTERPRISE_TEAM_MEMBERS", "SPE_E5", "ENTERPRISEPACK"];
  const PLANS = ["FLOW_DYN_APPS", "POWERAPPS_DYN_APPS"];

  /** Applies an operation the way Graph does (assignLicense: removals, then upsert of additions). */
  function apply(user: UserSnapshot, op: EntraOperation): UserSnapshot {
    switch (op.kind) {
      case "updateUser":
        return { ...user, ...op.changes };
      case "setSignIn":
        return { ...user, enabled: op.enabled };
      case "assignLicenses": {
        const gone = new Set([...op.remove, ...op.add.map((l) => l.sku)].map((s) => s.toLowerCase()));
        for (const sku of op.remove)
          assert.ok(
            user.directLicenses.some((l) => l.sku.toLowerCase() === sku.toLowerCase()),
            `removes ${sku}, which is not held directly (Graph refuses)`,
          );
        const kept = user.directLicenses.filter((l) => !gone.has(l.sku.toLowerCase()));
        return { ...user, directLicenses: [...kept, ...op.add] };
      }
      case "deleteUser":
        return assert.fail("planUser never deletes");
    }
  }

  /** What the user can use: every held SKU and enabled plan while sign-in is on, nothing while off. */
  const access = (u: UserSnapshot) =>
    u.enabled
      ? new Set([
          ...u.inheritedSkus,
          ...u.directLicenses.flatMap((l) => [
            l.sku,
            ...PLANS.filter((p) => !l.disabledPlans.includes(p)).map((p) => `${l.sku}/${p}`),
          ]),
        ])
      : new Set<string>();
  const unmanaged = (u: UserSnapshot, managed: Set<string>) =>
    JSON.stringify(normalizeLicenses(u.directLicenses.filter((l) => !managed.has(l.sku.toLowerCase()))));

  it("converges in one pass, never widens access mid-way, and never touches what it does not own", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const subset = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.4);
      const lic = (sku: string) => ({
        sku: r() < 0.3 ? sku.toLowerCase() : sku,
        disabledPlans: subset(PLANS),
      });
      const managedList = subset(SKUS);
      const want = desired({
        enabled: r() < 0.6,
        usageLocation: r() < 0.8 ? "FR" : "",
        displayName: r() < 0.5 ? "Ada Lovelace" : "Ada King",
        licenses: normalizeLicenses(subset(SKUS).map(lic)),
        managedLicenses: managedList,
      });
      const start: UserSnapshot = actual({
        enabled: r() < 0.5,
        usageLocation: r() < 0.5 ? "FR" : undefined,
        directLicenses: subset(SKUS).map(lic),
        inheritedSkus: subset(SKUS),
        onPremisesSync: r() < 0.2,
      });
      const managed = new Set(
        [...managedList, ...want.licenses.map((l) => l.sku)].map((s) => s.toLowerCase()),
      );
      const plan = planUser(want, start);
      let state = start;
      const states = [start];
      for (const op of plan.operations) {
        if (op.kind === "assignLicenses")
          for (const sku of [...op.remove, ...op.add.map((l) => l.sku)])
            assert.ok(
              managed.has(sku.toLowerCase()),
              `seed ${seed}: touches ${sku}, which users.yaml does not manage`,
            );
        if (start.onPremisesSync)
          assert.ok(
            op.kind !== "setSignIn" && !(op.kind === "updateUser" && "displayName" in op.changes),
            `seed ${seed}: patches what AD masters`,
          );
        state = apply(state, op);
        states.push(state);
      }
      assert.deepEqual(planUser(want, state).operations, [], `seed ${seed}: not converged in one pass`);
      assert.deepEqual(
        normalizeLicenses(state.directLicenses),
        plan.licensesAfter,
        `seed ${seed}: licensesAfter`,
      );
      assert.equal(
        unmanaged(state, managed),
        unmanaged(start, managed),
        `seed ${seed}: unmanaged licenses changed`,
      );
      assert.deepEqual(state.inheritedSkus, start.inheritedSkus, `seed ${seed}: group licenses changed`);
      const bound = new Set([...access(start), ...access(state)]);
      for (const [i, mid] of states.entries())
        for (const grant of access(mid))
          assert.ok(
            bound.has(grant),
            `seed ${seed}: step ${i} grants ${grant}, held neither before nor after`,
          );
    }
  });
});
