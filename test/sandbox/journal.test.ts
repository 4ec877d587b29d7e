/**
 * The request journal and the fault modes every service shares: what a test reads to prove
 * "zero writes", the servicing window (404/503 whatever the token), fractional Retry-After on
 * Graph versus whole seconds elsewhere, and 429s inside a 200 Graph $batch.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JournalEntry } from "../../sandbox/index.ts";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

type Json = Record<string, unknown>;
const ADELE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51";

describe("request journal", () => {
  let t: TestSandbox;
  let graphToken: string;
  const admin = (path: string, method = "GET", body?: unknown) =>
    t.call(`${t.endpoints.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body }) });
  const journal = async (query = "") =>
    ((await admin(`/journal${query}`)).body as { value: JournalEntry[] }).value;

  before(async () => {
    t = await startTestSandbox();
    graphToken = await t.token(`${t.endpoints.graphUrl}/.default`);
  });
  after(() => t.close());

  it("records method, path with query, status, calling app and time; DELETE empties it", async () => {
    assert.equal((await admin("/journal", "DELETE")).status, 204);
    await t.call(`${t.endpoints.graphUrl}/v1.0/users?$select=id&$top=2`, { token: graphToken });
    await t.call(`${t.endpoints.graphUrl}/v1.0/users/nobody@contoso.example`, { token: graphToken });
    const entries = await journal("?service=graph");
    assert.deepEqual(
      entries.map((e) => [e.method, e.path, e.status, e.appId, e.write]),
      [
        ["GET", "/v1.0/users?$select=id&$top=2", 200, t.endpoints.clientId, false],
        ["GET", "/v1.0/users/nobody@contoso.example", 404, t.endpoints.clientId, false],
      ],
    );
    assert.ok(entries.every((e) => !Number.isNaN(Date.parse(e.time)) && e.requestId.length > 0));
    assert.equal((await admin("/journal", "DELETE")).status, 204);
    assert.deepEqual(await journal("?service=graph"), []);
  });

  it("writes=true shows only changes: token requests and reads are not writes", async () => {
    await admin("/journal", "DELETE");
    const fresh = await t.mintToken({ audience: t.endpoints.graphUrl });
    await t.call(`${t.endpoints.graphUrl}/v1.0/users/${ADELE}`, { token: fresh });
    assert.deepEqual(await journal("?writes=true"), [], "a read-only session leaves no write");
    const patched = await t.call(`${t.endpoints.graphUrl}/v1.0/users/${ADELE}`, {
      method: "PATCH",
      token: graphToken,
      body: { jobTitle: "Controller" },
    });
    assert.equal(patched.status, 204);
    const writes = await journal("?writes=true");
    assert.deepEqual(
      writes.map((e) => `${e.method} ${e.path} ${e.status}`),
      [`PATCH /v1.0/users/${ADELE} 204`],
    );
  });

  it("journals each $batch item on its own, tied to the envelope, which is not a write", async () => {
    await admin("/journal", "DELETE");
    const res = await t.call(`${t.endpoints.graphUrl}/v1.0/$batch`, {
      method: "POST",
      token: graphToken,
      body: {
        requests: [
          { id: "1", method: "GET", url: `/users/${ADELE}?$select=id` },
          {
            id: "2",
            method: "PATCH",
            url: `/users/${ADELE}`,
            headers: { "Content-Type": "application/json" },
            body: { officeLocation: "Seattle" },
          },
        ],
      },
    });
    assert.equal(res.status, 200);
    const entries = await journal("?service=graph");
    const envelope = entries.find((e) => e.path === "/v1.0/$batch");
    assert.ok(envelope);
    assert.equal(envelope.write, false);
    const items = entries.filter((e) => e.batchOf === envelope.requestId);
    assert.deepEqual(
      items.map((e) => [e.method, e.path, e.status, e.write]),
      [
        ["GET", `/v1.0/users/${ADELE}?$select=id`, 200, false],
        ["PATCH", `/v1.0/users/${ADELE}`, 204, true],
      ],
    );
  });

  it("names the client on token requests and never records a secret, a token or a password", async () => {
    await admin("/journal", "DELETE");
    const password = "Journal-Passw0rd!";
    await t.call(`${t.endpoints.graphUrl}/v1.0/users`, {
      method: "POST",
      token: graphToken,
      body: {
        accountEnabled: true,
        displayName: "Journal Test",
        mailNickname: "journal.test",
        userPrincipalName: "journal.test@contoso.example",
        passwordProfile: { password },
      },
    });
    const tokenRes = await t.call(
      `${t.endpoints.authorityHost}/${t.endpoints.tenantId}/oauth2/v2.0/token?client_secret=${t.endpoints.clientSecret}`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `grant_type=client_credentials&client_id=${t.endpoints.clientId}&client_secret=${t.endpoints.clientSecret}&scope=${encodeURIComponent(`${t.endpoints.graphUrl}/.default`)}`,
      },
    );
    assert.equal(tokenRes.status, 200);
    const entries = await journal();
    const login = entries.find((e) => e.service === "login");
    assert.ok(login);
    assert.equal(login.appId, t.endpoints.clientId);
    assert.equal(login.write, false);
    const text = JSON.stringify(entries);
    assert.ok(!text.includes(t.endpoints.clientSecret), "no client secret");
    assert.ok(!text.includes(password), "no password");
    assert.ok(!text.includes(graphToken), "no bearer token");
    assert.match(login.path, /client_secret=REDACTED/);
  });

  it("refuses a filter on an unknown service", async () => {
    assert.equal((await admin("/journal?service=nope")).status, 400);
  });
});

describe("fault modes every service shares", () => {
  let t: TestSandbox;
  const now = { ms: Date.parse("2026-05-01T09:00:00Z") };
  before(async () => {
    t = await startTestSandbox({ clock: () => now.ms });
  });
  after(() => t.close());

  it("servicing: every F&O request answers 503 (or 404), valid token or not, until the window ends", async () => {
    const env = t.endpoints.environments[0];
    assert.ok(env);
    const token = await t.token(`${env.fnoUrl}/.default`);
    const set = await t.call(`${t.endpoints.adminUrl}/servicing`, {
      method: "POST",
      body: { service: "fno", environment: env.name, status: 503, seconds: 60 },
    });
    assert.equal(set.status, 200);
    for (const res of [
      await t.call(`${env.fnoUrl}/data/SystemUsers`, { token }),
      await t.call(`${env.fnoUrl}/data/SystemUsers`),
      await t.call(`${env.fnoUrl}/data/$metadata`, { token: "not-a-token" }),
    ]) {
      assert.equal(res.status, 503);
      assert.match(res.headers["content-type"] ?? "", /text\/html/, "not F&O's OData error shape");
    }
    const dv = await t.token(`${env.dataverseUrl}/.default`);
    assert.equal(
      (await t.call(`${env.dataverseUrl}/api/data/v9.2/WhoAmI`, { token: dv })).status,
      200,
      "only F&O is being serviced",
    );
    now.ms += 61_000;
    assert.equal((await t.call(`${env.fnoUrl}/data/SystemUsers?$top=1`, { token })).status, 200);
    await t.call(`${t.endpoints.adminUrl}/servicing`, {
      method: "POST",
      body: { service: "fno", status: 404 },
    });
    const gone = await t.call(`${env.fnoUrl}/data/SystemUsers('Admin')`, { token });
    assert.equal(gone.status, 404);
    assert.ok(!/"error"/.test(gone.text), "a servicing 404 is not an OData 'not found'");
    await t.call(`${t.endpoints.adminUrl}/servicing`, { method: "DELETE" });
    assert.equal((await t.call(`${env.fnoUrl}/data/SystemUsers('Admin')`, { token })).status, 200);
    assert.equal(
      (
        await t.call(`${t.endpoints.adminUrl}/servicing`, {
          method: "POST",
          body: { service: "fno", status: 500 },
        })
      ).status,
      400,
    );
  });

  it("Retry-After: fractional on Graph as configured, whole seconds on Dataverse and F&O", async () => {
    const env = t.endpoints.environments[0];
    assert.ok(env);
    const [graphToken, dvToken, _fnoToken] = await Promise.all(
      [t.endpoints.graphUrl, env.dataverseUrl, env.fnoUrl].map((origin) => t.token(`${origin}/.default`)),
    );
    t.sandbox.setFaults({ rate429: 1, retryAfterSeconds: 2.128 });
    try {
      const graph = await t.call(`${t.endpoints.graphUrl}/v1.0/users`, { token: graphToken });
      assert.equal(graph.status, 429);
      assert.equal(graph.headers["retry-after"], "2.128");
      const dv = await t.call(`${env.dataverseUrl}/api/data/v9.2/WhoAmI`, { token: dvToken });
      assert.equal(dv.status, 429);
      assert.equal(dv.headers["retry-after"], "3");
      const fno = await t.call(`${env.fnoUrl}/data/SystemUsers`, {
        token: await t.token(`${env.fnoUrl}/.default`),
      });
      assert.equal(fno.status, 429);
      assert.equal(fno.headers["retry-after"], "3");
    } finally {
      t.sandbox.setFaults({ rate429: 0, retryAfterSeconds: 2 });
    }
  });

  it("Graph $batch: throttled items are 429s with their own Retry-After inside a 200 envelope", async () => {
    const token = await t.token(`${t.endpoints.graphUrl}/.default`);
    t.sandbox.setFaults({ services: { graph: { rate429: 1, retryAfterSeconds: 0.75 } } });
    try {
      const res = await t.call(`${t.endpoints.graphUrl}/v1.0/$batch`, {
        method: "POST",
        token,
        body: {
          requests: [
            { id: "a", method: "GET", url: `/users/${ADELE}` },
            { id: "b", method: "GET", url: "/subscribedSkus" },
          ],
        },
      });
      assert.equal(res.status, 200, "the envelope itself is not throttled");
      const responses = (res.body as { responses: Json[] }).responses;
      assert.equal(responses.length, 2);
      for (const item of responses) {
        assert.equal(item.status, 429);
        assert.equal((item.headers as Json)["Retry-After"], "0.75");
        assert.equal(((item.body as Json).error as Json).code, "TooManyRequests");
      }
    } finally {
      t.sandbox.setFaults({ services: { graph: null } });
    }
  });
});

describe("sandbox files", () => {
  it("are owner-only (0600) and the state holds no client secret, token or password", async () => {
    const t = await startTestSandbox();
    try {
      const token = await t.token(`${t.endpoints.graphUrl}/.default`);
      await t.call(`${t.endpoints.graphUrl}/v1.0/users`, {
        method: "POST",
        token,
        body: {
          accountEnabled: true,
          displayName: "Files Test",
          mailNickname: "files.test",
          userPrincipalName: "files.test@contoso.example",
          passwordProfile: { password: "Files-Passw0rd!" },
        },
      });
      await t.sandbox.store.flush(true);
      const dir = t.sandbox.stateDir;
      const walk = async (d: string): Promise<string[]> =>
        (await readdir(d, { withFileTypes: true })).flatMap((e) =>
          e.isDirectory() ? [] : [join(d, e.name)],
        );
      const files = [...(await walk(dir)), ...(await walk(join(dir, "certs")))];
      assert.ok(files.length >= 6);
      for (const file of files) {
        // A store write still under way leaves a temp file that its rename takes away before
        // the stat (seen on a loaded machine): only a file that is still there has a mode.
        const mode = await stat(file).then(
          (s) => s.mode & 0o777,
          (e: NodeJS.ErrnoException) =>
            e.code === "ENOENT" && file.endsWith(".tmp") ? undefined : Promise.reject(e),
        );
        if (mode !== undefined) assert.equal(mode, 0o600, file);
      }
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      const state = await readFile(join(dir, "state.json"), "utf8");
      for (const secret of [
        t.endpoints.clientSecret,
        "sandbox-no-permissions-secret",
        "Files-Passw0rd!",
        token,
      ]) {
        assert.ok(!state.includes(secret), `state.json must not contain ${secret.slice(0, 12)}…`);
      }
    } finally {
      await t.close();
    }
  });
});
