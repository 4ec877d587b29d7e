import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../providers/core/errors.ts";
import { type Clock, WaitTimeoutError, waitFor } from "../../providers/core/runtime.ts";
import { loadSettings } from "../../providers/core/settings.ts";

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
  it("applies cloud defaults and scopes", () => {
    const s = loadSettings(
      cfg({
        "d365-access:tenantId": "t",
        "d365-access:environments": JSON.stringify([
          {
            name: "prod",
            dataverseUrl: "https://org.crm.dynamics.com/",
            fnoUrl: "https://x.operations.dynamics.com",
          },
        ]),
      }),
      {},
    );
    assert.equal(s.graph.scope, "https://graph.microsoft.com/.default");
    assert.equal(s.powerPlatform?.scope, "https://service.powerapps.com//.default");
    assert.equal(s.environments[0]?.dataverse?.scope, "https://org.crm.dynamics.com/.default");
    assert.equal(s.environments[0]?.fno?.scope, "https://x.operations.dynamics.com/.default");
    assert.equal(s.disableInstanceDiscovery, false);
    const gov = loadSettings(
      cfg({ "d365-access:tenantId": "t", "d365-access:authorityHost": "https://login.microsoftonline.us" }),
      {},
    );
    assert.equal(gov.graph.origin, "https://graph.microsoft.us");
  });
  it("names the missing key", () => {
    assert.throws(() => loadSettings(cfg({}), {}), /d365-access:tenantId is required/);
    assert.throws(
      () =>
        loadSettings(
          cfg({ "d365-access:tenantId": "t", "d365-access:authorityHost": "https://127.0.0.1:9" }),
          {},
        ),
      /d365-access:graphUrl is required/,
    );
    assert.throws(
      () => loadSettings(cfg({ "d365-access:tenantId": "t", "d365-access:environments": "[{}]" }), {}),
      /environments\[0\]\.name/,
    );
    assert.throws(
      () => loadSettings(cfg({ "d365-access:tenantId": "t", "d365-access:graphUrl": "http://x" }), {}),
      /must use https/,
    );
  });
});
