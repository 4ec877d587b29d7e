/**
 * The hostile-input catalogue at every path into a query (issue 16 item 6): names with OData
 * operators, quotes and URL syntax go through each client's key and `$filter` building against
 * the real sandbox, whose OData parser and evaluator answer them. Each must reach the service as
 * ONE literal: it matches nothing (or only the row it names), is never a 400 (broken syntax) and
 * never widens the query to other rows. users.yaml refuses most of these names first
 * (test/model/invalid/hostile-*); this proves the layer under it holds on its own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { configureRuntime, resetRuntime, runtime } from "../../providers/core/runtime.ts";
import { clientFor as dataverseClient } from "../../providers/dataverse/run.ts";
import { createEntraClient } from "../../providers/entra/client.ts";
import { graph } from "../../providers/entra/service.ts";
import { clientFor as fnoClient } from "../../providers/fno/run.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

/** Each tries to close the literal and add a clause, or to smuggle URL syntax past the encoder. */
const HOSTILE = [
  "o'brien@contoso.example",
  "x' or Alias ne 'y@contoso.example",
  "x') or (1 eq 1@contoso.example",
  "a'' or ''b@contoso.example",
  "a&$filter=true@contoso.example",
  "a%27 or 1 eq 1@contoso.example",
  "a#EXT#@contoso.example",
  "a/../users@contoso.example",
  "$batch'@contoso.example",
  "a+b c?x=1@contoso.example",
];

let sb: TestSandbox;
let environment: string;

before(async () => {
  sb = await startTestSandbox();
  const first = sb.endpoints.environments[0];
  assert.ok(first);
  environment = first.name;
  resetRuntime();
  configureRuntime(sandboxConfig(sb.sandbox.stateDir), {
    client: { httpClient: sb.httpClient },
    credential: sb.credential("demo"),
  });
});

after(async () => {
  resetRuntime();
  await sb?.close();
});

/** Journal entries of one service since `since` that the service refused as malformed. */
function malformed(since: string): string[] {
  return sb.sandbox.journal
    .entries({ since })
    .filter((e) => e.status === 400)
    .map((e) => `${e.method} ${e.path} → ${e.status}`);
}

describe("hostile names at every query path", () => {
  it("F&O: Alias and UserID filters, user keys and role-row filters match only the literal", async () => {
    const client = fnoClient(await runtime(), environment);
    const all = (await client.listUsers()).length;
    assert.ok(all > 1, "the sandbox has users a widened filter would return");
    const since = new Date().toISOString();
    for (const name of HOSTILE) {
      assert.deepEqual(
        await client.findUserByAlias(name, name),
        [],
        `findUserByAlias(${JSON.stringify(name)})`,
      );
      assert.equal(await client.getUser(name), undefined, `getUser(${JSON.stringify(name)})`);
      assert.deepEqual(await client.listUserRoles(name), [], `listUserRoles(${JSON.stringify(name)})`);
      assert.deepEqual(await client.listUserRoleOrganizations(name), []);
    }
    assert.deepEqual(malformed(since), []);
    const sent = sb.sandbox.journal.entries({ since, service: "fno" }).map((e) => decodeURIComponent(e.path));
    assert.ok(
      sent.some((p) => p.includes("Alias eq 'x'' or Alias ne ''y@contoso.example'")),
      sent.join("\n"),
    );
  });

  it("F&O: a real name with a quote still finds exactly its own record", async () => {
    const client = fnoClient(await runtime(), environment);
    const state = sb.sandbox.state.fno[environment];
    assert.ok(state);
    const template = state.users.find((u) => u.Enabled);
    assert.ok(template);
    state.users.push({
      ...template,
      UserID: "obrien",
      Alias: "o'brien@contoso.example",
      UserName: "Pat O'Brien",
    });
    const found = await client.findUserByAlias("o'brien@contoso.example");
    assert.deepEqual(
      found.map((u) => u.userId),
      ["obrien"],
    );
  });

  it("Entra: a UPN addresses one user in the path, never another resource or a query", async () => {
    const rt = await runtime();
    const client = createEntraClient(rt.client(graph));
    const since = new Date().toISOString();
    for (const name of HOSTILE) {
      assert.equal(await client.getUserByUpn(name), undefined, `getUserByUpn(${JSON.stringify(name)})`);
    }
    assert.deepEqual(malformed(since), []);
    const paths = sb.sandbox.journal.entries({ since, service: "graph" }).map((e) => e.path);
    assert.equal(paths.length, HOSTILE.length, "one request per name: no batch, no redirect");
    for (const sent of paths) {
      const [path, query, ...more] = sent.split("?");
      // One segment (or one quoted key), and the client's own $select as the only query option.
      assert.match(path ?? "", /^\/v1\.0\/users(\/[^/]+|\('[^/]*'\))$/, sent);
      assert.match(query ?? "", /^\$select=[^&]*$/, sent);
      assert.deepEqual(more, [], sent);
    }
    assert.ok(
      paths.some((p) => p.startsWith("/v1.0/users('%24batch''%40")),
      paths.join("\n"),
    );
  });

  it("Dataverse: object ids are GUID literals; anything else is refused before a request", async () => {
    const client = dataverseClient(await runtime(), environment);
    const since = new Date().toISOString();
    for (const name of ["x' or 1 eq 1", "00000000-0000-0000-0000-000000000000) or (true", "null"]) {
      await assert.rejects(client.getSystemUserByObjectId(name), /not a GUID/);
    }
    assert.deepEqual(sb.sandbox.journal.entries({ since, service: "dataverse" }), []);
  });
});
