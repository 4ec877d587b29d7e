import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlanError } from "../../providers/core/provider.ts";
import type { ActualUser, BusinessUnit, Catalog, Role } from "../../providers/dataverse/model.ts";
import { choosePresence, diff, planRemoval, planUser, resolveRoles } from "../../providers/dataverse/plan.ts";

const ROOT: BusinessUnit = { businessUnitId: "bu-root", name: "contoso", parentId: undefined };
const SALES: BusinessUnit = { businessUnitId: "bu-sales", name: "Sales", parentId: "bu-root" };

function role(id: string, name: string, bu: BusinessUnit): Role {
  return { roleId: id, name, businessUnitId: bu.businessUnitId };
}
const R = {
  basic: role("r-basic", "Basic User", ROOT),
  maker: role("r-maker", "Environment Maker", ROOT),
  admin: role("r-admin", "System Administrator", ROOT),
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
      actual: user([R.basic], ROOT, { teamRoles: [R.admin, R.maker] }),
      managedRoles: ["Basic User"],
    });
    assert.deepEqual(plan.operations, []);
    assert.equal(plan.noop, true);
    assert.deepEqual(plan.untouchedTeamRoles, ["Environment Maker", "System Administrator"]);
  });

  it("moves the business unit first and resolves roles in the target unit", () => {
    const plan = planUser({
      desired: { businessUnit: "sales", roles: ["Salesperson"] },
      catalog,
      actual: user([R.salesRoot]),
      managedRoles: [],
    });
    assert.deepEqual(
      plan.operations.map((o) => `${o.kind}:${o.kind === "setBusinessUnit" ? o.to.name : o.role?.roleId}`),
      ["setBusinessUnit:Sales"],
    );
    assert.equal(plan.replan, true, "the roles after a move are read, not guessed");
    // Dataverse stripped the roles on the move (its default): the next plan grants in the new unit.
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
    // With DoNotRemoveRolesOnChangeBusinessUnit the old unit's role stays: revoked, then the grant.
    const kept = planUser({
      desired: { businessUnit: "sales", roles: ["Salesperson"] },
      catalog,
      actual: user([R.salesRoot], SALES),
      managedRoles: [],
    });
    assert.deepEqual(
      kept.operations.map((o) => `${o.kind}:${"role" in o ? o.role?.roleId : ""}`),
      ["revokeRole:r-sales-root", "grantRole:r-sales-s"],
    );
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

  it("warns when grants target a disabled user", () => {
    const plan = planUser({
      desired: { roles: ["Basic User"] },
      catalog,
      actual: user([], ROOT, { disabled: true }),
      managedRoles: [],
    });
    assert.match(plan.warnings.join("\n"), /disabled/);
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
  it("revokes only the roles we granted, never someone else's or a team's", () => {
    const ops = planRemoval(user([R.basic, R.maker], ROOT, { teamRoles: [R.admin] }), ["environment maker"]);
    assert.deepEqual(
      ops.map((o) => ("role" in o ? o.role?.roleId : "")),
      ["r-maker"],
    );
  });

  it("is empty when our roles are already gone", () => {
    assert.deepEqual(planRemoval(user([R.basic]), ["Environment Maker"]), []);
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
  it("replaces on an environment or object id change", () => {
    assert.deepEqual(diff(olds, { ...olds, environment: "other" }).replaces, ["environment"]);
    assert.deepEqual(diff(olds, { ...olds, objectId: "oid-2" }).replaces, ["objectId"]);
  });
});
