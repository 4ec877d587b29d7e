import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../providers/core/errors.ts";
import { type Clock, WaitTimeoutError, waitFor } from "../../providers/core/runtime.ts";
import type { ServiceSpec } from "../../providers/core/service.ts";
import { loadSettings, requireServiceEndpoint, serviceEndpoint } from "../../providers/core/settings.ts";

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("waitFor", () => {
  it("retries listed error kinds and undefined results with growing pauses, then returns", async () => {
    const clock = fakeClock();
    let n = 0;
    const lines: string[] = [];
    const v = await waitFor(
      {
        name: "user appears",
        timeoutMs: 60_000,
        attempts: 5,
        retryOn: ["NotFound"],
        clock,
        log: (l) => lines.push(l),
      },
      async () => {
        n++;
        if (n === 1) throw new ApiError({ system: "dataverse", status: 404, message: "not yet" });
        return n < 3 ? undefined : "ok";
      },
    );
    assert.equal(v, "ok");
    assert.deepEqual(clock.slept, [500, 1000]);
    assert.equal(lines.length, 2);
  });
  it("fails at once on other errors and names what it waited for on timeout", async () => {
    const clock = fakeClock();
    await assert.rejects(
      waitFor({ name: "x", timeoutMs: 1000, attempts: 5, retryOn: ["NotFound"], clock }, async () => {
        throw new ApiError({ system: "entra", status: 403, message: "no" });
      }),
      (e) => e instanceof ApiError,
    );
    await assert.rejects(
      waitFor(
        {
          name: "Entra user appears in Dataverse",
          timeoutMs: 1200,
          attempts: 10,
          retryOn: ["NotFound"],
          clock,
        },
        async () => undefined,
      ),
      (e) => e instanceof WaitTimeoutError && /Entra user appears in Dataverse/.test(e.message),
    );
  });
});

describe("loadSettings", () => {
  const cfg = (v: Record<string, string>) => ({ get: (k: string) => v[k] });
  /** A service declared the way system folders declare theirs. */
  const svc = (over: Partial<ServiceSpec["endpoint"]> = {}): ServiceSpec =>
    ({
      name: "svc",
      maxConcurrency: 1,
      endpoint: { kind: "tenant", urlKey: "svcUrl", scopeKey: "svcScope", clouds: {}, ...over },
    }) as ServiceSpec;
  it("reads generic keys, environments and cloud defaults a service declares", () => {
    const s = loadSettings(
      cfg({
        "d365-access:tenantId": "t",
        "d365-access:environments": JSON.stringify([
          { name: "prod", envUrl: "https://org.example/x", id: "42" },
        ]),
      }),
      {},
    );
    assert.equal(s.disableInstanceDiscovery, false);
    assert.deepEqual(s.environments, [{ name: "prod", values: { envUrl: "https://org.example", id: "42" } }]);
    const perCloud = svc({
      clouds: { "login.microsoftonline.com": { url: "https://svc.example", scope: "aud//.default" } },
    });
    assert.deepEqual(serviceEndpoint(s, perCloud), { origin: "https://svc.example", scope: "aud//.default" });
    assert.equal(serviceEndpoint(s, svc()), undefined);
    const env: ServiceSpec = {
      name: "e",
      maxConcurrency: 1,
      endpoint: { kind: "environment", urlKey: "envUrl" },
    };
    assert.deepEqual(serviceEndpoint(s, env, "prod"), {
      origin: "https://org.example",
      scope: "https://org.example/.default",
    });
    const explicit = loadSettings(
      cfg({
        "d365-access:tenantId": "t",
        "d365-access:svcUrl": "https://a.example/p",
        "d365-access:svcScope": "s",
      }),
      {},
    );
    assert.deepEqual(serviceEndpoint(explicit, svc()), { origin: "https://a.example", scope: "s" });
  });
  it("names the missing key", () => {
    assert.throws(() => loadSettings(cfg({}), {}), /d365-access:tenantId is required/);
    const unknownCloud = loadSettings(
      cfg({ "d365-access:tenantId": "t", "d365-access:authorityHost": "https://127.0.0.1:9" }),
      {},
    );
    assert.equal(unknownCloud.disableInstanceDiscovery, true);
    assert.throws(
      () => requireServiceEndpoint(unknownCloud, svc()),
      /d365-access:svcUrl is required for authority https:\/\/127\.0\.0\.1:9 \(unknown cloud\)/,
    );
    assert.throws(
      () => loadSettings(cfg({ "d365-access:tenantId": "t", "d365-access:environments": "[{}]" }), {}),
      /environments\[0\]\.name/,
    );
    assert.throws(
      () =>
        loadSettings(
          cfg({
            "d365-access:tenantId": "t",
            "d365-access:environments": '[{"name":"a","xUrl":"http://x"}]',
          }),
          {},
        ),
      /environments\[0\]\.xUrl: "http:\/\/x" must use https/,
    );
  });
});
