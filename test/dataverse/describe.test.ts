/** The Dataverse descriptions a reviewer reads in the preview, across the steps that re-plan. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderChange } from "../../providers/core/describe.ts";
import { describeRemoval, describeUser } from "../../providers/dataverse/describe.ts";
import type { ActualUser, Catalog, DataverseUserInputs } from "../../providers/dataverse/model.ts";

const ROOT = "b0000000-0000-0000-0000-000000000001";
const EUROPE = "b0000000-0000-0000-0000-000000000002";
const role = (name: string, bu: string, n: number) => ({ roleId: `r${n}-${bu}`, name, businessUnitId: bu });
const catalog: Catalog = {
  environment: "prod",
  businessUnits: [
    { businessUnitId: ROOT, name: "Contoso", parentId: undefined },
    { businessUnitId: EUROPE, name: "Contoso Europe", parentId: ROOT },
  ],
  roles: [ROOT, EUROPE].flatMap((bu) => [
    role("Basic User", bu, 1),
    role("Environment Maker", bu, 2),
    role("Salesperson", bu, 3),
  ]),
};
const inputs = (over: Partial<DataverseUserInputs> = {}): DataverseUserInputs => ({
  upn: "alice@contoso.com",
  objectId: "0bd9b3a4-0000-4000-8000-000000000001",
  environment: "prod",
  roles: ["Basic User"],
  ...over,
});
const actual = (over: Partial<ActualUser> = {}): ActualUser => ({
  systemUserId: "u1",
  businessUnitId: ROOT,
  disabled: false,
  roles: [role("Environment Maker", ROOT, 2), role("Basic User", ROOT, 1)],
  ...over,
});
const context = { verb: "adopts" as const, managedRoles: [], caller: undefined };

describe("Dataverse describeUser", () => {
  it("names the roles revoked and granted, as sets", () => {
    assert.equal(
      renderChange(
        describeUser(inputs({ roles: ["Basic User", "Salesperson"] }), catalog, actual(), context),
      ),
      "adopts Dataverse user alice@contoso.com in prod: revoke role Environment Maker; grant role Salesperson",
    );
  });

  it("a move to another business unit revokes first, moves, then grants every declared role there", () => {
    assert.deepEqual(
      describeUser(inputs({ businessUnit: "Contoso Europe" }), catalog, actual(), context).changes,
      [
        "revoke role Basic User",
        "revoke role Environment Maker",
        "move to business unit Contoso Europe",
        "grant role Basic User",
      ],
    );
  });

  it("a user not in the environment yet is brought in with its roles", () => {
    const change = describeUser(inputs(), catalog, undefined, context);
    assert.equal(
      renderChange(change),
      "creates Dataverse user alice@contoso.com in prod: add the user to the environment; grant role Basic User",
    );
  });

  it("says unchanged when the owned roles are exactly the declared ones", () => {
    const same = actual({ roles: [role("Basic User", ROOT, 1)] });
    assert.equal(
      renderChange(describeUser(inputs(), catalog, same, context)),
      "adopts Dataverse user alice@contoso.com in prod unchanged",
    );
  });
});

describe("Dataverse describeRemoval", () => {
  it("revokes the owned roles and says the user stays", () => {
    const change = describeRemoval({ upn: "alice@contoso.com", environment: "prod" }, actual(), undefined);
    assert.deepEqual(change.changes, ["revoke role Basic User", "revoke role Environment Maker"]);
    assert.match(renderChange(change), /the Dataverse user stays, neither disabled nor deleted/);
  });
});
