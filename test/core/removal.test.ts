/**
 * The one removal rule (providers/core/removal.ts): the whole owned scope is revoked, whoever
 * granted it; the account action follows provenance, `onRemove` and the system's policy; an
 * adopted account is never deleted.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AccountPolicy,
  decideRemoval,
  provenanceOf,
  type RemovalInput,
} from "../../providers/core/removal.ts";

const held = ["DYN365_FINANCE", "SPE_E5", "DYN365_TEAM_MEMBERS"];
const managed = new Set(["DYN365_FINANCE", "DYN365_TEAM_MEMBERS"]);

function input(over: Partial<RemovalInput<string>> = {}): RemovalInput<string> {
  return {
    held,
    owns: (sku) => managed.has(sku),
    provenance: "created",
    onRemove: "disable",
    enabled: true,
    accounts: "keep-adopted",
    ...over,
  };
}

describe("decideRemoval", () => {
  it("revokes every held entry of the owned scope, in the order held, and leaves the rest", () => {
    const removal = decideRemoval(input({ provenance: "adopted" }));
    assert.deepEqual(removal.revoke, ["DYN365_FINANCE", "DYN365_TEAM_MEMBERS"]);
    assert.deepEqual(removal.untouched, ["SPE_E5"]);
  });

  it("revokes the same scope whatever the provenance (an exported person is offboarded too)", () => {
    for (const provenance of ["created", "adopted"] as const)
      assert.deepEqual(decideRemoval(input({ provenance })).revoke, [
        "DYN365_FINANCE",
        "DYN365_TEAM_MEMBERS",
      ]);
  });

  it("decides the account by provenance, onRemove and policy; never deletes an adopted account", () => {
    const cases: [AccountPolicy, "created" | "adopted", "disable" | "delete", boolean, boolean][] = [
      // policy, provenance, onRemove, disable, delete
      ["keep-adopted", "created", "disable", true, false],
      ["keep-adopted", "created", "delete", true, true],
      ["keep-adopted", "adopted", "disable", false, false],
      ["keep-adopted", "adopted", "delete", false, false],
      ["disable-adopted", "created", "disable", true, false],
      ["disable-adopted", "created", "delete", true, true],
      ["disable-adopted", "adopted", "disable", true, false],
      ["disable-adopted", "adopted", "delete", true, false],
      ["none", "created", "delete", false, false],
      ["none", "adopted", "disable", false, false],
    ];
    for (const [accounts, provenance, onRemove, disable, remove] of cases) {
      const r = decideRemoval(input({ accounts, provenance, onRemove }));
      assert.deepEqual(
        { disable: r.disable, delete: r.delete },
        { disable, delete: remove },
        `${accounts} ${provenance} ${onRemove}`,
      );
    }
  });

  it("does not disable an account that is disabled already, and still deletes a created one", () => {
    const r = decideRemoval(input({ enabled: false, onRemove: "delete" }));
    assert.equal(r.disable, false);
    assert.equal(r.delete, true);
  });
});

describe("provenanceOf", () => {
  it("reads only an explicit adopted: false as created; anything else is adopted (never deleted)", () => {
    assert.equal(provenanceOf(false), "created");
    for (const v of [true, undefined, null, "false", 0]) assert.equal(provenanceOf(v), "adopted");
  });
});
