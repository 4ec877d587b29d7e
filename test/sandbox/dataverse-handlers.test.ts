/**
 * Unit tests of the Dataverse module's handle() with hand-built requests and an injected clock
 * (no server). The contract tests through the real HTTPS server are in dataverse.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEMO_APP,
  dv,
  dvRequest,
  entraUser,
  type Json,
  makeContext,
  NO_PERMS_APP,
  ORIGIN,
} from "./dataverse-fixture.ts";

const ALICE = "aaaaaaaa-0000-4000-8000-000000000001";
const BOB = "aaaaaaaa-0000-4000-8000-000000000002";

async function roleId(ctx: ReturnType<typeof makeContext>, name: string, child = false) {
  const bus = await dv(ctx, dvRequest("GET", "businessunits?$select=name,_parentbusinessunitid_value"));
  const bu = bus.body.value.find((b: Json) => (b._parentbusinessunitid_value === null) !== child);
  const r = await dv(
    ctx,
    dvRequest(
      "GET",
      `roles?$select=roleid&$filter=name eq '${name}' and _businessunitid_value eq ${bu.businessunitid}`,
    ),
  );
  assert.equal(r.body.value.length, 1);
  return { roleid: r.body.value[0].roleid as string, businessunitid: bu.businessunitid as string };
}

async function userByOid(ctx: ReturnType<typeof makeContext>, oid: string) {
  const r = await dv(
    ctx,
    dvRequest(
      "GET",
      `systemusers?$filter=azureactivedirectoryobjectid eq ${oid}&$expand=systemuserroles_association($select=name,roleid)`,
    ),
  );
  assert.equal(r.status, 200);
  return r.body.value[0] as Json | undefined;
}

describe("Dataverse handle()", () => {
  it("answers WhoAmI with the application user's id, and 403 0x80072560 for an app without one", async () => {
    const ctx = makeContext();
    const who = await dv(ctx, dvRequest("GET", "WhoAmI"));
    assert.equal(who.status, 200);
    const app = await dv(ctx, dvRequest("GET", `systemusers?$filter=applicationid eq ${DEMO_APP}`));
    assert.equal(who.body.UserId, app.body.value[0].systemuserid);
    const denied = await dv(ctx, dvRequest("GET", "WhoAmI", { app: NO_PERMS_APP }));
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, {
      error: { code: "0x80072560", message: "The user is not a member of the organization." },
    });
  });

  it("copies root roles into the child business unit with the same name and template", async () => {
    const ctx = makeContext();
    const r = await dv(ctx, dvRequest("GET", "roles?$filter=name eq 'System Administrator'"));
    assert.equal(r.body.value.length, 2);
    const [a, b] = r.body.value;
    assert.notEqual(a.roleid, b.roleid);
    assert.notEqual(a._businessunitid_value, b._businessunitid_value);
    assert.equal(a._roletemplateid_value, "627090ff-40a3-4053-8790-584edc5be201");
    assert.equal(b._roletemplateid_value, a._roletemplateid_value);
    assert.equal(b._parentrootroleid_value, a.roleid);
  });

  it("syncs licensed, enabled users with the F&O auto roles; not unlicensed or disabled ones", async () => {
    const ctx = makeContext();
    const alice = await userByOid(ctx, ALICE);
    assert.ok(alice);
    assert.equal(alice.isdisabled, false);
    assert.deepEqual(alice.systemuserroles_association.map((r: Json) => r.name).sort(), [
      "Environment Maker",
      "Finance and Operations Basic User",
    ]);
    assert.equal(await userByOid(ctx, BOB), undefined);
    assert.equal(await userByOid(ctx, "aaaaaaaa-0000-4000-8000-000000000003"), undefined);
  });

  it("associates and disassociates roles in both DELETE forms, with duplicate and not-found errors", async () => {
    const ctx = makeContext();
    const alice = await userByOid(ctx, ALICE);
    const { roleid } = await roleId(ctx, "Basic User");
    const ref = `systemusers(${alice?.systemuserid})/systemuserroles_association/$ref`;
    const body = { "@odata.id": `${ORIGIN}/api/data/v9.2/roles(${roleid})` };
    assert.equal((await dv(ctx, dvRequest("POST", ref, { body }))).status, 204);
    const dup = await dv(ctx, dvRequest("POST", ref, { body }));
    assert.equal(dup.status, 412);
    assert.equal(dup.body.error.code, "0x80040237");
    const del1 = await dv(ctx, dvRequest("DELETE", `${ref}?$id=${encodeURIComponent(body["@odata.id"])}`));
    assert.equal(del1.status, 204);
    assert.ok(
      !(await userByOid(ctx, ALICE))?.systemuserroles_association.some((r: Json) => r.roleid === roleid),
    );
    assert.equal(
      (await dv(ctx, dvRequest("POST", ref, { body: { "@odata.id": `roles(${roleid})` } }))).status,
      204,
    );
    const del2 = await dv(
      ctx,
      dvRequest("DELETE", `systemusers(${alice?.systemuserid})/systemuserroles_association(${roleid})/$ref`),
    );
    assert.equal(del2.status, 204);
    const missing = await dv(
      ctx,
      dvRequest(
        "POST",
        "systemusers(00000000-0000-4000-8000-000000000000)/systemuserroles_association/$ref",
        { body },
      ),
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "0x80040217");
  });

  it("refuses a role of another business unit", async () => {
    const ctx = makeContext();
    const alice = await userByOid(ctx, ALICE);
    const { roleid } = await roleId(ctx, "Basic User", true);
    const r = await dv(
      ctx,
      dvRequest("POST", `systemusers(${alice?.systemuserid})/systemuserroles_association/$ref`, {
        body: { "@odata.id": `roles(${roleid})` },
      }),
    );
    assert.equal(r.status, 400);
  });

  it("creates an eligible user just in time through the alternate key, and refuses an ineligible one", async () => {
    const ctx = makeContext();
    const { roleid } = await roleId(ctx, "Basic User");
    const newcomer = "aaaaaaaa-0000-4000-8000-000000000009";
    ctx.state.entra.users.push(entraUser(newcomer, "dan@contoso.example", true));
    // With a long sync delay the background sync has not added the user yet.
    ctx.faults.syncDelaySeconds = 3600;
    await dv(ctx, dvRequest("GET", "WhoAmI"));
    assert.equal(await userByOid(ctx, newcomer), undefined);
    const body = { "@odata.id": `roles(${roleid})` };
    const jit = await dv(
      ctx,
      dvRequest(
        "POST",
        `systemusers(azureactivedirectoryobjectid=${newcomer})/systemuserroles_association/$ref`,
        {
          body,
        },
      ),
    );
    assert.equal(jit.status, 204);
    const dan = await userByOid(ctx, newcomer);
    assert.ok(dan?.systemuserroles_association.some((r: Json) => r.roleid === roleid));
    const refused = await dv(
      ctx,
      dvRequest("POST", `systemusers(azureactivedirectoryobjectid=${BOB})/systemuserroles_association/$ref`, {
        body,
      }),
    );
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, "0x80060891");
  });

  it("removes a user's roles when the business unit changes", async () => {
    const ctx = makeContext();
    const alice = await userByOid(ctx, ALICE);
    const { businessunitid } = await roleId(ctx, "Basic User", true);
    const r = await dv(
      ctx,
      dvRequest("PATCH", `systemusers(${alice?.systemuserid})`, {
        body: { "businessunitid@odata.bind": `/businessunits(${businessunitid})` },
      }),
    );
    assert.equal(r.status, 204);
    const after = await userByOid(ctx, ALICE);
    assert.equal(after?._businessunitid_value, businessunitid);
    assert.deepEqual(after?.systemuserroles_association, []);
  });

  it("pages with odata.maxpagesize and an opaque $skiptoken, and refuses $skip", async () => {
    const ctx = makeContext();
    const all = await dv(ctx, dvRequest("GET", "roles?$count=true"));
    const seen: string[] = [];
    let url: string | undefined = `${ORIGIN}/api/data/v9.2/roles?$select=name`;
    while (url) {
      const page = await dv(ctx, dvRequest("GET", url, { headers: { prefer: "odata.maxpagesize=7" } }));
      assert.equal(page.headers["Preference-Applied"], "odata.maxpagesize=7");
      assert.ok(page.body.value.length <= 7);
      seen.push(...page.body.value.map((r: Json) => r.roleid));
      url = page.body["@odata.nextLink"];
    }
    assert.equal(seen.length, all.body["@odata.count"]);
    assert.equal(new Set(seen).size, seen.length);
    const skip = await dv(ctx, dvRequest("GET", "roles?$skip=2"));
    assert.equal(skip.status, 400);
    assert.equal(skip.body.error.code, "0x80060888");
  });

  it("answers unknown sets and properties with 0x80060888", async () => {
    const ctx = makeContext();
    const set = await dv(ctx, dvRequest("GET", "systemuser"));
    assert.equal(set.status, 404);
    assert.equal(set.body.error.message, "Resource not found for the segment 'systemuser'.");
    const prop = await dv(ctx, dvRequest("GET", "systemusers?$select=fullName"));
    assert.equal(prop.status, 400);
    assert.match(prop.body.error.message, /Could not find a property named 'fullName'/);
    const nested = await dv(
      ctx,
      dvRequest("GET", "systemusers?$expand=systemuserroles_association($expand=businessunitid)"),
    );
    assert.equal(nested.status, 400);
  });

  it("denies an application user without privileges with 0x80040220", async () => {
    const ctx = makeContext();
    const created = await dv(
      ctx,
      dvRequest("POST", "systemusers", { body: { applicationid: NO_PERMS_APP, accessmode: 4 } }),
    );
    assert.equal(created.status, 204);
    assert.match(created.headers["OData-EntityId"] ?? "", /systemusers\([0-9a-f-]{36}\)$/);
    assert.equal((await dv(ctx, dvRequest("GET", "WhoAmI", { app: NO_PERMS_APP }))).status, 200);
    const denied = await dv(ctx, dvRequest("GET", "systemusers", { app: NO_PERMS_APP }));
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "0x80040220");
    assert.match(denied.body.error.message, /missing prvReadUser privilege/);
    const human = await dv(
      ctx,
      dvRequest("POST", "systemusers", { body: { domainname: "x@contoso.example" } }),
    );
    assert.equal(human.status, 400);
  });

  it("answers RetrieveUserPrivileges with the privileges of a user's roles, and 0x80040220 without prvReadUser", async () => {
    const ctx = makeContext();
    const who = await dv(ctx, dvRequest("GET", "WhoAmI"));
    const admin = await dv(
      ctx,
      dvRequest("GET", `systemusers(${who.body.UserId})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`),
    );
    assert.equal(admin.status, 200);
    assert.match(admin.body["@odata.context"], /RetrieveUserPrivilegesResponse$/);
    const names = admin.body.RolePrivileges.map((p: Json) => p.PrivilegeName).sort();
    assert.ok(
      names.includes("prvAssignRole") && names.includes("prvReadUser"),
      "a System Administrator holds all",
    );
    for (const p of admin.body.RolePrivileges) {
      assert.equal(p.Depth, "Global");
      assert.match(p.PrivilegeId, /^[0-9a-f-]{36}$/);
      assert.equal(p.BusinessUnitId, who.body.BusinessUnitId);
    }
    await dv(ctx, dvRequest("POST", "systemusers", { body: { applicationid: NO_PERMS_APP, accessmode: 4 } }));
    const none = await dv(ctx, dvRequest("GET", "WhoAmI", { app: NO_PERMS_APP }));
    const denied = await dv(
      ctx,
      dvRequest("GET", `systemusers(${none.body.UserId})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`, {
        app: NO_PERMS_APP,
      }),
    );
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "0x80040220");
    assert.match(denied.body.error.message, /missing prvReadUser privilege/);
  });
});
