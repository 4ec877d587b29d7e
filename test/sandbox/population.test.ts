/**
 * The generator behind large lived-in tenants: the same (count, seed number) always gives the same
 * people, every kind of person of the hand-written tenant occurs, identifiers are unique and within
 * the systems' limits, and a tenant of 10,000 generated users seeds in well under a second or two.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LIVED_IN_PEOPLE } from "../../sandbox/core/lived-in.ts";
import { generatePeople, livedInPeople } from "../../sandbox/core/population.ts";
import type { SeedInfo } from "../../sandbox/core/types.ts";
import { seedLivedInDataverse } from "../../sandbox/dataverse/seed-lived-in.ts";
import { seedLivedInFno } from "../../sandbox/fno/seed-lived-in.ts";
import { seedLivedInDirectory } from "../../sandbox/graph/seed-lived-in.ts";
import { startTestSandbox } from "./helpers.ts";

const INFO = (generatedUsers: number, seedNumber = 1): SeedInfo => ({
  tenantId: "7d0f3a52-1c2b-4e8f-9a6d-5b4c3e2f1a00",
  environments: [
    { name: "contoso-demo", powerPlatformEnvironmentId: "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f" },
  ],
  seed: { name: "lived-in", generatedUsers, seedNumber },
});

describe("lived-in generator", () => {
  it("is deterministic in the seed number, and another seed number gives other people", () => {
    assert.deepEqual(generatePeople(300, 7), generatePeople(300, 7));
    const a = generatePeople(300, 1).map((p) => `${p.alias}:${p.usageLocation}`);
    const b = generatePeople(300, 2).map((p) => `${p.alias}:${p.usageLocation}`);
    assert.notDeepEqual(a, b);
    assert.notEqual(generatePeople(1, 1)[0]?.id, generatePeople(1, 2)[0]?.id);
  });

  it("gives every kind of person, with unique ids, aliases and F&O user ids of at most 20 characters", () => {
    const people = [...LIVED_IN_PEOPLE, ...generatePeople(2000, 3)];
    const unique = (values: string[]) => new Set(values).size === values.length;
    assert.ok(unique(people.map((p) => p.id)), "object ids");
    assert.ok(unique(people.map((p) => p.alias)), "aliases");
    const fnoIds = people.flatMap((p) => (p.fno ? [p.fno.userId.toLowerCase()] : []));
    assert.ok(unique(fnoIds), "F&O user ids");
    assert.ok(fnoIds.every((id) => id.length <= 20));
    const generated = people.slice(LIVED_IN_PEOPLE.length);
    const count = (test: (p: (typeof people)[number]) => boolean) => generated.filter(test).length;
    assert.ok(count((p) => !p.fno && !p.entra.groups) > 500, "Microsoft 365 only, the largest share");
    assert.ok(count((p) => p.entra.groups !== undefined) > 0, "group-based licensing");
    assert.ok(count((p) => p.entra.groupErrors !== undefined) > 0, "group licensing in error");
    assert.ok(count((p) => p.entra.onPremises === true) > 0, "synced from on-premises");
    assert.ok(count((p) => p.entra.guestOf !== undefined) > 0, "guests");
    assert.ok(
      count((p) => p.entra.accountEnabled === false && p.dataverse?.disabled === true) > 0,
      "leavers",
    );
    assert.ok(count((p) => p.dataverse?.businessUnit !== undefined) > 0, "child business unit");
    assert.ok(count((p) => p.fno?.roles.some((r) => r.legalEntities) ?? false) > 0, "restricted F&O roles");
    assert.ok(
      count((p) => p.fno?.roles.some((r) => r.status === "Disabled") ?? false) > 0,
      "rule exclusions",
    );
    assert.ok(count((p) => p.fno?.referencedBy !== undefined) > 0, "users F&O will not delete");
  });

  it("seeds 10,000 generated users into Entra, Dataverse and F&O quickly", () => {
    const info = INFO(10_000, 11);
    const started = performance.now();
    const directory = seedLivedInDirectory(info);
    const dataverse = seedLivedInDataverse(info);
    const fno = seedLivedInFno(info);
    const elapsed = performance.now() - started;
    const people = livedInPeople(info.seed);
    assert.equal(people.length, LIVED_IN_PEOPLE.length + 10_000);
    assert.ok(directory.users.length >= people.length, "every person is in the directory");
    const fnoUsers = fno["contoso-demo"]?.users.length ?? 0;
    assert.ok(fnoUsers >= people.filter((p) => p.fno).length, "every F&O person is an F&O user");
    assert.ok(
      (dataverse["contoso-demo"]?.systemUsers.length ?? 0) >= people.filter((p) => p.dataverse).length,
    );
    // About 1 s on a laptop; the bound is loose so a busy machine does not fail it.
    assert.ok(elapsed < 15_000, `seeding took ${Math.round(elapsed)} ms`);
  });

  it("a started lived-in sandbox with generated users serves them all through Graph", async () => {
    const t = await startTestSandbox({ seed: { name: "lived-in", generatedUsers: 250, seedNumber: 5 } });
    try {
      const token = await t.token(`${t.endpoints.graphUrl}/.default`);
      const res = await t.call(`${t.endpoints.graphUrl}/v1.0/users/$count`, {
        token,
        headers: { consistencylevel: "eventual" },
      });
      assert.equal(res.status, 200);
      assert.equal(Number(res.body), t.sandbox.state.entra.users.length);
      assert.ok(t.sandbox.state.entra.users.length > 250 + LIVED_IN_PEOPLE.length - 1);
    } finally {
      await t.close();
    }
  });
});
