/**
 * The Entra provider on the lived-in tenant (issue 11 items 1, 3 and 4), driven directly against
 * a sandbox seeded with it: licenses users.yaml does not manage stay, synced users keep what AD
 * masters, guests are addressed by their encoded UPN, a privileged user's refused sign-in change
 * is one line while the rest applies, Graph's eventual consistency is waited out, and a replayed
 * create is recorded as created by us.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createHttpHeaders, type HttpClient, type PipelineRequest } from "@azure/core-rest-pipeline";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { type EntraUserInputs, type EntraUserOutputs, provider } from "../../providers/entra/resources.ts";
import type { JournalEntry } from "../../sandbox/core/types.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

let sb: TestSandbox;
const FIN = "DYN365_FINANCE";
const TEAM = "DYN365_ENTERPRISE_TEAM_MEMBERS";
const MANAGED = [FIN, TEAM];

/** Configures the runtime, optionally with a transport that rewrites some answers. */
function configure(rewrite?: (req: PipelineRequest) => { status: number; body: unknown } | undefined) {
  resetRuntime();
  const httpClient: HttpClient | undefined = rewrite && {
    async sendRequest(req) {
      const res = await sb.httpClient.sendRequest(req);
      const fake = rewrite(req);
      if (!fake) return res;
      return {
        ...res,
        status: fake.status,
        headers: createHttpHeaders({ "content-type": "application/json" }),
        bodyAsText: JSON.stringify(fake.body),
      };
    },
  };
  configureRuntime(
    sandboxConfig(sb.sandbox.stateDir),
    httpClient ? { client: { httpClient, retry: { baseDelayMs: 1 } } } : {},
    {},
  );
}

const inputs = (over: Partial<EntraUserInputs>): EntraUserInputs & Record<string, unknown> => ({
  upn: "nobody@contoso.example",
  displayName: "Nobody",
  usageLocation: "US",
  enabled: true,
  manage: "adopt",
  onRemove: "disable",
  licenses: [],
  managedLicenses: MANAGED,
  __provider: "shim",
  ...over,
});
const license = (sku: string) => ({ sku, disabledPlans: [] });

function graphUser(upn: string) {
  return sb.sandbox.state.entra.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
}
function directSkus(upn: string): string[] {
  const skus = sb.sandbox.state.entra.skus;
  return (graphUser(upn)?.assignedLicenses ?? [])
    .map((l) => skus.find((s) => s.skuId.toLowerCase() === l.skuId.toLowerCase())?.skuPartNumber ?? l.skuId)
    .sort();
}
async function journal(): Promise<JournalEntry[]> {
  const res = await sb.call(`${sb.endpoints.adminUrl}/journal?service=graph`);
  return (res.body as { value: JournalEntry[] }).value;
}
async function clearJournal(): Promise<void> {
  await sb.call(`${sb.endpoints.adminUrl}/journal`, { method: "DELETE" });
}

before(async () => {
  sb = await startTestSandbox({ seed: "lived-in" });
});
after(async () => {
  resetRuntime();
  await sb.close();
});
beforeEach(async () => {
  configure();
  await clearJournal();
});

describe("entra:User on a lived-in tenant", () => {
  it("owns only the managed SKUs: Microsoft 365 E5 held directly stays, removal takes only what it manages", async () => {
    const upn = "megan.bowen@contoso.example";
    assert.deepEqual(directSkus(upn), [FIN, "SPE_E5"]);
    const res = await provider.create(inputs({ upn, displayName: "Megan Bowen", licenses: [license(TEAM)] }));
    assert.deepEqual(directSkus(upn), [TEAM, "SPE_E5"]);
    await provider.delete(res.id, res.outs as EntraUserOutputs);
    assert.deepEqual(directSkus(upn), ["SPE_E5"]);
    assert.equal(graphUser(upn)?.accountEnabled, true, "adopted: left enabled");
  });

  it("never patches what AD masters for a synced user, records AD's values, and still changes its licenses", async () => {
    const upn = "johanna.lorenz@contoso.example";
    const res = await provider.create(
      inputs({
        upn,
        displayName: "Johanna Lorenz-Berg",
        usageLocation: "DE",
        enabled: false,
        licenses: [license(TEAM)],
      }),
    );
    const outs = res.outs as EntraUserOutputs;
    assert.deepEqual(directSkus(upn), [TEAM, "ENTERPRISEPACK"]);
    assert.equal(graphUser(upn)?.displayName, "Johanna Lorenz");
    assert.equal(graphUser(upn)?.accountEnabled, true);
    assert.deepEqual(
      (await journal()).filter((e) => e.method === "PATCH"),
      [],
    );
    assert.deepEqual([outs.displayName, outs.enabled, outs.onPremisesSync], ["Johanna Lorenz", true, true]);
    const same = inputs({
      upn,
      displayName: "Johanna Lorenz-Berg",
      usageLocation: "DE",
      enabled: false,
      licenses: [license(TEAM)],
    });
    assert.equal(
      (await provider.diff(res.id, outs, same)).changes,
      false,
      "AD's values are no change to make",
    );
  });

  it("addresses a guest by its encoded #EXT# UPN", async () => {
    const upn = "grady.archie_fabrikam.example#EXT#@contoso.example";
    const res = await provider.create(inputs({ upn, displayName: "Grady Archie", licenses: [license(FIN)] }));
    assert.equal(res.id, graphUser(upn)?.id);
    assert.deepEqual(directSkus(upn), [FIN]);
    const paths = (await journal()).map((e) => e.path);
    assert.ok(
      paths.some((p) => p.startsWith("/v1.0/users/grady.archie_fabrikam.example%23EXT%23@contoso.example?")),
      paths.join("\n"),
    );
  });

  it("a privileged user's refused sign-in change is one line naming the role needed; its licenses still change", async () => {
    const upn = "admin@contoso.example";
    await assert.rejects(
      provider.create(
        inputs({ upn, displayName: "MOD Administrator", enabled: false, licenses: [license(FIN)] }),
      ),
      (e: Error & { properties?: Record<string, unknown> }) => {
        assert.equal(e.message.includes("\n"), false);
        assert.equal(e.message.match(/Privileged Authentication Administrator/g)?.length, 1, e.message);
        assert.match(e.message, /^entra:User admin@contoso\.example: Graph refused to disable sign-in/);
        assert.equal(
          e.properties?.enabled,
          true,
          "the state records what Entra has, so the next run tries again",
        );
        return true;
      },
    );
    assert.deepEqual(directSkus(upn), [FIN, "SPE_E5"]);
    assert.equal(graphUser(upn)?.accountEnabled, true);
  });

  it("after a create, waits for Graph to show the new user before licensing it", async () => {
    sb.sandbox.setFaults({ graphNewUserDelaySeconds: 2 });
    try {
      const upn = "new.hire@contoso.example";
      const res = await provider.create(
        inputs({ upn, displayName: "New Hire", manage: "create", licenses: [license(FIN)] }),
      );
      assert.equal((res.outs as EntraUserOutputs).adopted, false);
      assert.deepEqual(directSkus(upn), [FIN]);
      const assigns = (await journal()).filter((e) => e.path.endsWith("/assignLicense"));
      assert.ok(
        assigns.length >= 2 && assigns[0]?.status === 404 && assigns.at(-1)?.status === 200,
        JSON.stringify(assigns),
      );
    } finally {
      sb.sandbox.setFaults({ graphNewUserDelaySeconds: 0 });
    }
  });

  it("after setting a usage location, retries the license Graph refuses until it sees it", async () => {
    const upn = "eva.nowak@contoso.example";
    let refused = 0;
    configure((req) => {
      if (!req.url.endsWith("/assignLicense") || refused > 0) return undefined;
      refused++;
      return {
        status: 400,
        body: {
          error: {
            code: "Request_BadRequest",
            message: "License assignment cannot be done for user with invalid usage location.",
          },
        },
      };
    });
    const res = await provider.create(
      inputs({ upn, displayName: "Eva Nowak", usageLocation: "PL", licenses: [license(FIN)] }),
    );
    assert.equal(refused, 1);
    assert.equal(graphUser(upn)?.usageLocation, "PL");
    assert.deepEqual(directSkus(upn), [FIN]);
    assert.ok(res.id);
  });

  it("a create whose first answer was lost meets its own user and records it as created, not adopted", async () => {
    const upn = "replayed.create@contoso.example";
    let lost = 0;
    configure((req) => {
      // Graph applied the POST, then the answer was a 503 (a 503 does not prove the write did not run).
      if (req.method !== "POST" || !req.url.endsWith("/v1.0/users") || lost > 0) return undefined;
      lost++;
      return {
        status: 503,
        body: { error: { code: "serviceNotAvailable", message: "Service unavailable" } },
      };
    });
    const res = await provider.create(
      inputs({ upn, displayName: "Replayed", manage: "create", licenses: [license(FIN)] }),
    );
    const outs = res.outs as EntraUserOutputs;
    assert.equal(lost, 1);
    assert.equal(outs.adopted, false);
    assert.ok(outs.initialPassword);
    assert.equal(
      sb.sandbox.state.entra.users.filter((u) => u.userPrincipalName === upn).length,
      1,
      "no duplicate",
    );
    // So removal treats it as ours: disabled.
    await provider.delete(res.id, outs);
    assert.equal(graphUser(upn)?.accountEnabled, false);
  });

  it("takes the object the program found: as created when an interrupted run made it, else adopted", async () => {
    const upn = "lidia.holloway@contoso.example";
    const id = graphUser(upn)?.id as string;
    const created = await provider.create(
      inputs({ upn, displayName: "Lidia Holloway", objectId: id, provenance: "created" }),
    );
    assert.equal((created.outs as EntraUserOutputs).adopted, false);
    const adopted = await provider.create(inputs({ upn, displayName: "Lidia Holloway", objectId: id }));
    assert.equal((adopted.outs as EntraUserOutputs).adopted, true);
    await assert.rejects(
      provider.create(
        inputs({ upn, displayName: "Lidia Holloway", objectId: "00000000-0000-4000-8000-000000000000" }),
      ),
      /no longer exists: run preview again/,
    );
  });
});
