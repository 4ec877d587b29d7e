/**
 * F&O writes that answer success and change nothing (a community report on a role entity,
 * UNCONFIRMED): the admin route switches a set to it, the writes are still validated and
 * answered as usual (201 with the entity, 204), nothing changes, and a reset or DELETE ends it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CallOptions, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;
const ENV = "contoso-demo";

describe("F&O ineffective writes (admin switch)", () => {
  let t: TestSandbox;
  let base: string;
  let token: string;
  const fno = async (path: string, options: CallOptions = {}) => {
    const res = await t.call(`${base}/data/${path}`, { token, ...options });
    return { ...res, body: res.body as Json };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(`${t.endpoints.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body }) });
  const key = "SecurityUserRoles(UserId='adele.vance',SecurityRoleIdentifier='BUDGETBUDGETCLERK')";
  const grant = {
    UserId: "adele.vance",
    SecurityRoleIdentifier: "BUDGETBUDGETCLERK",
    SecurityRoleName: "Budget clerk",
    AssignmentStatus: "Enabled",
    AssignmentMode: "Manual",
  };

  before(async () => {
    t = await startTestSandbox();
    const env = t.endpoints.environments[0];
    assert.ok(env);
    base = env.fnoUrl;
    token = await t.token(`${env.fnoUrl}/.default`);
  });
  after(() => t.close());

  it("answers a role grant, change and revoke as usual and changes nothing", async () => {
    const on = await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityUserRoles`);
    assert.equal(on.status, 200, on.text);
    const created = await fno("SecurityUserRoles", { method: "POST", body: grant });
    assert.equal(created.status, 201);
    assert.equal(created.body.SecurityRoleIdentifier, "BUDGETBUDGETCLERK");
    assert.equal((await fno(key)).status, 404, "the row was not created");

    // A real row, then a PATCH and a DELETE that answer 204 and leave it as it was.
    assert.equal((await admin("DELETE", `/fno/${ENV}/ineffective-writes`)).status, 204);
    assert.equal((await fno("SecurityUserRoles", { method: "POST", body: grant })).status, 201);
    await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityUserRoles`, { methods: ["PATCH", "DELETE"] });
    assert.equal((await fno(key, { method: "PATCH", body: { AssignmentStatus: "Disabled" } })).status, 204);
    assert.equal((await fno(key, { method: "DELETE" })).status, 204);
    const row = await fno(key);
    assert.equal(row.status, 200, "still there");
    assert.equal(row.body.AssignmentStatus, "Enabled", "not changed");
  });

  it("still validates: a bad write is refused as F&O refuses it", async () => {
    await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityUserRoles`);
    const bad = await fno("SecurityUserRoles", {
      method: "POST",
      body: { ...grant, SecurityRoleIdentifier: "NOSUCHROLE", SecurityRoleName: "" },
    });
    assert.equal(bad.status, 400);
    const missing = await fno("SecurityUserRoles(UserId='nobody',SecurityRoleIdentifier='X')", {
      method: "DELETE",
    });
    assert.equal(missing.status, 404);
  });

  it("affects only the sets and methods named, refuses a read-only set, and ends at reset", async () => {
    await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityUserRoles`, { methods: ["DELETE"] });
    const patched = await fno("SystemUsers('adele.vance')", {
      method: "PATCH",
      body: { UserName: "Adele V." },
    });
    assert.equal(patched.status, 204);
    assert.equal((await fno("SystemUsers('adele.vance')")).body.UserName, "Adele V.", "other sets write");
    assert.equal((await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityRoles`)).status, 400);
    assert.equal(
      (await admin("PUT", `/fno/${ENV}/ineffective-writes/SecurityUserRoles`, { methods: ["GET"] })).status,
      400,
    );
    assert.equal((await admin("POST", "/reset")).status, 200);
    const state = (await admin("GET", "/state")).body as Json;
    assert.equal(state.fno[ENV].ineffectiveWrites, undefined);
  });
});
