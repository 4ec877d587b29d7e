/** Unit tests of the Power Platform admin module's handle() (no server). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { powerPlatformService } from "../../sandbox/powerplatform/index.ts";
import {
  dv,
  dvRequest,
  entraUser,
  FINANCE_SKU,
  makeContext,
  NO_PERMS_APP,
  ORIGIN,
  PP_ENV_ID,
  pp,
  ppRequest,
} from "./dataverse-fixture.ts";

const BASE = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments";
const V = "api-version=2023-06-01";
const NEW = "cccccccc-0000-4000-8000-000000000001";

describe("Power Platform admin handle()", () => {
  it("lists environments with their Dataverse and F&O linkage", async () => {
    const ctx = makeContext();
    const r = await pp(ctx, ppRequest("GET", `${BASE}?${V}`));
    assert.equal(r.status, 200);
    const [env] = r.body.value;
    assert.equal(env.name, PP_ENV_ID);
    assert.equal(env.properties.linkedEnvironmentMetadata.instanceUrl, `${ORIGIN}/`);
    assert.equal(env.properties.linkedAppMetadata.url, "https://127.0.0.1:7444");
    const one = await pp(ctx, ppRequest("GET", `${BASE}/${PP_ENV_ID}?${V}`));
    assert.equal(one.body.name, PP_ENV_ID);
    const missing = await pp(ctx, ppRequest("GET", `${BASE}/00000000-0000-0000-0000-000000000000?${V}`));
    assert.equal(missing.status, 404);
    assert.equal((await pp(ctx, ppRequest("GET", BASE))).status, 400);
  });

  it("refuses an app that is not a management application with 403", async () => {
    const ctx = makeContext();
    const r = await pp(ctx, ppRequest("GET", `${BASE}?${V}`, { app: NO_PERMS_APP }));
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /does not have permission to access the path/);
  });

  it("accepts service.powerapps.com audiences only", () => {
    const ctx = makeContext();
    assert.deepEqual(powerPlatformService.audiences(ctx).sort(), [
      "https://service.powerapps.com",
      "https://service.powerapps.com/",
    ]);
  });

  it("addUser answers userNotLicensed until the license is there, then the row appears after the delay", async () => {
    const ctx = makeContext(20);
    await dv(ctx, dvRequest("GET", "WhoAmI"));
    const user = entraUser(NEW, "frank@contoso.example", false);
    ctx.state.entra.users.push(user);
    const add = () =>
      pp(ctx, ppRequest("POST", `${BASE}/${PP_ENV_ID}/addUser?${V}`, { body: { objectId: NEW } }));
    const refused = await add();
    assert.equal(refused.status, 400);
    // By default the condition arrives inside the message (docs/fidelity.md, notLicensedInMessage).
    assert.equal(refused.body.error.code, "BadRequest");
    assert.match(refused.body.error.message, /userNotLicensed/);
    user.assignedLicenses = [{ skuId: FINANCE_SKU, disabledPlans: [] }];
    assert.equal((await add()).status, 200);
    const find = async () =>
      (await dv(ctx, dvRequest("GET", `systemusers?$filter=azureactivedirectoryobjectid eq ${NEW}`))).body
        .value;
    assert.equal((await find()).length, 0);
    ctx.clock.now += 20_000;
    assert.equal((await find()).length, 1);
    const unknown = await pp(
      ctx,
      ppRequest("POST", `${BASE}/${PP_ENV_ID}/addUser?${V}`, {
        body: { objectId: "dddddddd-0000-4000-8000-000000000001" },
      }),
    );
    assert.equal(unknown.status, 404);
  });
});
