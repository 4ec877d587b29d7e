import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlanError } from "../../providers/core/provider.ts";
import { checkInputs, resolveRoles } from "../../providers/dataverse/check.ts";
import {
  type ActualUser,
  type BusinessUnit,
  type Caller,
  type Catalog,
  type Role,
  SYSTEM_ADMINISTRATOR_TEMPLATE,
  SYSTEM_CUSTOMIZER_TEMPLATE,
} from "../../providers/dataverse/model.ts";
import {
  choosePresence,
  type DataverseOperation,
  diff,
  heldRoleNames,
  owns,
  planRemoval,
  planUser,
} from "../../providers/dataverse/plan.ts";

const ROOT: BusinessUnit = { businessUnitId: "bu-root", name: "contoso", parentId: undefined };
const SALES: BusinessUnit = { businessUnitId: "bu-sales", name: "Sales", parentId: "bu-root" };

function role(id: string, name: string, bu: BusinessUnit, templateId?: string): Role {
  return { roleId: id, name, businessUnitId: bu.businessUnitId, ...(templateId ? { templateId } : {}) };
}
const R = {
  basic: role("r-basic", "Basic User", ROOT),
  maker: role("r-maker", "Environment Maker", ROOT),
  admin: role("r-admin", "System Administrator", ROOT, SYSTEM_ADMINISTRATOR_TEMPLATE),
  customizer: role("r-cust", "System Customizer", ROOT, SYSTEM_CUSTOMIZER_TEMPLATE),
  salesRoot: role("r-sales-root", "Salesperson", ROOT),
  basicSales: role("r-basic-s", "Basic User", SALES),
  salesperson: role("r-sales-s", "Salesperson", SALES),
  dupA: role("r-dup-a", "Approver", SALES),
  dupB: role("r-dup-b", "approver", SALES),
};
const catalog: Catalog = {
  environment: "contoso-demo",
  businessUnits: [SALES, ROOT],
  roles: Object.values(R),
};

function user(roles: Role[], bu: BusinessUnit = ROOT, extra: Partial<ActualUser> = {}): ActualUser {
  return { systemUserId: "su-1", businessUnitId: bu.businessUnitId, disabled: false, roles, ...extra };
}

describe("planUser", () => {
  it("grants missing declared roles and records them as managed", () => {
    const plan = planUser({
      desired: { roles: ["Environment Maker", "Basic User"] },
      catalog,
      actual: user([]),
      managedRoles: [],
    });
    assert.deepEqual(
      plan.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["grantRole:r-basic", "grantRole:r-maker"],
    );
    assert.deepEqual(plan.managedRoles, ["Basic User", "Environment Maker"]);
    assert.equal(plan.noop, false);
  });

  it("revokes a role no longer declared, before any grant", () => {
    const plan = planUser({
      desired: { roles: ["Environment Maker"] },
      catalog,
      actual: user([R.basic]),
      managedRoles: ["Basic User"],
    });
    assert.deepEqual(
      plan.operations.map((o) => o.kind),
      ["revokeRole", "grantRole"],
    );
    assert.deepEqual(plan.managedRoles, ["Environment Maker"]);
  });

  it("is a no-op when the direct roles and bookkeeping already match", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.basic]),
      managedRoles: ["Basic User"],
    });
    assert.deepEqual(plan.operations, []);
    assert.equal(plan.noop, true);
  });

  it("adopts: a declared role already present is kept but not claimed as ours", () => {
    const plan = planUser({
      desired: { roles: ["basic user", "Environment Maker"] },
      catalog,
      actual: user([R.basic]),
      managedRoles: [],
    });
    assert.deepEqual(
      plan.operations.map((o) => ("role" in o ? o.role?.name : o.kind)),
      ["Environment Maker"],
    );
    assert.deepEqual(plan.managedRoles, ["Environment Maker"]);
  });

  it("revokes an undeclared direct role granted by someone else (exact direct set)", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.basic, R.admin]),
      managedRoles: [],
    });
    assert.deepEqual(
      plan.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.name : ""}`),
      ["revokeRole:System Administrator"],
    );
  });

  it("ignores case and duplicates in declared names", () => {
    const plan = planUser({
      desired: { roles: ["  BASIC USER", "basic user", "environment maker"] },
      catalog,
      actual: user([R.basic, R.maker]),
      managedRoles: ["Basic User", "Environment Maker"],
    });
    assert.equal(plan.noop, true);
    assert.deepEqual(
      plan.roles.map((r) => r.name),
      ["Basic User", "Environment Maker"],
    );
  });

  it("keeps managedRoles spelling in sync (bookkeeping-only change is not a no-op)", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.basic]),
      managedRoles: ["basic user"],
    });
    assert.deepEqual(plan.operations, []);
    assert.deepEqual(plan.managedRoles, ["Basic User"]);
    assert.equal(plan.noop, false);
  });

  it("leaves team and Entra-group roles alone, even the undeclared ones", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.basic], ROOT, {
        teamRoles: [
          { team: "Approvers", role: "System Administrator" },
          { team: "Approvers", role: "Environment Maker" },
        ],
      }),
      managedRoles: ["Basic User"],
    });
    assert.deepEqual(plan.operations, []);
    assert.equal(plan.noop, true);
    assert.deepEqual(plan.untouchedTeamRoles, ["Environment Maker", "System Administrator"]);
  });

  it("revokes the owned roles, moves the business unit, then resolves roles in the target unit", () => {
    const plan = planUser({
      desired: { businessUnit: "sales", roles: ["Salesperson"] },
      catalog,
      actual: user([R.salesRoot, R.basic]),
      managedRoles: [],
    });
    assert.deepEqual(
      plan.operations.map(
        (o) => `${o.kind}:${o.kind === "setBusinessUnit" ? o.to.name : "role" in o ? o.role?.roleId : ""}`,
      ),
      ["revokeRole:r-basic", "revokeRole:r-sales-root", "setBusinessUnit:Sales"],
    );
    assert.equal(plan.replan, true, "the roles after a move are read, not guessed");
    const after = planUser({
      desired: { businessUnit: "sales", roles: ["Salesperson"] },
      catalog,
      actual: user([], SALES),
      managedRoles: [],
    });
    assert.deepEqual(
      after.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["grantRole:r-sales-s"],
    );
    assert.equal(after.replan, false);
  });

  it("brings a missing user in first, then plans again from what Dataverse holds", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: undefined,
      managedRoles: [],
    });
    assert.deepEqual(plan.operations, [{ kind: "addUser", role: R.basic }]);
    assert.equal(plan.replan, true);
    const none = planUser({ desired: { roles: [] }, catalog, actual: undefined, managedRoles: [] });
    assert.deepEqual(none.operations, [{ kind: "addUser", role: undefined }]);
  });

  it("re-syncs a disabled user users.yaml keeps enabled before any role changes", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.maker], ROOT, { disabled: true }),
      managedRoles: [],
    });
    assert.deepEqual(plan.operations, [{ kind: "resync" }]);
    assert.equal(plan.replan, true, "the roles are planned from what Dataverse holds once it is enabled");
  });

  it("adopts a disabled user users.yaml keeps disabled without a re-sync: checked inputs keep `enabled`", () => {
    const { inputs, failures } = checkInputs({
      upn: "pradeep@contoso.com",
      objectId: "7A3E0C11-2B4D-4E6F-8A1B-3C5D7E9F0A08",
      environment: "prod",
      roles: ["Basic User", "Environment Maker"],
      enabled: false,
    });
    assert.deepEqual(failures, []);
    assert.equal(inputs.enabled, false);
    const plan = planUser({
      desired: inputs,
      catalog,
      actual: user([R.basic, R.maker], ROOT, { disabled: true }),
      managedRoles: [],
    });
    assert.deepEqual(plan.operations, [], "no sync request: it would ask Entra to enable him");
    assert.deepEqual(
      checkInputs({ upn: "a", objectId: "b", environment: "c", roles: [], enabled: "no" }).failures.map(
        (f) => f.property,
      ),
      ["objectId", "enabled"],
    );
  });

  it("skips the grants of a user users.yaml keeps disabled (pending), with a line; revokes still apply", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"], enabled: false },
      catalog,
      actual: user([R.maker], ROOT, { disabled: true }),
      managedRoles: [],
    });
    assert.deepEqual(plan.operations, [{ kind: "revokeRole", role: R.maker }]);
    assert.deepEqual(plan.pendingRoles, ["Basic User"]);
    assert.match(
      plan.warnings.join("\n"),
      /is disabled and users\.yaml keeps it so: "Basic User" will be granted once it is enabled/,
    );
  });

  it("never grants or revokes a role the caller may not assign; says so instead", () => {
    const notAdmin: Caller = { systemAdministrator: false };
    const plan = planUser({
      desired: { roles: ["Basic User", "System Customizer"] },
      catalog,
      actual: user([R.admin, R.maker]),
      managedRoles: [],
      caller: notAdmin,
    });
    assert.deepEqual(
      plan.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["revokeRole:r-maker", "grantRole:r-basic"],
    );
    const lines = plan.warnings.join("\n");
    assert.match(
      lines,
      /declares role "System Customizer", which d365-access will not grant: only a System Administrator/,
    );
    assert.match(lines, /holds role "System Administrator", left as it is: only a System Administrator/);
    // A System Administrator caller owns them: exact set again.
    const admin = planUser({
      desired: { roles: ["Basic User", "System Customizer"] },
      catalog,
      actual: user([R.admin, R.maker]),
      managedRoles: [],
      caller: { systemAdministrator: true },
    });
    assert.deepEqual(
      admin.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["revokeRole:r-maker", "revokeRole:r-admin", "grantRole:r-basic", "grantRole:r-cust"],
    );
  });

  it("leaves a direct role of another business unit (an admin's cross-unit grant), with a line", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([R.basic, R.salesperson]),
      managedRoles: [],
    });
    assert.deepEqual(plan.operations, []);
    assert.match(
      plan.warnings.join("\n"),
      /holds role "Salesperson" of business unit "Sales", outside its own/,
    );
    assert.deepEqual(
      heldRoleNames([R.basic, R.salesperson], ROOT.businessUnitId, ["Basic User"], undefined),
      ["Basic User"],
    );
  });
});

describe("name resolution", () => {
  it("rejects an unknown role, naming environment, business unit and candidates", () => {
    assert.throws(
      () => resolveRoles(catalog, SALES, ["Sales Person"]),
      (e: unknown) =>
        e instanceof PlanError &&
        e.property === "roles" &&
        /contoso-demo/.test(e.message) &&
        /"Sales"/.test(e.message) &&
        /"Sales Person" does not exist/.test(e.message) &&
        /"Salesperson"/.test(e.message),
    );
  });

  it("rejects a name that is ambiguous within the business unit, listing the candidates", () => {
    assert.throws(
      () => resolveRoles(catalog, SALES, ["APPROVER"]),
      (e: unknown) =>
        e instanceof PlanError && /ambiguous/.test(e.message) && /r-dup-a, r-dup-b/.test(e.message),
    );
  });

  it("does not resolve a role that only exists in another business unit", () => {
    assert.throws(() => resolveRoles(catalog, SALES, ["System Administrator"]), /does not exist/);
  });

  it("reports every bad name at once, one line each", () => {
    assert.throws(
      () =>
        planUser({
          desired: { roles: ["Nope", "Approver", "Basic User"] },
          catalog,
          actual: user([], SALES),
          managedRoles: [],
        }),
      (e: unknown) => e instanceof PlanError && e.problems.length === 2,
    );
  });

  it("rejects an unknown business unit", () => {
    assert.throws(
      () =>
        planUser({
          desired: { businessUnit: "Marketing", roles: [] },
          catalog,
          actual: user([]),
          managedRoles: [],
        }),
      (e: unknown) =>
        e instanceof PlanError && e.property === "businessUnit" && /"contoso", "Sales"/.test(e.message),
    );
  });
});

describe("planRemoval", () => {
  it("revokes the whole owned scope, however granted, never a team's; never disables or deletes", () => {
    const { operations, untouched } = planRemoval(
      user([R.basic, R.maker], ROOT, { teamRoles: [{ team: "Approvers", role: "System Administrator" }] }),
    );
    assert.deepEqual(
      operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["revokeRole:r-basic", "revokeRole:r-maker"],
    );
    assert.deepEqual(untouched, []);
  });

  it("leaves, and returns to report, what is not owned: another unit's role, one the caller may not assign", () => {
    const { operations, untouched } = planRemoval(user([R.admin, R.basic, R.salesperson]), {
      systemAdministrator: false,
    });
    assert.deepEqual(
      operations.map((o) => ("role" in o ? o.role?.roleId : "")),
      ["r-basic"],
    );
    assert.deepEqual(
      untouched.map((r) => r.roleId),
      ["r-sales-s", "r-admin"],
    );
  });

  it("is empty when nothing owned is held", () => {
    assert.deepEqual(planRemoval(user([])).operations, []);
  });
});

describe("choosePresence", () => {
  it("does nothing for a user already synced", () => {
    assert.deepEqual(choosePresence({ exists: true, catalog, desired: { roles: ["Basic User"] } }), {
      kind: "present",
    });
  });
  it("uses the just-in-time association with the root copy of the first declared role", () => {
    assert.deepEqual(
      choosePresence({ exists: false, catalog, desired: { businessUnit: "Sales", roles: ["Salesperson"] } }),
      {
        kind: "jit",
        role: R.salesRoot,
      },
    );
  });
  it("never uses a role the caller may not assign for the just-in-time association", () => {
    assert.deepEqual(
      choosePresence({
        exists: false,
        catalog,
        desired: { roles: ["System Administrator", "Basic User"] },
        caller: { systemAdministrator: false },
      }),
      { kind: "jit", role: R.basic },
    );
  });
  it("falls back to addUser when no role is declared", () => {
    assert.deepEqual(choosePresence({ exists: false, catalog, desired: { roles: [] } }), { kind: "addUser" });
  });
});

describe("diff", () => {
  const olds = {
    upn: "a@contoso.com",
    objectId: "OID-1",
    environment: "contoso-demo",
    roles: ["Basic User"],
    systemUserId: "su",
    businessUnitId: "bu-root",
    managedRoles: [],
    adopted: true,
  };
  it("reports no change for case and order differences", () => {
    const d = diff(olds, {
      upn: "A@Contoso.com",
      objectId: "oid-1",
      environment: "contoso-demo",
      roles: ["basic user"],
    });
    assert.deepEqual(d, { changes: false, replaces: [], deleteBeforeReplace: false });
  });
  it("updates on a role or business unit change", () => {
    assert.equal(diff(olds, { ...olds, roles: ["Basic User", "Environment Maker"] }).changes, true);
    assert.deepEqual(diff(olds, { ...olds, businessUnit: "Sales" }).replaces, []);
    assert.equal(diff(olds, { ...olds, businessUnit: "Sales" }).changes, true);
  });
  it("updates when users.yaml enables or disables the person; a rename (new UPN) is an update too", () => {
    assert.equal(diff(olds, { ...olds, enabled: false }).changes, true);
    assert.equal(diff({ ...olds, enabled: false }, { ...olds, enabled: false }).changes, false);
    assert.deepEqual(diff(olds, { ...olds, upn: "b@contoso.com" }), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });
  it("replaces on an environment or object id change", () => {
    assert.deepEqual(diff(olds, { ...olds, environment: "other" }).replaces, ["environment"]);
    assert.deepEqual(diff(olds, { ...olds, objectId: "oid-2" }).replaces, ["objectId"]);
  });
});

describe("planUser, property-based (seeded random states)", () => {
  // A tiny deterministic PRNG so failures reproduce.
  const rng = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const NAMES = [
    "Basic User",
    "Environment Maker",
    "Salesperson",
    "System Administrator",
    "System Customizer",
  ];
  const TEMPLATES: Record<string, string> = {
    "System Administrator": SYSTEM_ADMINISTRATOR_TEMPLATE,
    "System Customizer": SYSTEM_CUSTOMIZER_TEMPLATE,
  };
  // Every business unit holds its own copy of each role, as Dataverse copies them.
  const units = [ROOT, SALES];
  const roles = units.flatMap((bu) =>
    NAMES.map((name) => role(`${bu.businessUnitId}:${name}`, name, bu, TEMPLATES[name])),
  );
  const world: Catalog = { environment: "contoso-demo", businessUnits: units, roles };

  /** Applies an operation the way Dataverse does, asserting d365-access only touches what it owns. */
  function apply(
    state: ActualUser | undefined,
    op: DataverseOperation,
    ctx: { caller: Caller; keepRolesOnMove: boolean; seed: number },
  ): ActualUser {
    const where = `seed ${ctx.seed}: ${op.kind}`;
    switch (op.kind) {
      case "addUser":
        assert.equal(state, undefined, where);
        // Just in time, or by the sync: enabled, in the root unit, with the role it was given.
        return {
          systemUserId: "su-1",
          businessUnitId: ROOT.businessUnitId,
          disabled: false,
          roles: op.role ? [op.role] : [],
        };
      case "resync":
        assert.ok(state?.disabled, where);
        return { ...state, disabled: false };
      case "setBusinessUnit":
        assert.ok(state, where);
        return {
          ...state,
          businessUnitId: op.to.businessUnitId,
          roles: ctx.keepRolesOnMove ? state.roles : [],
        };
      case "revokeRole":
        assert.ok(state, where);
        assert.ok(
          state.roles.some((r) => r.roleId === op.role.roleId),
          where,
        );
        assert.ok(
          owns(op.role, state.businessUnitId, ctx.caller),
          `${where}: revoked a role it does not own`,
        );
        return { ...state, roles: state.roles.filter((r) => r.roleId !== op.role.roleId) };
      case "grantRole":
        assert.ok(state && !state.disabled, `${where}: granted to a disabled user`);
        assert.ok(
          owns(op.role, state.businessUnitId, ctx.caller),
          `${where}: granted a role it may not assign`,
        );
        assert.ok(!state.roles.some((r) => r.roleId === op.role.roleId), `${where}: duplicate grant`);
        return { ...state, roles: [...state.roles, op.role] };
    }
  }

  it("converges, never widens access mid-way, never touches what it does not own, waits for disabled users", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
      const subset = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.35);
      const caller: Caller = { systemAdministrator: r() < 0.5 };
      const ctx = { caller, keepRolesOnMove: r() < 0.3, seed };
      const enabled = r() < 0.7;
      const exists = !enabled || r() < 0.8; // a disabled Entra user cannot be brought in
      const teamRoles = subset(NAMES).map((name) => ({ team: "Approvers", role: name }));
      let state: ActualUser | undefined = exists
        ? {
            systemUserId: "su-1",
            businessUnitId: pick(units).businessUnitId,
            disabled: r() < 0.4,
            roles: subset(roles),
            teamRoles,
          }
        : undefined;
      const desired = { businessUnit: pick([undefined, "Sales"]), roles: subset(NAMES), enabled };
      const start = state;
      const declared = new Set(desired.roles);
      // Not ours at the start: other units' roles and roles the caller may not assign.
      const notOwned = (s: ActualUser | undefined) =>
        (s?.roles ?? [])
          .filter((x) => !owns(x, s?.businessUnitId ?? "", caller) && !declared.has(x.name))
          .map((x) => x.roleId)
          .sort();

      let plan = planUser({ desired, catalog: world, actual: state, managedRoles: [], caller });
      let moved = false;
      for (let round = 0; round < 4; round++) {
        for (const op of plan.operations) {
          moved ||= op.kind === "setBusinessUnit";
          state = apply(state, op, ctx);
          for (const held of state.roles) {
            const before = start?.roles.some((x) => x.roleId === held.roleId) ?? false;
            assert.ok(
              before || declared.has(held.name),
              `seed ${seed}: ${held.name} granted mid-way, undeclared`,
            );
          }
        }
        if (!plan.replan) break;
        plan = planUser({ desired, catalog: world, actual: state, managedRoles: [], caller });
      }
      assert.equal(plan.replan, false, `seed ${seed}: still preparing after four rounds`);
      const again = planUser({ desired, catalog: world, actual: state, managedRoles: [], caller });
      assert.deepEqual(again.operations, [], `seed ${seed}: not converged in one pass`);
      assert.ok(state);
      assert.deepEqual(state.teamRoles, start?.teamRoles, `seed ${seed}: team roles changed`);
      if (!moved)
        assert.deepEqual(notOwned(state), notOwned(start), `seed ${seed}: touched a role it does not own`);
      // The end state: exactly the declared roles it may assign, unless the user stays disabled.
      const target = desired.businessUnit ? SALES : ROOT;
      const assignable = roles.filter(
        (x) =>
          x.businessUnitId === target.businessUnitId &&
          declared.has(x.name) &&
          owns(x, target.businessUnitId, caller),
      );
      const held = ownedRolesOf(state, caller);
      if (!state.disabled)
        assert.deepEqual(held, assignable.map((x) => x.roleId).sort(), `seed ${seed}: not exact`);
      else {
        assert.equal(enabled, false, `seed ${seed}: left disabled though declared enabled`);
        assert.ok(
          held.every((id) => assignable.some((x) => x.roleId === id)),
          `seed ${seed}: undeclared role kept`,
        );
        assert.deepEqual(
          [...again.pendingRoles].sort(),
          assignable
            .filter((x) => !held.includes(x.roleId))
            .map((x) => x.name)
            .sort(),
          `seed ${seed}: pending grants`,
        );
      }
    }
  });
});

/** Role ids in the owned scope of `state` (sorted). */
function ownedRolesOf(state: ActualUser, caller: Caller): string[] {
  return state.roles
    .filter((r) => owns(r, state.businessUnitId, caller))
    .map((r) => r.roleId)
    .sort();
}
