import assert from "node:assert/strict";
import { test } from "node:test";
import type { DesiredState, DesiredUser } from "../../src/model/index.ts";
import {
  appliedResources,
  DEFAULT_GUARDS,
  declaredResources,
  fileGuards,
  guardRefusal,
  guardsInForce,
  guardsOfOutput,
  guardViolations,
  overridden,
  resourceChanges,
  summarizeChange,
} from "../../src/program/guards.ts";
import { appliedOfOutput, guardFactsOutput } from "../../src/program/last.ts";

function user(upn: string, over: Partial<DesiredUser> = {}): DesiredUser {
  return {
    upn,
    displayName: upn,
    usageLocation: "US",
    enabled: true,
    manage: "adopt",
    onRemove: "disable",
    personas: [],
    licenses: [{ sku: "DYN365_FINANCE", disabledPlans: [] }],
    managedLicenses: ["DYN365_FINANCE"],
    dataverse: [{ environment: "prod", roles: ["Basic User"] }],
    fno: [
      {
        environment: "prod",
        userId: upn.split("@")[0] ?? upn,
        company: "USMF",
        roles: [{ role: "LEDGERACCOUNTANT", legalEntities: [] }],
      },
    ],
    source: { file: "users.yaml", line: 1, col: 1 },
    ...over,
  };
}

function state(users: DesiredUser[]): DesiredState {
  return {
    files: ["users.yaml"],
    environments: [],
    users,
    rules: { sod: [] },
    guards: {},
    managedLicenses: ["DYN365_FINANCE"],
    warnings: [],
  };
}

/** The previous deployment as exportStack() shows it: inputs as the program declared them. */
function deployment(users: DesiredUser[]) {
  return {
    resources: [
      { type: "pulumi:pulumi:Stack", inputs: {} },
      ...users.flatMap((u) => [
        {
          type: "pulumi-nodejs:dynamic/entra:User",
          inputs: { upn: u.upn, enabled: u.enabled, licenses: u.licenses, __provider: "x" },
        },
        ...u.dataverse.map((a) => ({
          type: "pulumi-nodejs:dynamic/dataverse:User",
          inputs: { upn: u.upn, environment: a.environment, roles: a.roles },
        })),
        ...u.fno.map((a) => ({
          type: "pulumi-nodejs:dynamic/fno:User",
          inputs: {
            upn: u.upn,
            environment: a.environment,
            company: a.company,
            enabled: u.enabled,
            roles: a.roles,
          },
        })),
      ]),
    ],
  };
}

test("an unchanged declaration is no change, whatever the case of UPNs", () => {
  const users = [user("Ann@x.example"), user("bob@x.example")];
  const summary = summarizeChange(
    appliedResources(deployment(users)),
    declaredResources(state([user("ann@X.example"), user("bob@x.example")])),
  );
  assert.deepEqual(summary, {
    usersChanged: [],
    usersRemoved: [],
    roleChanges: 0,
    licenseChanges: 0,
    revoked: 0,
    existing: 6,
  });
});

test("added and removed users, roles, legal entities and licenses are counted", () => {
  const before = [user("ann@x.example"), user("bob@x.example"), user("cid@x.example")];
  const after = [
    user("ann@x.example", {
      fno: [
        {
          environment: "prod",
          userId: "ann",
          company: "USMF",
          roles: [{ role: "LEDGERACCOUNTANT", legalEntities: ["USMF"] }],
        },
      ],
    }),
    user("bob@x.example", { enabled: false }),
    user("dan@x.example", { licenses: [] }),
  ];
  const summary = summarizeChange(appliedResources(deployment(before)), declaredResources(state(after)));
  assert.deepEqual(summary.usersChanged, [
    "ann@x.example",
    "bob@x.example",
    "cid@x.example",
    "dan@x.example",
  ]);
  assert.deepEqual(summary.usersRemoved, ["cid@x.example"]);
  // ann: LEDGERACCOUNTANT → LEDGERACCOUNTANT@USMF (2); cid: 2 roles revoked; dan: 2 roles granted.
  assert.equal(summary.roleChanges, 6);
  assert.equal(summary.licenseChanges, 1); // cid's license; dan declares none
});

test("a first run counts every declared user as changed", () => {
  const summary = summarizeChange(
    appliedResources(undefined),
    declaredResources(state([user("ann@x.example")])),
  );
  assert.deepEqual(summary.usersChanged, ["ann@x.example"]);
  assert.equal(summary.roleChanges, 2);
  assert.equal(summary.licenseChanges, 1);
});

test("guard violations name the guard, its limit, where the limit comes from and the count", () => {
  const summary = {
    usersChanged: ["a", "b", "c"],
    usersRemoved: ["c"],
    roleChanges: 9,
    licenseChanges: 0,
    revoked: 4,
    existing: 20,
  };
  const inForce = guardsInForce({ maxUsersChanged: 2, maxUsersRemoved: 1, maxRoleChanges: 5 }, undefined);
  assert.deepEqual(guardViolations(summary, inForce), [
    "guards.maxUsersChanged is 2, but this change has 3 users whose access changes",
    "guards.maxRoleChanges is 5, but this change has 9 role assignments added or removed",
  ]);
  assert.deepEqual(guardViolations(summary, {}), []);
});

test("without guards the defaults are in force: an emptied file is refused", () => {
  const before = ["a", "b", "c", "d", "e", "f"].map((n) => user(`${n}@x.example`));
  const summary = summarizeChange(appliedResources(deployment(before)), declaredResources(state([])));
  assert.equal(summary.revoked, 18); // a license and two roles each
  assert.equal(summary.existing, 18);
  const refusal = guardRefusal(summary, guardsInForce({}, undefined));
  assert.ok(refusal);
  assert.deepEqual(refusal.violations, [
    `guards.maxUsersRemoved is ${DEFAULT_GUARDS.maxUsersRemoved} (the default), but this change has 6 users removed (their access revoked)`,
    `guards.maxRevokedPercent is ${DEFAULT_GUARDS.maxRevokedPercent} (the default), but this change has 100% of the existing grants revoked (18 of 18)`,
  ]);
  assert.match(
    refusal.message,
    /removes 6 user\(s\) \(a@x\.example, b@x\.example, c@x\.example, d@x\.example, e@x\.example, …\)/,
  );
  assert.match(refusal.message, /--override-guards/);
  assert.match(refusal.message, /D365_ACCESS_OVERRIDE_GUARDS=1/);
});

test("the revoked share applies only above its floor", () => {
  const summary = {
    usersChanged: [],
    usersRemoved: [],
    roleChanges: 10,
    licenseChanges: 0,
    revoked: 10,
    existing: 12,
  };
  assert.deepEqual(guardViolations(summary, guardsInForce({}, undefined)), []);
  assert.equal(
    guardViolations({ ...summary, revoked: 11, existing: 12 }, guardsInForce({}, undefined)).length,
    1,
  );
});

test("the guards in force are the stricter of the file's and the last deployment's", () => {
  // The file raises maxUsersRemoved: the last deployment's 5 stays in force for this change.
  assert.deepEqual(guardsInForce({ maxUsersRemoved: 50 }, fileGuards({})), {
    maxUsersRemoved: { limit: 5, from: "last deployment" },
    maxRevokedPercent: { limit: 50, from: "default" },
  });
  // Once deployed, the raised limit is recorded and in force for the next change.
  assert.deepEqual(
    guardsInForce({ maxUsersRemoved: 50 }, fileGuards({ maxUsersRemoved: 50 })).maxUsersRemoved,
    {
      limit: 50,
      from: "users.yaml",
    },
  );
  // Lowering takes effect at once.
  assert.deepEqual(guardsInForce({ maxUsersRemoved: 1 }, fileGuards({})).maxUsersRemoved, {
    limit: 1,
    from: "users.yaml",
  });
  assert.deepEqual(guardsOfOutput({ maxUsersRemoved: 3, junk: 1, maxRoleChanges: -1 }), {
    maxUsersRemoved: 3,
  });
  assert.equal(guardsOfOutput("nope"), undefined);
});

test("the override is one variable, set to 1, true or yes", () => {
  assert.equal(overridden({}), false);
  assert.equal(overridden({ D365_ACCESS_OVERRIDE_GUARDS: "0" }), false);
  assert.equal(overridden({ D365_ACCESS_OVERRIDE_GUARDS: "1" }), true);
  assert.equal(overridden({ D365_ACCESS_OVERRIDE_GUARDS: "TRUE" }), true);
});

test("the guardFacts output reads back as the resources it was written from", () => {
  const declared = declaredResources(
    state([user("ann@x.example"), user("bob@x.example", { enabled: false })]),
  );
  assert.deepEqual(appliedOfOutput(JSON.parse(JSON.stringify(guardFactsOutput(declared)))), declared);
  assert.deepEqual(appliedOfOutput(undefined), []);
});

test("resource changes: every resource of a first run, only the changed ones after", () => {
  const users = [user("ann@x.example"), user("bob@x.example"), user("cy@x.example")];
  // First run: 3 users × (Entra, Dataverse, F&O).
  assert.equal(resourceChanges([], declaredResources(state(users))), 9);
  const applied = appliedResources(deployment(users));
  assert.equal(resourceChanges(applied, declaredResources(state(users))), 0);
  // Bob gains an F&O role, Cy leaves, Dee arrives: 1 update, 3 deletes, 3 creates.
  const edited = [
    user("ann@x.example"),
    user("bob@x.example", {
      fno: [
        {
          environment: "prod",
          userId: "bob",
          company: "USMF",
          roles: [
            { role: "LEDGERACCOUNTANT", legalEntities: [] },
            { role: "BUDGETBUDGETCLERK", legalEntities: [] },
          ],
        },
      ],
    }),
    user("dee@x.example"),
  ];
  assert.equal(resourceChanges(applied, declaredResources(state(edited))), 7);
});
