/**
 * The background Entra → Dataverse sync with an injected clock: exact delays, disabling,
 * re-enabling, group licenses and disabled plans (no server).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ACTIVITY_SKU,
  dv,
  dvRequest,
  entraUser,
  FINANCE_SKU,
  type Json,
  makeContext,
} from "./dataverse-fixture.ts";

const NEW = "bbbbbbbb-0000-4000-8000-000000000001";

async function row(ctx: ReturnType<typeof makeContext>, oid: string) {
  const r = await dv(
    ctx,
    dvRequest(
      "GET",
      `systemusers?$filter=azureactivedirectoryobjectid eq ${oid}&$expand=systemuserroles_association`,
    ),
  );
  assert.equal(r.status, 200);
  return r.body.value[0] as Json | undefined;
}

describe("Dataverse background sync", () => {
  it("adds a newly licensed user exactly syncDelaySeconds after the license is observed", async () => {
    const ctx = makeContext(30);
    await row(ctx, NEW); // initial sync done
    ctx.state.entra.users.push(entraUser(NEW, "erin@contoso.example", true));
    assert.equal(await row(ctx, NEW), undefined); // observed now
    ctx.clock.now += 29_999;
    assert.equal(await row(ctx, NEW), undefined);
    ctx.clock.now += 1;
    const erin = await row(ctx, NEW);
    assert.ok(erin);
    assert.equal(erin.domainname, "erin@contoso.example");
    assert.equal(erin.islicensed, true);
    assert.equal(erin.accessmode, 0);
    assert.deepEqual(erin.systemuserroles_association.map((r: Json) => r.name).sort(), [
      "Environment Maker",
      "Finance and Operations Basic User",
    ]);
  });

  it("is instant with a 0 s delay", async () => {
    const ctx = makeContext(0);
    await row(ctx, NEW);
    ctx.state.entra.users.push(entraUser(NEW, "erin@contoso.example", true));
    assert.ok(await row(ctx, NEW));
  });

  it("disables a user whose license is removed or whose account is disabled, and re-enables later", async () => {
    const ctx = makeContext(10);
    ctx.state.entra.users.push(entraUser(NEW, "erin@contoso.example", true));
    assert.equal((await row(ctx, NEW))?.isdisabled, false); // present at environment creation
    const user = ctx.state.entra.users.find((u) => u.id === NEW);
    assert.ok(user);
    user.assignedLicenses = [];
    assert.equal((await row(ctx, NEW))?.isdisabled, false);
    ctx.clock.now += 10_000;
    const disabled = await row(ctx, NEW);
    assert.equal(disabled?.isdisabled, true);
    assert.equal(disabled?.islicensed, false);
    user.assignedLicenses = [{ skuId: FINANCE_SKU, disabledPlans: [] }];
    await row(ctx, NEW);
    ctx.clock.now += 10_000;
    assert.equal((await row(ctx, NEW))?.isdisabled, false);
    user.accountEnabled = false;
    await row(ctx, NEW);
    ctx.clock.now += 10_000;
    assert.equal((await row(ctx, NEW))?.isdisabled, true);
  });

  it("disables the row of a user deleted in Entra", async () => {
    const ctx = makeContext(0);
    ctx.state.entra.users.push(entraUser(NEW, "erin@contoso.example", true));
    assert.equal((await row(ctx, NEW))?.isdisabled, false);
    ctx.state.entra.users = ctx.state.entra.users.filter((u) => u.id !== NEW);
    assert.equal((await row(ctx, NEW))?.isdisabled, true);
  });

  it("counts group-inherited licenses and ignores disabled Dataverse plans and non-Dataverse SKUs", async () => {
    const ctx = makeContext(0);
    await row(ctx, NEW);
    const viaGroup = entraUser(NEW, "erin@contoso.example", false);
    viaGroup.memberOf = ["g1"];
    ctx.state.entra.groups.push({
      id: "g1",
      displayName: "Finance",
      assignedLicenses: [{ skuId: FINANCE_SKU, disabledPlans: [] }],
    });
    const planOff = entraUser("bbbbbbbb-0000-4000-8000-000000000002", "f@contoso.example", false);
    planOff.assignedLicenses = [
      { skuId: FINANCE_SKU, disabledPlans: ["e95d7060-d4d9-400a-a2bd-a244bf0b609e"] },
    ];
    const activity = entraUser("bbbbbbbb-0000-4000-8000-000000000003", "g@contoso.example", false);
    activity.assignedLicenses = [{ skuId: ACTIVITY_SKU, disabledPlans: [] }];
    ctx.state.entra.users.push(viaGroup, planOff, activity);
    assert.ok(await row(ctx, NEW));
    assert.equal(await row(ctx, planOff.id), undefined);
    assert.equal(await row(ctx, activity.id), undefined);
  });
});
