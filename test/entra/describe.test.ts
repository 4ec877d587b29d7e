/** The Entra descriptions a reviewer reads in the preview. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderChange } from "../../providers/core/describe.ts";
import { describeRemoval, describeUser } from "../../providers/entra/describe.ts";
import type { EntraUserInputs, UserSnapshot } from "../../providers/entra/model.ts";

const inputs = (over: Partial<EntraUserInputs> = {}): EntraUserInputs => ({
  upn: "alice@contoso.com",
  displayName: "Alice",
  usageLocation: "US",
  enabled: true,
  manage: "adopt",
  onRemove: "disable",
  licenses: [{ sku: "DYN365_FINANCE", disabledPlans: [] }],
  managedLicenses: ["DYN365_FINANCE", "DYN365_SCM"],
  ...over,
});
const actual = (over: Partial<UserSnapshot> = {}): UserSnapshot => ({
  upn: "alice@contoso.com",
  displayName: "Alice",
  usageLocation: "US",
  enabled: true,
  directLicenses: [
    { sku: "DYN365_SCM", disabledPlans: [] },
    { sku: "SPE_E5", disabledPlans: [] },
  ],
  inheritedSkus: [],
  ...over,
});

describe("Entra describeUser", () => {
  it("lists licenses added and removed (managed SKUs only) and the sign-in", () => {
    assert.equal(
      renderChange(describeUser(inputs({ enabled: false }), actual(), "adopts")),
      "adopts Entra user alice@contoso.com: disable sign-in; add license DYN365_FINANCE; remove license DYN365_SCM",
    );
  });
  it("says unchanged when nothing differs", () => {
    const same = actual({ directLicenses: [{ sku: "DYN365_FINANCE", disabledPlans: [] }] });
    assert.equal(
      renderChange(describeUser(inputs(), same, "adopts")),
      "adopts Entra user alice@contoso.com unchanged",
    );
  });
});

describe("Entra describeRemoval", () => {
  const outputs = { upn: "alice@contoso.com", managedLicenses: ["DYN365_SCM"], onRemove: "delete" as const };
  it("an adopted user loses the managed licenses and is left as found", () => {
    const change = describeRemoval({ ...outputs, adopted: true }, actual());
    assert.deepEqual(change.changes, ["remove license DYN365_SCM"]);
    assert.match(renderChange(change), /left as found/);
  });
  it("a created user with onRemove: delete is disabled and deleted", () => {
    assert.deepEqual(describeRemoval({ ...outputs, adopted: false }, actual()).changes, [
      "remove license DYN365_SCM",
      "disable sign-in",
      "delete the user",
    ]);
  });
});
