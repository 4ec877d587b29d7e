import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { isApiError } from "../../providers/core/errors.ts";
import { createServiceClient, requestCounter } from "../../providers/core/http.ts";

const TOKEN = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.c2ln";
const credential: TokenCredential = {
  getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

/** A transport that answers from a script and records what it was sent. */
function stub(answer: (req: PipelineRequest, n: number) => Answer | Promise<Answer>) {
  const seen: PipelineRequest[] = [];
  const client: HttpClient = {
    async sendRequest(request) {
      seen.push(request);
      const a = await answer(request, seen.length);
      const text = a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body);
      const headers = createHttpHeaders({ "content-type": "application/json", ...a.headers });
      return { request, status: a.status, headers, bodyAsText: text } satisfies PipelineResponse;
    },
  };
  return { client, seen };
}

function make(httpClient: HttpClient, extra: Record<string, unknown> = {}) {
  return createServiceClient({
    service: { name: "entra" },
    baseUrl: "https://graph.test/",
    scope: "https://graph.test/.default",
    credential,
    httpClient,
    retry: { random: () => 0 },
    ...extra,
  });
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

afterEach(() => mock.timers.reset());

describe("service client pipeline", () => {
  it("sends the bearer token for the scope, JSON body and encoded query", async () => {
    const { client, seen } = stub(() => ({ status: 200, body: { ok: true } }));
    const res = await make(client).request<{ ok: boolean }>({
      method: "POST",
      path: "/v1.0/users",
      query: { $filter: "a eq 'x&y'" },
      body: { a: 1 },
      idempotent: true,
    });
    assert.deepEqual(res.body, { ok: true });
    const req = seen[0] as PipelineRequest;
    assert.equal(req.headers.get("authorization"), `Bearer ${TOKEN}`);
    assert.equal(req.url, "https://graph.test/v1.0/users?$filter=a%20eq%20'x%26y'");
    assert.equal(req.body, '{"a":1}');
  });

  it("waits for Retry-After (fractional) before retrying a 429, with fake timers", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    const { client, seen } = stub((_r, n) =>
      n === 1
        ? {
            status: 429,
            headers: { "retry-after": "2.5" },
            body: { error: { code: "TooManyRequests", message: "Please retry again later." } },
          }
        : { status: 200, body: { value: 1 } },
    );
    const pending = make(client).request({ path: "v1.0/me" });
    await flush();
    assert.equal(seen.length, 1);
    mock.timers.tick(2499);
    await flush();
    assert.equal(seen.length, 1, "retried before Retry-After elapsed");
    mock.timers.tick(1);
    await flush();
    assert.equal((await pending).status, 200);
    assert.equal(seen.length, 2);
  });

  it("gives up with a Throttled ApiError when Retry-After exceeds the wait budget", async () => {
    const { client, seen } = stub(() => ({
      status: 429,
      headers: { "retry-after": "600" },
      body: { error: { code: "TooManyRequests", message: "slow down" } },
    }));
    await assert.rejects(
      make(client).request({ path: "x" }),
      (e) => isApiError(e, "Throttled") && /slow down/.test(e.toString()),
    );
    assert.equal(seen.length, 1);
  });

  it("does not follow redirects: a 302 to sign-in is Unauthorized", async () => {
    const { client, seen } = stub(() => ({
      status: 302,
      headers: { location: "https://login.test/common/oauth2/authorize?client_id=x" },
    }));
    await assert.rejects(
      make(client).request({ path: "data/SystemUsers" }),
      (e) => isApiError(e, "Unauthorized") && /login\.test/.test(e.message) && !/client_id/.test(e.message),
    );
    assert.equal(seen.length, 1);
  });

  it("retries a 502 for GET but never replays a create (POST) after it", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    const { client, seen } = stub((_r, n) => (n === 1 ? { status: 502 } : { status: 200, body: {} }));
    const c = make(client);
    const get = c.request({ path: "x" });
    await flush();
    mock.timers.tick(1000);
    await flush();
    assert.equal((await get).status, 200);
    const post = stub(() => ({ status: 502 }));
    await assert.rejects(make(post.client).request({ method: "POST", path: "v1.0/users", body: {} }), (e) =>
      isApiError(e, "Transient"),
    );
    assert.equal(post.seen.length, 1);
    assert.equal(seen.length, 2);
  });

  it("accepts listed statuses and throws a parsed ApiError otherwise", async () => {
    const { client } = stub(() => ({
      status: 404,
      headers: { "request-id": "r1" },
      body: { error: { code: "Request_ResourceNotFound", message: "Resource 'x' does not exist" } },
    }));
    const c = make(client);
    assert.equal((await c.request({ path: "v1.0/users/x", accept: [200, 404] })).status, 404);
    await assert.rejects(
      c.request({ path: "v1.0/users/x" }),
      (e) => isApiError(e, "NotFound") && e.requestId === "r1" && e.operation === "GET /v1.0/users/x",
    );
  });

  it("pages through @odata.nextLink and throws on a failed page (never a partial list)", async () => {
    const { client } = stub((r) => {
      if (r.url.endsWith("page=2"))
        return {
          status: 200,
          body: { value: [3], "@odata.nextLink": "https://graph.test/v1.0/users?page=3" },
        };
      if (r.url.endsWith("page=3"))
        return { status: 400, body: { error: { code: "Request_BadRequest", message: "bad skiptoken" } } };
      return {
        status: 200,
        body: { value: [1, 2], "@odata.nextLink": "https://graph.test/v1.0/users?page=2" },
      };
    });
    const got: number[] = [];
    await assert.rejects(
      async () => {
        for await (const v of make(client).paginate<number>("v1.0/users")) got.push(v);
      },
      (e) => isApiError(e, "Invalid"),
    );
    assert.deepEqual(got, [1, 2, 3]);
  });

  it("refuses a nextLink to another origin (tokens stay home)", async () => {
    const { client, seen } = stub(() => ({
      status: 200,
      body: { value: [1], "@odata.nextLink": "https://evil.test/steal" },
    }));
    await assert.rejects(async () => {
      for await (const _ of make(client).paginate("v1.0/users"));
    }, /another origin/);
    assert.equal(seen.length, 1);
  });

  it("bounds concurrency per client and counts requests", async () => {
    requestCounter.reset();
    let inFlight = 0;
    let peak = 0;
    const { client } = stub(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return { status: 204 };
    });
    const c = make(client, { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => c.request({ path: "x" })));
    assert.equal(peak, 2);
    assert.equal(requestCounter.bySystem.entra, 6);
    assert.equal(requestCounter.byOperation["GET entra"], 6);
  });

  it("turns a credential failure into one Unauthorized line", async () => {
    const failing: TokenCredential = {
      getToken: async () => {
        const e = new Error("AADSTS7000215: Invalid client secret provided.\nTrace ID: x") as Error & {
          errorResponse: unknown;
        };
        e.name = "AuthenticationError";
        e.errorResponse = {
          error: "invalid_client",
          errorDescription: "AADSTS7000215: Invalid client secret provided.\nTrace ID: x",
        };
        throw e;
      },
    };
    const { client } = stub(() => ({ status: 200 }));
    await assert.rejects(
      make(client, { credential: failing }).request({ path: "x" }),
      (e) =>
        isApiError(e, "Unauthorized") &&
        e.code === "AADSTS7000215" &&
        !e.toString().includes("Trace ID") &&
        /Hint: the client secret is wrong: use the secret's Value \(not its Secret ID\)/.test(e.toString()),
    );
  });

  it("says to start the sandbox when nothing answers on this machine, and only then", async () => {
    const unreachable: TokenCredential = {
      getToken: async () => {
        const e = new Error("endpoints_resolution_error: See https://aka.ms/msal.js.errors for details");
        e.name = "CredentialUnavailableError";
        throw e;
      },
    };
    const { client } = stub(() => ({ status: 200 }));
    const local = make(client, { credential: unreachable, baseUrl: "https://127.0.0.1:47302" });
    await assert.rejects(local.request({ path: "x" }), (e) => {
      assert.ok(isApiError(e));
      assert.equal(e.code, "endpoints_resolution_error");
      assert.match(
        e.toString(),
        /Hint: nothing answers at 127\.0\.0\.1:47302: start the sandbox with `npm run sandbox start`\.$/,
      );
      return true;
    });
    const remote = make(client, { credential: unreachable });
    await assert.rejects(remote.request({ path: "x" }), (e) => {
      assert.ok(isApiError(e));
      assert.doesNotMatch(e.toString(), /sandbox/);
      assert.match(e.toString(), /Hint: check authorityHost and the network\.$/);
      return true;
    });
  });
});
