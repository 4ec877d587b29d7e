import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseFaultSpec } from "../../sandbox/core/faults.ts";
import {
  caseSensitiveLookup,
  evaluateFilter,
  ODataSyntaxError,
  parseFilter,
  parseQueryOptions,
} from "../../sandbox/core/odata/index.ts";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

type Json = Record<string, unknown>;

describe("sandbox core: OData query module", () => {
  it("parses and evaluates eq/ne/and/or/not, functions, GUIDs and qualified enums", () => {
    const row = { UserID: "o'brien", Enabled: "Yes", id: "8D7C3E2A-6F5B-4A19-9E0D-2B4C6A8F1E37", n: 3 };
    const yes = (f: string) => evaluateFilter(parseFilter(f), row);
    assert.equal(yes("UserID eq 'o''brien' and Enabled eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"), true);
    assert.equal(yes("id eq 8d7c3e2a-6f5b-4a19-9e0d-2b4c6a8f1e37"), true);
    assert.equal(yes("not (n gt 2) or startswith(UserID,'x')"), false);
    assert.equal(yes("n in (1, 3)"), true);
  });
  it("reports syntax errors with their position", () => {
    assert.throws(
      () => parseFilter("UserID eq"),
      (e: unknown) => e instanceof ODataSyntaxError && e.position === 9,
    );
    assert.throws(() => parseFilter("UserID eq 'x"), /Unterminated string literal at position 10/);
  });
  it("honours the property-name policy and F&O wildcards", () => {
    assert.throws(
      () => evaluateFilter(parseFilter("userid eq 'a'"), { UserID: "a" }, { lookup: caseSensitiveLookup }),
      /userid/,
    );
    assert.equal(
      evaluateFilter(parseFilter("UserID eq 'ad*'"), { UserID: "admin" }, { wildcardInEq: true }),
      true,
    );
  });
  it("parses $select/$top/$expand with nested options and refuses a bad $top", () => {
    const o = parseQueryOptions(
      new URLSearchParams("$select=a,b&$top=5&$expand=roles($select=name;$filter=name eq 'x')"),
    );
    assert.deepEqual(o.select, ["a", "b"]);
    assert.equal(o.top, 5);
    assert.deepEqual(o.expand?.[0]?.options.select, ["name"]);
    assert.throws(() => parseQueryOptions(new URLSearchParams("$top=-1")), ODataSyntaxError);
  });
  it("parses the CLI fault syntax and refuses rates outside 0..1", () => {
    assert.deepEqual(parseFaultSpec("429=0.2,503=0.05"), { rate429: 0.2, rate503: 0.05 });
    assert.throws(() => parseFaultSpec("429=2"), /between 0 and 1/);
    assert.throws(() => parseFaultSpec("500=0.1"), /unknown fault/);
  });
});

describe("sandbox core: server, admin API, faults, persistence", () => {
  let dir: string;
  let t: TestSandbox;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sandbox-core-test-"));
    t = await startTestSandbox({ stateDir: dir });
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes endpoints.json with exactly the documented keys, and the CA under the state dir", async () => {
    const doc = JSON.parse(await readFile(join(dir, "endpoints.json"), "utf8")) as Json;
    assert.deepEqual(Object.keys(doc).sort(), [
      "adminUrl",
      "authorityHost",
      "caCertPath",
      "clientId",
      "clientSecret",
      "environments",
      "graphUrl",
      "powerPlatformUrl",
      "tenantId",
    ]);
    assert.deepEqual(Object.keys((doc.environments as Json[])[0] as Json).sort(), [
      "dataverseUrl",
      "fnoUrl",
      "name",
      "powerPlatformEnvironmentId",
    ]);
    assert.equal(doc.caCertPath, join(dir, "ca.pem"));
    const origins = [doc.authorityHost, doc.graphUrl, doc.powerPlatformUrl, doc.adminUrl].map(
      (u) => new URL(u as string),
    );
    assert.ok(origins.every((u) => u.protocol === "https:" && u.hostname === "127.0.0.1"));
    assert.equal(new Set(origins.map((u) => u.port)).size, 4, "one origin per service");
  });

  it("a client that does not trust the sandbox CA is refused by TLS", async () => {
    await assert.rejects(
      new Promise((resolve, reject) =>
        request(`${t.endpoints.adminUrl}/health`, resolve).on("error", reject).end(),
      ),
      /self[- ]signed|unable to verify|certificate/i,
    );
  });

  it("admin API: health, faults (validated), unrouted 501", async () => {
    assert.equal((await t.call(`${t.endpoints.adminUrl}/health`)).status, 200);
    const bad = await t.call(`${t.endpoints.adminUrl}/faults`, { method: "PATCH", body: { rate429: 7 } });
    assert.equal(bad.status, 400);
    assert.equal((await t.call(`${t.endpoints.adminUrl}/nope`)).status, 501);
    assert.equal((await t.call(`${t.endpoints.adminUrl}/faults`)).status, 200);
  });

  it("admin API: the fidelity switches and Dataverse limits are validated key by key", async () => {
    const patch = (body: unknown) => t.call(`${t.endpoints.adminUrl}/faults`, { method: "PATCH", body });
    assert.equal((await patch({ fidelity: { nope: true } })).status, 400);
    assert.equal((await patch({ fidelity: { expandNextLinks: "yes" } })).status, 400);
    assert.equal((await patch({ dataverseLimits: { nope: 1 } })).status, 400);
    const off = await patch({ fidelity: { expandNextLinks: false } });
    assert.equal(off.status, 200);
    // biome-ignore lint/suspicious/noExplicitAny: the admin answer is arbitrary JSON
    const fidelity = (off.body as any).fidelity;
    assert.deepEqual(fidelity, { expandNextLinks: false, notLicensedInMessage: true }, "one key at a time");
    await t.call(`${t.endpoints.adminUrl}/faults`, { method: "PUT", body: {} });
    // biome-ignore lint/suspicious/noExplicitAny: the admin answer is arbitrary JSON
    const reset = (await t.call(`${t.endpoints.adminUrl}/faults`)).body as any;
    // The defaults are the real services' behaviours.
    assert.deepEqual(
      reset.fidelity,
      { expandNextLinks: true, notLicensedInMessage: true },
      "PUT {} restores them",
    );
  });

  it("injects 429 with Retry-After and 503 per service, then stops when cleared", async () => {
    const token = await t.token(`${t.endpoints.graphUrl}/.default`);
    const set = await t.call(`${t.endpoints.adminUrl}/faults`, {
      method: "PATCH",
      body: { services: { graph: { rate429: 1, retryAfterSeconds: 7 } } },
    });
    assert.equal(set.status, 200);
    const throttled = await t.call(`${t.endpoints.graphUrl}/v1.0/users`, { token });
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers["retry-after"], "7");
    assert.equal(((throttled.body as Json).error as Json).code, "TooManyRequests");
    await t.call(`${t.endpoints.adminUrl}/faults`, {
      method: "PATCH",
      body: { services: { graph: { rate429: 0, rate503: 1 } } },
    });
    assert.equal((await t.call(`${t.endpoints.graphUrl}/v1.0/users`, { token })).status, 503);
    t.sandbox.setFaults({ services: { graph: null }, latencyMs: 120 });
    const started = Date.now();
    assert.equal((await t.call(`${t.endpoints.graphUrl}/v1.0/users`, { token })).status, 200);
    assert.ok(Date.now() - started >= 110, "latency applied");
    await t.call(`${t.endpoints.adminUrl}/faults`, { method: "PUT", body: {} });
  });

  it("persists changes atomically (no temp files left) and reset restores the seed", async () => {
    const token = await t.token(`${t.endpoints.graphUrl}/.default`);
    const created = await t.call(`${t.endpoints.graphUrl}/v1.0/users`, {
      method: "POST",
      token,
      body: {
        accountEnabled: true,
        displayName: "Persisted",
        mailNickname: "persisted",
        userPrincipalName: "persisted@contoso.example",
        passwordProfile: { password: "Sandbox-Passw0rd!" },
      },
    });
    assert.equal(created.status, 201);
    await t.sandbox.store.flush();
    const saved = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as {
      state: { entra: { users: Json[] } };
    };
    assert.ok(saved.state.entra.users.some((u) => u.userPrincipalName === "persisted@contoso.example"));
    // The background sync may have started another write since: a temporary file is "left" only
    // when it outlives every write, so wait for the writes in flight before looking again.
    let temps = true;
    for (let i = 0; i < 5 && temps; i++) {
      await t.sandbox.store.flush();
      temps = (await readdir(dir)).some((f) => f.endsWith(".tmp"));
    }
    assert.ok(!temps, "no temporary file outlives the writes");
    assert.equal((await t.call(`${t.endpoints.adminUrl}/reset`, { method: "POST" })).status, 200);
    assert.equal(
      (await t.call(`${t.endpoints.graphUrl}/v1.0/users/persisted@contoso.example`, { token })).status,
      404,
    );
    const after = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as {
      state: { entra: { users: Json[] } };
    };
    assert.ok(!after.state.entra.users.some((u) => u.userPrincipalName === "persisted@contoso.example"));
    assert.ok(existsSync(join(dir, "ca-key.pem")));
  });
});
