/** The F&O descriptions a reviewer reads in the preview: set differences per role and legal entity. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderChange } from "../../providers/core/describe.ts";
import { describeRemoval, describeUser } from "../../providers/fno/describe.ts";
import type {
  FnoLiveState,
  FnoRole,
  FnoRoleAssignment,
  FnoUserInputs,
  FnoUserRecord,
} from "../../providers/fno/model.ts";

const catalog: FnoRole[] = [
  { identifier: "-SYSADMIN-", name: "System administrator" },
  { identifier: "SYSTEMUSER", name: "System user" },
  { identifier: "LEDGERACCOUNTANT", name: "Accountant" },
  { identifier: "LEDGERACCOUNTINGMANAGER", name: "Accounting manager" },
  { identifier: "HCMEMPLOYEE", name: "Employee" },
];
const record: FnoUserRecord = {
  userId: "alice",
  userName: "Alice",
  alias: "alice@contoso.com",
  email: "alice@contoso.com",
  networkDomain: "https://sts.windows.net/",
  accountType: "ClaimsUser",
  company: "USMF",
  enabled: true,
};
const row = (roleId: string, over: Partial<FnoRoleAssignment> = {}): FnoRoleAssignment => ({
  userId: "alice",
  roleId,
  roleName: roleId,
  status: "Enabled",
  mode: "Manual",
  ...over,
});
const le = (roleId: string, organizationId: string) => ({
  userId: "alice",
  roleId,
  organizationType: "LegalEntity",
  organizationId,
});
const inputs = (over: Partial<FnoUserInputs> = {}): FnoUserInputs => ({
  upn: "alice@contoso.com",
  environment: "prod",
  userId: "alice",
  userName: "Alice",
  company: "USMF",
  enabled: true,
  roles: [{ role: "LEDGERACCOUNTINGMANAGER", legalEntities: ["USMF"] }],
  ...over,
});
const held: FnoLiveState = {
  users: [record],
  assignments: [
    row("SYSTEMUSER"),
    row("-SYSADMIN-"),
    row("LEDGERACCOUNTINGMANAGER"),
    row("HCMEMPLOYEE", { mode: "Automatic" }),
  ],
  organizations: [le("LEDGERACCOUNTINGMANAGER", "USMF"), le("LEDGERACCOUNTINGMANAGER", "DEMF")],
};
const adopt = { verb: "adopts" as const, options: {} };

describe("F&O describeUser", () => {
  it("names each role revoked and each legal entity removed, never SYSTEMUSER or a rule's row", () => {
    assert.equal(
      renderChange(describeUser(inputs(), held, catalog, adopt)),
      "adopts F&O user alice in prod: revoke role -SYSADMIN- (System administrator); role LEDGERACCOUNTINGMANAGER (Accounting manager): remove legal entity DEMF",
    );
  });

  it("a new role restricted to legal entities is one grant, whatever the calls", () => {
    const change = describeUser(
      inputs({ roles: [{ role: "Accountant", legalEntities: ["DEMF", "USMF"] }], enabled: false }),
      { users: [record], assignments: [], organizations: [] },
      catalog,
      adopt,
    );
    assert.deepEqual(change.changes, [
      "disable the account",
      "grant role LEDGERACCOUNTANT (Accountant) [DEMF, USMF]",
    ]);
  });

  it("says unchanged when the environment holds exactly what is declared", () => {
    const exact: FnoLiveState = {
      ...held,
      assignments: held.assignments.filter((a) => a.roleId !== "-SYSADMIN-"),
      organizations: [le("LEDGERACCOUNTINGMANAGER", "USMF")],
    };
    assert.equal(
      renderChange(describeUser(inputs(), exact, catalog, adopt)),
      "adopts F&O user alice in prod unchanged",
    );
  });

  it("a user not found is created", () => {
    const change = describeUser(inputs(), { users: [], assignments: [], organizations: [] }, catalog, adopt);
    assert.equal(change.verb, "creates");
    assert.equal(change.changes[0], "create the user (default company USMF)");
  });
});

describe("F&O describeRemoval", () => {
  it("an adopted user loses its owned roles and is disabled, never deleted", () => {
    const change = describeRemoval(
      "alice",
      { environment: "prod" },
      held,
      catalog,
      { provenance: "adopted", onRemove: "delete" },
      {},
    );
    assert.deepEqual(change.changes, [
      "revoke role -SYSADMIN- (System administrator)",
      "revoke role LEDGERACCOUNTINGMANAGER (Accounting manager) [DEMF, USMF]",
      "disable the account",
    ]);
    assert.match(renderChange(change), /adopted: never deleted, whatever onRemove says/);
  });

  it("a created user with onRemove: delete is disabled, then deleted", () => {
    const change = describeRemoval(
      "alice",
      { environment: "prod" },
      held,
      catalog,
      { provenance: "created", onRemove: "delete" },
      {},
    );
    assert.deepEqual(change.changes.slice(-2), ["disable the account", "delete the user"]);
  });

  it("a user already gone needs nothing", () => {
    const gone = { users: [], assignments: [], organizations: [] };
    assert.equal(
      renderChange(
        describeRemoval(
          "alice",
          { environment: "prod" },
          gone,
          catalog,
          { provenance: "created", onRemove: "disable" },
          {},
        ),
      ),
      "removes F&O user alice in prod unchanged (already gone)",
    );
  });
});
