/**
 * The F&O client against a stubbed ServiceClient: the URLs, keys and filters it sends (escaping
 * through core/odata, qualified enum literals), and how it treats ambiguous failures of creates.
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
    const { sent, client } = stub(() => ok(204));
    await client.removeRole("o'brien", "-SYSADMIN-");
    await client.removeRoleOrganization("o'brien", "LEDGERACCOUNTANT", "USMF");
    assert.equal(
      sent[0]?.path,
      "data/SecurityUserRoles(UserId='o''brien',SecurityRoleIdentifier='-SYSADMIN-')",
    );
    assert.equal(
      sent[1]?.path,
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

  it("returns undefined or false for what is not there", async () => {
    const { client } = stub(() => ok(404));
    assert.equal(await client.getUser("nobody"), undefined);
    assert.equal(await client.removeRole("nobody", "X"), false);
    assert.equal(await client.deleteUser("nobody"), false);
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
      return ok(404);
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
    const present = stub((req) => (req.method === "POST" ? duplicate : ok(200, { UserId: "x" })));
    await present.client.assignRole("x", "LEDGERACCOUNTANT", "Accountant");
    const absent = stub((req) => (req.method === "POST" ? duplicate : ok(404)));
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
