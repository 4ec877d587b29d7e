import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlanError } from "../../providers/core/provider.ts";
import type {
  DesiredFnoUser,
  FnoLiveState,
  FnoRole,
  FnoRoleAssignment,
  FnoRoleOrganization,
  FnoUserRecord,
} from "../../providers/fno/model.ts";
import {
  diff,
  type FnoOperation,
  isOwnedAssignment,
  liveView,
  planRemoval,
  planUser,
} from "../../providers/fno/plan.ts";

const catalog: FnoRole[] = [
  { identifier: "-SYSADMIN-", name: "System administrator" },
  { identifier: "SYSTEMUSER", name: "System user" },
  { identifier: "LEDGERACCOUNTANT", name: "Accountant" },
  { identifier: "LEDGERACCOUNTINGMANAGER", name: "Accounting manager" },
  { identifier: "VENDVENDORMANAGER", name: "Vendor manager" },
  { identifier: "VENDINVOICECLERK", name: "Accounts payable clerk" },
  { identifier: "VENDPAYMENTCLERK", name: "Accounts payable clerk" },
];

const desired = (over: Partial<DesiredFnoUser> = {}): DesiredFnoUser => ({
  upn: "alice@contoso.com",
  userId: "alice",
  userName: "Alice Liddell",
  company: "USMF",
  enabled: true,
  roles: [{ role: "Accountant", legalEntities: [] }],
  ...over,
});

const user = (over: Partial<FnoUserRecord> = {}): FnoUserRecord => ({
  userId: "alice",
  userName: "Alice Liddell",
  alias: "alice@contoso.com",
  email: "alice@contoso.com",
  networkDomain: "https://sts.windows.net/",
  accountType: "ClaimsUser",
  company: "USMF",
  enabled: true,
  ...over,
});

const role = (roleId: string, over: Partial<FnoRoleAssignment> = {}): FnoRoleAssignment => ({
  userId: "alice",
  roleId,
  roleName: catalog.find((r) => r.identifier === roleId)?.name ?? roleId,
  status: "Enabled",
  mode: "Manual",
  ...over,
});

const org = (roleId: string, organizationId: string, userId = "alice"): FnoRoleOrganization => ({
  userId,
  roleId,
  organizationType: "LegalEntity",
  organizationId,
});

const admin = user({ userId: "Admin", userName: "Admin", alias: "admin@contoso.com" });
const bob = user({ userId: "bob", userName: "Bob", alias: "bob@contoso.com" });

const live = (over: Partial<FnoLiveState> = {}): FnoLiveState => ({
  users: [admin, bob, user()],
  assignments: [
    role("SYSTEMUSER"),
    role("LEDGERACCOUNTANT"),
    role("-SYSADMIN-", { userId: "Admin" }),
    role("VENDVENDORMANAGER", { userId: "bob" }),
  ],
  organizations: [org("VENDVENDORMANAGER", "DEMF", "bob")],
  ...over,
});

describe("planUser", () => {
  it("creates a new user with every imported field set explicitly, then assigns its roles", () => {
    const plan = planUser(desired({ userId: "alice2", upn: "alice2@contoso.com" }), live(), catalog);
    assert.equal(plan.adopted, false);
    assert.equal(plan.userId, "alice2");
    assert.deepEqual(plan.operations, [
      {
        kind: "createUser",
        userId: "alice2",
        user: {
          userId: "alice2",
          userName: "Alice Liddell",
          alias: "alice2@contoso.com",
          email: "alice2@contoso.com",
          networkDomain: "https://sts.windows.net/",
          accountType: "ClaimsUser",
          company: "USMF",
          enabled: true,
          language: "en-us",
          helpLanguage: "en-us",
        },
      },
      {
        kind: "assignRole",
        userId: "alice2",
        roleId: "LEDGERACCOUNTANT",
        roleName: "Accountant",
        enabled: true,
      },
    ]);
    assert.deepEqual(plan.managedRoles, [{ role: "LEDGERACCOUNTANT", legalEntities: [] }]);
  });

  it("plans nothing when the environment already matches (no-op)", () => {
    const plan = planUser(desired(), live(), catalog);
    assert.equal(plan.adopted, true);
    assert.deepEqual(plan.operations, []);
  });

  it("adopts an existing record by Alias regardless of case, keeping its UserID", () => {
    const existing = user({ userId: "ALIDDELL", alias: "Alice@Contoso.COM", userName: "A. Liddell" });
    const plan = planUser(
      desired({ upn: "alice@contoso.com", userId: "alice" }),
      live({ users: [existing] }),
      catalog,
    );
    assert.equal(plan.adopted, true);
    assert.equal(plan.userId, "ALIDDELL");
    assert.deepEqual(plan.operations, [
      { kind: "updateUser", userId: "ALIDDELL", changes: { userName: "Alice Liddell" } },
      {
        kind: "assignRole",
        userId: "ALIDDELL",
        roleId: "LEDGERACCOUNTANT",
        roleName: "Accountant",
        enabled: true,
      },
    ]);
  });

  it("treats role names, company and legal entities case-insensitively", () => {
    const state = live({
      users: [user({ company: "usmf" })],
      assignments: [role("SYSTEMUSER"), role("LEDGERACCOUNTANT")],
      organizations: [org("LEDGERACCOUNTANT", "usmf")],
    });
    const plan = planUser(
      desired({ roles: [{ role: "ledgeraccountant", legalEntities: ["USMF"] }] }),
      state,
      catalog,
    );
    assert.deepEqual(plan.operations, []);
    const byLabel = planUser(
      desired({ roles: [{ role: "ACCOUNTANT", legalEntities: ["Usmf"] }] }),
      state,
      catalog,
    );
    assert.deepEqual(byLabel.operations, []);
  });

  it("adds declared roles and removes undeclared manual roles, revoking before granting", () => {
    const state = live({
      assignments: [role("SYSTEMUSER"), role("LEDGERACCOUNTANT"), role("VENDINVOICECLERK")],
      organizations: [org("VENDINVOICECLERK", "USMF")],
    });
    const plan = planUser(desired({ roles: [{ role: "-SYSADMIN-", legalEntities: [] }] }), state, catalog);
    assert.deepEqual(plan.operations, [
      { kind: "removeRole", userId: "alice", roleId: "LEDGERACCOUNTANT" },
      { kind: "removeRole", userId: "alice", roleId: "VENDINVOICECLERK" },
      // The org row goes after its role: removing it first would widen the role to every company.
      { kind: "removeRoleOrganization", userId: "alice", roleId: "VENDINVOICECLERK", organizationId: "USMF" },
      {
        kind: "assignRole",
        userId: "alice",
        roleId: "-SYSADMIN-",
        roleName: "System administrator",
        enabled: true,
      },
    ]);
  });

  it("never revokes SYSTEMUSER, rule-based (Automatic) rows or exclusions, and ignores a declared SYSTEMUSER", () => {
    const state = live({
      assignments: [
        role("SYSTEMUSER"),
        role("LEDGERACCOUNTANT"),
        role("VENDVENDORMANAGER", { mode: "Automatic" }),
        // An admin's "Exclude from role": a Manual row that is not Enabled.
        role("VENDINVOICECLERK", { status: "Disabled" }),
      ],
      organizations: [org("VENDINVOICECLERK", "USMF")],
    });
    const plan = planUser(
      desired({
        roles: [
          { role: "LEDGERACCOUNTANT", legalEntities: [] },
          { role: "systemuser", legalEntities: [] },
        ],
      }),
      state,
      catalog,
    );
    assert.deepEqual(plan.operations, []);
    assert.deepEqual(plan.managedRoles, [{ role: "LEDGERACCOUNTANT", legalEntities: [] }]);
    const none = planUser(desired({ roles: [] }), state, catalog);
    assert.deepEqual(none.operations, [{ kind: "removeRole", userId: "alice", roleId: "LEDGERACCOUNTANT" }]);
  });

  it("leaves a declared role held through a rule's Enabled row to the rule (status, organizations)", () => {
    const state = live({
      assignments: [role("SYSTEMUSER"), role("VENDVENDORMANAGER", { mode: "Automatic" })],
    });
    const declared = [{ role: "Vendor manager", legalEntities: ["USMF"] }];
    const plan = planUser(desired({ roles: declared }), state, catalog);
    assert.deepEqual(plan.operations, []);
    assert.deepEqual(plan.managedRoles, [], "the rule's, not ours");
    assert.deepEqual(liveView("alice", state, catalog, declared)?.roles, declared, "refresh shows no drift");
  });

  it("grants a declared role held only by a row that is not Enabled: restricted first, then made Manual and Enabled", () => {
    const declared = [{ role: "Vendor manager", legalEntities: ["USMF"] }];
    for (const mode of ["Automatic", "Manual"]) {
      const state = live({
        assignments: [role("SYSTEMUSER"), role("VENDVENDORMANAGER", { mode, status: "Disabled" })],
      });
      assert.deepEqual(
        liveView("alice", state, catalog, declared)?.roles,
        [],
        `${mode}: a disabled row holds nothing`,
      );
      const plan = planUser(desired({ roles: declared }), state, catalog);
      assert.deepEqual(plan.operations, [
        { kind: "addRoleOrganization", userId: "alice", roleId: "VENDVENDORMANAGER", organizationId: "USMF" },
        { kind: "enableRole", userId: "alice", roleId: "VENDVENDORMANAGER" },
      ]);
      assert.deepEqual(plan.managedRoles, [{ role: "VENDVENDORMANAGER", legalEntities: ["USMF"] }]);
    }
  });

  it("adds and removes exactly the declared legal entities, adding before removing", () => {
    const state = live({ organizations: [org("LEDGERACCOUNTANT", "USMF"), org("LEDGERACCOUNTANT", "DEMF")] });
    const plan = planUser(
      desired({ roles: [{ role: "Accountant", legalEntities: ["usmf", "GBSI"] }] }),
      state,
      catalog,
    );
    assert.deepEqual(plan.operations, [
      { kind: "addRoleOrganization", userId: "alice", roleId: "LEDGERACCOUNTANT", organizationId: "GBSI" },
      { kind: "removeRoleOrganization", userId: "alice", roleId: "LEDGERACCOUNTANT", organizationId: "DEMF" },
    ]);
    assert.deepEqual(plan.managedRoles, [{ role: "LEDGERACCOUNTANT", legalEntities: ["GBSI", "USMF"] }]);
    const unrestricted = planUser(desired(), state, catalog);
    assert.deepEqual(
      unrestricted.operations.map((o) => (o.kind === "removeRoleOrganization" ? o.organizationId : o.kind)),
      ["DEMF", "USMF"],
    );
  });

  it("assigns a new restricted role disabled, restricts it, then enables it (never unrestricted)", () => {
    const plan = planUser(
      desired({ roles: [{ role: "Vendor manager", legalEntities: ["USMF"] }] }),
      live({ assignments: [role("SYSTEMUSER")] }),
      catalog,
    );
    assert.deepEqual(plan.operations, [
      {
        kind: "assignRole",
        userId: "alice",
        roleId: "VENDVENDORMANAGER",
        roleName: "Vendor manager",
        enabled: false,
      },
      { kind: "addRoleOrganization", userId: "alice", roleId: "VENDVENDORMANAGER", organizationId: "USMF" },
      { kind: "enableRole", userId: "alice", roleId: "VENDVENDORMANAGER" },
    ]);
  });

  it("re-enables a disabled assignment of a declared role instead of adding a duplicate", () => {
    const plan = planUser(
      desired(),
      live({ assignments: [role("SYSTEMUSER"), role("LEDGERACCOUNTANT", { status: "Disabled" })] }),
      catalog,
    );
    assert.deepEqual(plan.operations, [{ kind: "enableRole", userId: "alice", roleId: "LEDGERACCOUNTANT" }]);
  });

  it("disables first but enables last, so a user is never enabled with stale roles", () => {
    const disabledUser = live({ users: [user({ enabled: false })], assignments: [role("VENDINVOICECLERK")] });
    assert.deepEqual(
      planUser(desired(), disabledUser, catalog).operations.map((o) => o.kind),
      ["removeRole", "assignRole", "updateUser"],
    );
    const enabledUser = live({ assignments: [role("VENDINVOICECLERK")] });
    assert.deepEqual(
      planUser(desired({ enabled: false }), enabledUser, catalog).operations.map((o) => o.kind),
      ["updateUser", "removeRole", "assignRole"],
    );
  });

  it("leaves other users' rows alone", () => {
    const plan = planUser(desired({ roles: [] }), live(), catalog);
    assert.ok(plan.operations.every((o) => o.userId === "alice"));
  });

  it("refuses to adopt or create a preconfigured account, naming the docs page", () => {
    assert.throws(
      () => planUser(desired({ upn: "admin@contoso.com", userId: "admin2" }), live(), catalog),
      (e: unknown) =>
        e instanceof PlanError &&
        /Admin is one of Microsoft's preconfigured accounts \(https:\/\/learn\.microsoft\.com\/.*pre-configured-system-accounts\)/.test(
          e.message,
        ),
    );
    for (const userId of ["FRServiceUser", "axrunner", "PowerPlatformS2S", "ScaleUnit", "Axping"]) {
      assert.throws(
        () => planUser(desired({ upn: "new@contoso.com", userId }), live(), catalog),
        /preconfigured accounts/,
        userId,
      );
    }
  });

  it("refuses the F&O user the app acts as (SysAADClients), adopted by Alias or kept by id", () => {
    const svc = user({ userId: "svc-app", alias: "svc-app@contoso.com" });
    const state = live({ users: [svc, user()] });
    for (const [want, options] of [
      [desired({ upn: "svc-app@contoso.com", userId: "svc-app" }), { appUserId: "SVC-APP" }],
      [desired({ upn: "svc.renamed@contoso.com" }), { appUserId: "svc-app", managed: "svc-app" }],
    ] as const) {
      assert.throws(
        () => planUser(want, state, catalog, options),
        /svc-app is the user d365-access's own app acts as .*lock d365-access out/,
      );
    }
    assert.throws(
      () => planRemoval("svc-app", state, created("disable"), { appUserId: "svc-app" }),
      /own app acts as/,
    );
  });

  it("keeps the user it manages across a rename: same UserID, Alias and Email follow the new UPN", () => {
    const state = live();
    const renamed = desired({ upn: "alice.smith@contoso.com", userId: "alice.smith" });
    const plan = planUser(renamed, state, catalog, { managed: "ALICE" });
    assert.equal(plan.userId, "alice");
    assert.deepEqual(plan.operations, [
      {
        kind: "updateUser",
        userId: "alice",
        changes: { alias: "alice.smith@contoso.com", email: "alice.smith@contoso.com" },
      },
    ]);
    // An Email that is another address than the old UPN is the user's mail: kept.
    const mail = live({ users: [user({ email: "a.liddell@mail.contoso.com" })] });
    assert.deepEqual(planUser(renamed, mail, catalog, { managed: "alice" }).operations, [
      { kind: "updateUser", userId: "alice", changes: { alias: "alice.smith@contoso.com" } },
    ]);
    // Another record already holding the new Alias is a conflict, not a takeover.
    const taken = live({ users: [user(), user({ userId: "asmith", alias: "Alice.Smith@contoso.com" })] });
    assert.throws(
      () => planUser(renamed, taken, catalog, { managed: "alice" }),
      /alice cannot take Alias alice\.smith@contoso\.com: asmith already has it/,
    );
  });

  it("adopts a matching user with an empty Email or another spelling of its Alias without a write", () => {
    for (const record of [
      user({ email: "" }),
      user({ alias: "ALICE@Contoso.com", email: "ALICE@Contoso.com" }),
    ]) {
      const plan = planUser(desired(), live({ users: [record] }), catalog);
      assert.equal(plan.adopted, true);
      assert.deepEqual(plan.operations, [], JSON.stringify(record));
    }
    // A rename still fills an empty Email with the new UPN.
    const renamed = desired({ upn: "alice.smith@contoso.com" });
    assert.deepEqual(
      planUser(renamed, live({ users: [user({ email: "" })] }), catalog, { managed: "alice" }).operations,
      [
        {
          kind: "updateUser",
          userId: "alice",
          changes: { alias: "alice.smith@contoso.com", email: "alice.smith@contoso.com" },
        },
      ],
    );
  });

  it("refuses a UserID that belongs to another identity instead of taking it over", () => {
    assert.throws(
      () => planUser(desired({ upn: "robert@contoso.com", userId: "BOB" }), live(), catalog),
      /UserID bob already belongs to bob@contoso.com, not robert@contoso.com/,
    );
  });

  it("reports unknown and ambiguous role names with candidates, before any write", () => {
    assert.throws(
      () =>
        planUser(
          desired({
            roles: [
              { role: "Accounts payable clerk", legalEntities: [] },
              { role: "Accountan", legalEntities: [] },
            ],
          }),
          live(),
          catalog,
        ),
      (e: unknown) =>
        e instanceof PlanError &&
        e.problems.length === 2 &&
        /ambiguous.*\(VENDINVOICECLERK, VENDPAYMENTCLERK\)/.test(e.problems[0] ?? "") &&
        /"Accountan" is unknown.*LEDGERACCOUNTANT \("Accountant"\)/.test(e.problems[1] ?? ""),
    );
  });

  it("rejects a UserID longer than 20 characters for a new user", () => {
    assert.throws(
      () => planUser(desired({ upn: "x@contoso.com", userId: "abcdefghijklmnopqrstu" }), live(), catalog),
      /1 to 20 characters/,
    );
  });

  it("is deterministic: declaration order does not change the plan", () => {
    const a = planUser(
      desired({
        roles: [
          { role: "Vendor manager", legalEntities: ["USMF", "DEMF"] },
          { role: "-SYSADMIN-", legalEntities: [] },
        ],
      }),
      live(),
      catalog,
    );
    const b = planUser(
      desired({
        roles: [
          { role: "-sysadmin-", legalEntities: [] },
          { role: "VENDVENDORMANAGER", legalEntities: ["demf", "usmf"] },
        ],
      }),
      live(),
      catalog,
    );
    assert.deepEqual(a.operations, b.operations);
    assert.deepEqual(a.managedRoles, b.managedRoles);
  });
});

const created = (onRemove: "disable" | "delete") => ({ provenance: "created" as const, onRemove });

describe("planRemoval", () => {
  const state = live({
    assignments: [
      role("SYSTEMUSER"),
      role("LEDGERACCOUNTANT"),
      role("VENDINVOICECLERK"),
      role("VENDVENDORMANAGER", { mode: "Automatic" }),
      role("-SYSADMIN-", { status: "Disabled" }),
    ],
    organizations: [org("LEDGERACCOUNTANT", "USMF"), org("VENDVENDORMANAGER", "DEMF")],
  });
  const revokeAll = [
    { kind: "removeRole", userId: "alice", roleId: "LEDGERACCOUNTANT" },
    { kind: "removeRoleOrganization", userId: "alice", roleId: "LEDGERACCOUNTANT", organizationId: "USMF" },
    { kind: "removeRole", userId: "alice", roleId: "VENDINVOICECLERK" },
  ];

  it("revokes the whole owned scope (every Manual, Enabled row, however granted) and disables", () => {
    // Not SYSTEMUSER, not the rule's row, not the exclusion, not other users' rows.
    assert.deepEqual(planRemoval("alice", state, created("disable")), [
      ...revokeAll,
      { kind: "updateUser", userId: "alice", changes: { enabled: false } },
    ]);
  });

  it("deletes only after revoking and disabling, and treats a missing user as done", () => {
    assert.deepEqual(planRemoval("alice", state, created("delete")), [
      ...revokeAll,
      { kind: "updateUser", userId: "alice", changes: { enabled: false } },
      { kind: "deleteUser", userId: "alice" },
    ]);
    assert.deepEqual(planRemoval("carol", state, created("delete")), []);
  });

  it("never deletes an adopted user, whatever onRemove says: revokes and disables it", () => {
    assert.deepEqual(planRemoval("alice", state, { provenance: "adopted", onRemove: "delete" }), [
      ...revokeAll,
      { kind: "updateUser", userId: "alice", changes: { enabled: false } },
    ]);
  });

  it("never touches a preconfigured account", () => {
    assert.throws(() => planRemoval("admin", state, created("disable")), /preconfigured accounts/);
  });
});

describe("liveView and diff", () => {
  const inputs = {
    upn: "alice@contoso.com",
    environment: "contoso-demo",
    userId: "alice",
    userName: "Alice Liddell",
    company: "USMF",
    enabled: true,
    roles: [{ role: "Accountant", legalEntities: ["USMF"] }],
  };

  it("reports no change for identical or case-different declarations", () => {
    assert.deepEqual(diff(inputs, { ...inputs }), { changes: false, replaces: [], changed: [] });
    const cased = {
      ...inputs,
      upn: "Alice@Contoso.com",
      company: "usmf",
      userId: "aliddell",
      roles: [{ role: "accountant", legalEntities: ["usmf"] }],
    };
    assert.equal(diff(inputs, cased).changes, false);
  });

  it("replaces on a new environment, updates on a new UPN (a rename) and on changed access", () => {
    assert.deepEqual(diff(inputs, { ...inputs, upn: "alice.smith@contoso.com" }), {
      changes: true,
      replaces: [],
      changed: ["upn"],
    });
    assert.deepEqual(diff(inputs, { ...inputs, environment: "other" }).replaces, ["environment"]);
    const changed = diff(inputs, {
      ...inputs,
      enabled: false,
      roles: [{ role: "Accountant", legalEntities: [] }],
    });
    assert.deepEqual(changed, { changes: true, replaces: [], changed: ["enabled", "roles"] });
  });

  it("shows drift: a role added in F&O appears by identifier, declared ones keep their written name", () => {
    const state = live({
      assignments: [role("SYSTEMUSER"), role("LEDGERACCOUNTANT"), role("VENDINVOICECLERK")],
      organizations: [org("LEDGERACCOUNTANT", "usmf")],
    });
    const view = liveView("ALICE", state, catalog, inputs.roles);
    assert.ok(view);
    assert.deepEqual(view.roles, [
      { role: "Accountant", legalEntities: ["USMF"] },
      { role: "VENDINVOICECLERK", legalEntities: [] },
    ]);
    assert.deepEqual(diff({ ...inputs, roles: view.roles }, inputs).changed, ["roles"]);
    assert.equal(liveView("nobody", state, catalog, []), undefined);
  });
});

describe("planUser, property-based (seeded random states)", () => {
  // A tiny deterministic PRNG so failures reproduce.
  const rng = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const ids = catalog.map((r) => r.identifier);
  const entities = ["USMF", "DEMF", "GBSI"];

  /** Applies operations the way F&O would (deleting a role row cascades its organization rows). */
  function apply(state: FnoLiveState, op: FnoOperation): FnoLiveState {
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const users = [...state.users];
    let assignments = [...state.assignments];
    let organizations = [...state.organizations];
    switch (op.kind) {
      case "createUser":
        users.push({ ...op.user });
        assignments.push(role("SYSTEMUSER", { userId: op.userId }));
        break;
      case "updateUser": {
        const i = users.findIndex((u) => same(u.userId, op.userId));
        users[i] = { ...(users[i] as FnoUserRecord), ...op.changes };
        break;
      }
      case "assignRole":
        assert.ok(
          !assignments.some((a) => same(a.userId, op.userId) && same(a.roleId, op.roleId)),
          "duplicate row",
        );
        assignments.push(role(op.roleId, { userId: op.userId, status: op.enabled ? "Enabled" : "Disabled" }));
        break;
      case "enableRole":
        assignments = assignments.map((a) =>
          same(a.userId, op.userId) && same(a.roleId, op.roleId)
            ? { ...a, status: "Enabled", mode: "Manual" }
            : a,
        );
        break;
      case "removeRole":
        assignments = assignments.filter((a) => !(same(a.userId, op.userId) && same(a.roleId, op.roleId)));
        organizations = organizations.filter(
          (o) => !(same(o.userId, op.userId) && same(o.roleId, op.roleId)),
        );
        break;
      case "addRoleOrganization":
        assert.ok(
          assignments.some((a) => same(a.userId, op.userId) && same(a.roleId, op.roleId)),
          "org before role",
        );
        organizations.push(org(op.roleId, op.organizationId, op.userId));
        break;
      case "removeRoleOrganization":
        organizations = organizations.filter(
          (o) =>
            !(
              same(o.userId, op.userId) &&
              same(o.roleId, op.roleId) &&
              same(o.organizationId, op.organizationId)
            ),
        );
        break;
      case "deleteUser":
        return {
          users: users.filter((u) => !same(u.userId, op.userId)),
          assignments: assignments.filter((a) => !same(a.userId, op.userId)),
          organizations: organizations.filter((o) => !same(o.userId, op.userId)),
        };
    }
    return { users, assignments, organizations };
  }

  /** Rows of alice that d365-access does not own (rule rows, exclusions, SYSTEMUSER), with their organizations. */
  const notOwned = (s: FnoLiveState, except: (roleId: string) => boolean = () => false) =>
    s.assignments
      .filter((a) => a.userId === "alice" && !isOwnedAssignment(a) && !except(a.roleId))
      .map((a) => ({
        ...a,
        organizations: s.organizations
          .filter((o) => o.userId === "alice" && o.roleId === a.roleId)
          .map((o) => o.organizationId)
          .sort(),
      }))
      .sort((x, y) => (x.roleId < y.roleId ? -1 : 1));

  /** Roles that are enabled and apply in every company, per user. */
  const unrestricted = (s: FnoLiveState, userId: string) =>
    s.assignments
      .filter((a) => a.userId === userId && a.status === "Enabled" && a.roleId !== "SYSTEMUSER")
      .filter((a) => !s.organizations.some((o) => o.userId === userId && o.roleId === a.roleId))
      .map((a) => a.roleId);

  it("converges in one pass, is idempotent, never widens access mid-way and touches only what it owns", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
      const subset = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.4);
      const exists = r() < 0.7;
      let state: FnoLiveState = {
        users: exists ? [bob, user({ enabled: r() < 0.5, company: pick(entities) })] : [bob],
        assignments: [
          role("VENDVENDORMANAGER", { userId: "bob" }),
          ...(exists
            ? [
                role("SYSTEMUSER"),
                ...subset(ids.filter((i) => i !== "SYSTEMUSER")).map((i) =>
                  role(i, {
                    status: r() < 0.2 ? "Disabled" : "Enabled",
                    mode: r() < 0.15 ? "Automatic" : "Manual",
                  }),
                ),
              ]
            : []),
        ],
        organizations: [org("VENDVENDORMANAGER", "DEMF", "bob")],
      };
      if (exists) {
        for (const a of state.assignments.filter((a) => a.userId === "alice" && a.roleId !== "SYSTEMUSER")) {
          state = {
            ...state,
            organizations: [...state.organizations, ...subset(entities).map((e) => org(a.roleId, e))],
          };
        }
      }
      const roles = subset(
        ids.filter((i) => i !== "SYSTEMUSER" && (!i.startsWith("VEND") || i === "VENDVENDORMANAGER")),
      ).map((i) => ({
        role: r() < 0.5 ? i.toLowerCase() : (catalog.find((c) => c.identifier === i)?.name ?? i),
        legalEntities: subset(entities),
      }));
      const want = desired({ enabled: r() < 0.7, company: pick(entities), roles });
      const start = state;
      const before = new Set(unrestricted(state, "alice"));
      const plan = planUser(want, state, catalog);
      for (const op of plan.operations) {
        assert.equal(op.userId, "alice", `seed ${seed}: touched ${op.userId}`);
        assert.ok(!("roleId" in op) || op.roleId !== "SYSTEMUSER", `seed ${seed}: touched SYSTEMUSER`);
        state = apply(state, op);
        for (const roleId of unrestricted(state, "alice")) {
          const declared = plan.managedRoles.find((m) => m.role === roleId);
          const endsUnrestricted = declared?.legalEntities.length === 0;
          assert.ok(before.has(roleId) || endsUnrestricted, `seed ${seed}: ${roleId} unrestricted mid-way`);
        }
      }
      assert.deepEqual(planUser(want, state, catalog).operations, [], `seed ${seed}: not converged`);
      assert.deepEqual(
        state.assignments.filter((a) => a.userId === "bob"),
        start.assignments.filter((a) => a.userId === "bob"),
      );
      // Rule rows, exclusions and SYSTEMUSER of roles users.yaml does not declare: exactly as they were.
      // (A new user gets SYSTEMUSER from F&O itself.)
      const declared = (roleId: string) =>
        plan.managedRoles.some((m) => m.role === roleId) || (!exists && roleId === "SYSTEMUSER");
      assert.deepEqual(
        notOwned(state, declared),
        notOwned(start, declared),
        `seed ${seed}: touched a row it does not own`,
      );
      // A declared role held by a rule's Enabled row stays the rule's.
      for (const a of start.assignments.filter(
        (a) => a.userId === "alice" && a.mode === "Automatic" && a.status === "Enabled",
      ))
        assert.ok(
          state.assignments.some(
            (b) => b.userId === "alice" && b.roleId === a.roleId && b.mode === "Automatic",
          ),
        );

      // Removal: no owned row left, disabled (or deleted), everything it does not own as it was.
      const account = r() < 0.5 ? "delete" : "disable";
      const provenance = r() < 0.5 ? "adopted" : "created";
      const removed = planRemoval("alice", state, { provenance, onRemove: account }).reduce(apply, state);
      assert.ok(
        !removed.assignments.some((a) => a.userId === "alice" && isOwnedAssignment(a)),
        `seed ${seed}: owned row left`,
      );
      if ((account === "disable" || provenance === "adopted") && exists) {
        assert.equal(
          removed.users.find((u) => u.userId === "alice")?.enabled,
          false,
          `seed ${seed}: still enabled`,
        );
        assert.deepEqual(
          notOwned(removed),
          notOwned(state),
          `seed ${seed}: removal touched a row it does not own`,
        );
      }
      assert.deepEqual(
        removed.assignments.filter((a) => a.userId === "bob"),
        start.assignments.filter((a) => a.userId === "bob"),
      );
    }
  });
});
