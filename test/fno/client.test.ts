/**
 * The F&O client against a stubbed ServiceClient: the URLs, keys and filters it sends (escaping
 * through core/odata, qualified enum literals), how it treats ambiguous failures of creates, what
 * counts as absent, and that role writes are read back, one query per user and entity.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../providers/core/errors.ts";
import type { RequestOptions, ServiceClient, ServiceResponse } from "../../providers/core/http.ts";
import { createFnoClient } from "../../providers/fno/client.ts";

interface Sent {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** A ServiceClient whose answers come from `answer`, recording every request. */
function stub(answer: (req: Sent) => ServiceResponse<unknown> | ApiError) {
  const sent: Sent[] = [];
  const fno: ServiceClient = {
    system: "fno",
    baseUrl: "https://fno.example",
    async request<T>(o: RequestOptions): Promise<ServiceResponse<T>> {
      const req: Sent = { method: o.method ?? "GET", path: o.path, query: o.query, body: o.body };
      sent.push(req);
      const res = answer(req);
      if (res instanceof ApiError) throw res;
      if (o.accept && !o.accept.includes(res.status))
        throw new ApiError({ system: "fno", status: res.status, message: "unexpected" });
      return res as ServiceResponse<T>;
    },
    async *paginate<T>(path: string, options?: { query?: Record<string, string> }): AsyncIterable<T> {
      const req: Sent = { method: "GET", path, query: options?.query };
      sent.push(req);
      const res = answer(req);
      if (res instanceof ApiError) throw res;
      yield* (res.body as { value: T[] }).value;
    },
  };
  return { sent, client: createFnoClient({ environment: "test", fno, appId: "app-id" }) };
}

const ok = (status: number, body?: unknown): ServiceResponse<unknown> => ({ status, headers: {}, body });
/** An OData 404 for the requested key (the only "absent"). */
const missing = () => new ApiError({ system: "fno", status: 404, kind: "NotFound", message: "not found" });
const row = (status: string, mode = "Manual") =>
  ok(200, { UserId: "x", AssignmentStatus: status, AssignmentMode: mode });
const transient = () =>
  new ApiError({ system: "fno", status: 0, kind: "Transient", message: "socket hang up" });

const newUser = {
  userId: "o'brien",
  userName: "Pat O'Brien",
  alias: "pat.obrien@contoso.com",
  email: "pat.obrien@contoso.com",
  networkDomain: "https://sts.windows.net/",
  accountType: "ClaimsUser",
  company: "USMF",
  enabled: true,
  language: "en-us",
  helpLanguage: "en-us",
};

describe("F&O client", () => {
  it("escapes keys and filters, and uses qualified enum literals in the organization key", async () => {
    const { sent, client } = stub((req) => (req.method === "GET" ? missing() : ok(204)));
    await client.removeRole("o'brien", "-SYSADMIN-");
    await client.removeRoleOrganization("o'brien", "LEDGERACCOUNTANT", "USMF");
    const deletes = sent.filter((s) => s.method === "DELETE");
    assert.equal(
      deletes[0]?.path,
      "data/SecurityUserRoles(UserId='o''brien',SecurityRoleIdentifier='-SYSADMIN-')",
    );
    assert.equal(
      deletes[1]?.path,
      "data/SecurityUserRoleOrganizations(UserId='o''brien',SecurityRoleIdentifier='LEDGERACCOUNTANT'," +
        "OrganizationType=Microsoft.Dynamics.DataEntities.OmInternalOrganizationType'LegalEntity',OrganizationId='USMF')",
    );
    const lookup = stub(() => ok(200, { value: [] }));
    await lookup.client.findUserByAlias("pat.o'brien@contoso.com", "o'brien");
    assert.equal(
      lookup.sent[0]?.query?.$filter,
      "Alias eq 'pat.o''brien@contoso.com' or UserID eq 'o''brien'",
    );
    assert.equal(lookup.sent[0]?.query?.["cross-company"], "true");
  });

  it("returns undefined or false for what is not there, and fails on a 404 that is not an OData answer", async () => {
    const { client } = stub(() => missing());
    assert.equal(await client.getUser("nobody"), undefined);
    assert.equal(await client.removeRole("nobody", "X"), false);
    assert.equal(await client.deleteUser("nobody"), false);
    // What the service dialect makes of a servicing page (test/fno/service.test.ts): never "absent".
    const servicing = stub(
      () => new ApiError({ system: "fno", status: 404, kind: "Transient", message: "Not found" }),
    );
    await assert.rejects(servicing.client.getUser("adele"), (e: ApiError) => e.kind === "Transient");
    await assert.rejects(servicing.client.deleteUser("adele"), (e: ApiError) => e.kind === "Transient");
  });

  it("reads a user's role writes back in one query per entity and fails, naming the entity, when one did not take effect", async () => {
    // F&O answers success and changes nothing (the sandbox reproduces it in test/e2e and test/sandbox).
    const rows = (roles: unknown[], orgs: unknown[]) =>
      stub((req) =>
        req.path.endsWith("SecurityUserRoles")
          ? ok(200, { value: roles })
          : req.path.endsWith("SecurityUserRoleOrganizations")
            ? ok(200, { value: orgs })
            : ok(204),
      );
    const role = (status: string, mode = "Manual") => ({
      UserId: "x",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      SecurityRoleName: "Accountant",
      AssignmentStatus: status,
      AssignmentMode: mode,
    });
    const org = {
      UserId: "x",
      SecurityRoleIdentifier: "LEDGERACCOUNTANT",
      OrganizationType: "LegalEntity",
      OrganizationId: "USMF",
    };
    await assert.rejects(
      rows([], []).client.confirmWrites("x", [
        { method: "POST", roleId: "LEDGERACCOUNTANT", expect: "Enabled" },
      ]),
      /accepted POST SecurityUserRoles\(UserId='x',SecurityRoleIdentifier='LEDGERACCOUNTANT'\) but the row is absent: the write did not take effect/,
    );
    await assert.rejects(
      rows([role("Disabled")], []).client.confirmWrites("x", [
        { method: "PATCH", roleId: "LEDGERACCOUNTANT", expect: "Enabled" },
      ]),
      /accepted PATCH SecurityUserRoles\(.*\) but the row is unchanged/,
    );
    await assert.rejects(
      rows([role("Enabled")], []).client.confirmWrites("x", [
        { method: "DELETE", roleId: "LEDGERACCOUNTANT", expect: "absent" },
      ]),
      (e: ApiError) => e.code === "WriteNotApplied" && /accepted DELETE SecurityUserRoles/.test(e.message),
    );
    await assert.rejects(
      rows([], [org]).client.confirmWrites("x", [
        { method: "DELETE", roleId: "LEDGERACCOUNTANT", legalEntity: "usmf", expect: "absent" },
      ]),
      /accepted DELETE SecurityUserRoleOrganizations\(UserId='x'/,
    );
    await assert.rejects(
      rows([], []).client.confirmWrites("x", [
        { method: "POST", roleId: "LEDGERACCOUNTANT", legalEntity: "USMF", expect: "present" },
      ]),
      /is absent/,
    );
    // Taken effect: one filtered read per entity, whatever the number of rows written.
    const fine = rows(
      [role("Enabled"), { ...role("Disabled"), SecurityRoleIdentifier: "BUDGETBUDGETCLERK" }],
      [org],
    );
    await fine.client.confirmWrites("x", [
      { method: "PATCH", roleId: "LEDGERACCOUNTANT", expect: "Enabled" },
      { method: "POST", roleId: "budgetbudgetclerk", expect: "Disabled" },
      { method: "DELETE", roleId: "HCMEMPLOYEE", expect: "absent" },
      { method: "POST", roleId: "LEDGERACCOUNTANT", legalEntity: "USMF", expect: "present" },
    ]);
    assert.deepEqual(fine.sent.map((s) => `${s.method} ${s.path} ${s.query?.$filter}`).sort(), [
      "GET data/SecurityUserRoleOrganizations UserId eq 'x'",
      "GET data/SecurityUserRoles UserId eq 'x'",
    ]);
    const enable = stub(() => ok(204));
    await enable.client.enableRole("x", "LEDGERACCOUNTANT");
    assert.deepEqual(
      enable.sent.map((s) => s.method),
      ["PATCH"],
    );
    assert.deepEqual(enable.sent[0]?.body, { AssignmentStatus: "Enabled", AssignmentMode: "Manual" });
  });

  it("after an ambiguous create failure, looks the user up instead of posting again", async () => {
    let posts = 0;
    const { sent, client } = stub((req) => {
      if (req.method === "POST") {
        posts += 1;
        return transient();
      }
      return ok(200, { UserID: "o'brien", Alias: "Pat.OBrien@contoso.com", Enabled: true });
    });
    await client.createUser(newUser);
    assert.equal(posts, 1, "the create went through; it is not replayed");
    assert.deepEqual(
      sent.map((s) => s.method),
      ["POST", "GET"],
    );
  });

  it("sends the create once more only when the lookup shows it did not happen", async () => {
    let posts = 0;
    const { client } = stub((req) => {
      if (req.method === "POST") return ++posts === 1 ? transient() : ok(201);
      return missing();
    });
    await client.createUser(newUser);
    assert.equal(posts, 2);
  });

  it("does not take over a UserID that appeared with another identity", async () => {
    const { client } = stub((req) =>
      req.method === "POST" ? transient() : ok(200, { UserID: "o'brien", Alias: "someone.else@contoso.com" }),
    );
    await assert.rejects(client.createUser(newUser), /socket hang up/);
  });

  it("treats an assignment that already exists as done, and reports real refusals", async () => {
    const duplicate = new ApiError({ system: "fno", status: 400, message: "The record already exists." });
    const present = stub((req) => (req.method === "POST" ? duplicate : row("Enabled")));
    await present.client.assignRole("x", "LEDGERACCOUNTANT", "Accountant");
    const absent = stub((req) => (req.method === "POST" ? duplicate : missing()));
    await assert.rejects(absent.client.assignRole("x", "LEDGERACCOUNTANT", "Accountant"), /already exists/);
  });

  it("names the app and the F&O setup page when the token is refused", async () => {
    const { client } = stub(() => new ApiError({ system: "fno", status: 401, message: "Unauthorized" }));
    const error = await client.listRoles().then(
      () => assert.fail("expected a refusal"),
      (e: ApiError) => e,
    );
    assert.match(
      error.toString(),
      /register app app-id under System administration > Setup > Microsoft Entra applications/,
    );
  });
});
