/**
 * Contract tests of the background Entra → Dataverse sync through the real server: Entra changes
 * made with Graph, observed through the Dataverse Web API, timed by the sandbox's injected clock
 * (so an N-second delay is checked exactly, without sleeping). A license assignment counts from
 * Graph's own stamp; other changes (account enabled, license removed) count from when the sync
 * observes them (next Dataverse/PP request or 200 ms background tick), so those tests read once
 * right after the Graph change, before moving the clock.
 * Rules per https://learn.microsoft.com/power-platform/admin/create-users (see sandbox/dataverse/sync.ts).
 */
// The contract of these routes is asserted on the small demo seed, whose numbers it names (seats,
// counts, the app's registration); the lived-in tenant's behaviours have their own *-lived-in tests.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;

const ADELE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51"; // Finance license
const BRUNO = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a52"; // Team Members through a licensing group
const CHLOE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a53"; // unlicensed, usageLocation FR
const DIEGO = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a54"; // disabled in Entra
const FINANCE_SKU = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";
const DELAY_SECONDS = 30;

describe("Entra → Dataverse background sync (contract)", () => {
  let sb: TestSandbox;
  let now = Date.now();
  let dvToken: string;
  let graphToken: string;
  let api: string;

  const row = async (oid: string): Promise<Json> => {
    const r = await sb.call(
      `${api}/systemusers?$filter=azureactivedirectoryobjectid eq ${oid}&$select=isdisabled,islicensed,_businessunitid_value,domainname&$expand=systemuserroles_association($select=name,_businessunitid_value)`,
      { token: dvToken },
    );
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).value[0];
  };
  const graph = async (path: string, method: string, body: unknown) => {
    const r = await sb.call(`${sb.endpoints.graphUrl}/v1.0/${path}`, { method, token: graphToken, body });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  };

  before(async () => {
    sb = await startTestSandbox({
      seed: "demo",
      clock: () => now,
      faults: { syncDelaySeconds: DELAY_SECONDS },
    });
    const env = sb.endpoints.environments[0];
    assert.ok(env);
    api = `${env.dataverseUrl}/api/data/v9.2`;
    dvToken = await sb.token(`${env.dataverseUrl}/.default`);
    graphToken = await sb.token(`${sb.endpoints.graphUrl}/.default`);
  });
  after(() => sb.close());

  it("has the seed's licensed users in the root business unit with the F&O auto roles", async () => {
    const root = (
      (await sb.call(`${api}/businessunits?$filter=parentbusinessunitid eq null`, { token: dvToken }))
        .body as Json
    ).value[0].businessunitid;
    for (const oid of [ADELE, BRUNO]) {
      const u = await row(oid);
      assert.ok(u, oid);
      assert.equal(u.isdisabled, false);
      assert.equal(u.islicensed, true);
      assert.equal(u._businessunitid_value, root);
      assert.deepEqual(u.systemuserroles_association.map((r: Json) => r.name).sort(), [
        "Environment Maker",
        "Finance and Operations Basic User",
      ]);
      assert.ok(u.systemuserroles_association.every((r: Json) => r._businessunitid_value === root));
    }
    assert.equal(await row(CHLOE), undefined);
    assert.equal(await row(DIEGO), undefined);
  });

  it("adds a newly licensed user exactly syncDelaySeconds after the change", async () => {
    await graph(`users/${CHLOE}/assignLicense`, "POST", {
      addLicenses: [{ skuId: FINANCE_SKU, disabledPlans: [] }],
      removeLicenses: [],
    });
    // No read in between: Graph stamps the assignment, so the delay counts from it exactly.
    now += DELAY_SECONDS * 1000 - 1;
    assert.equal(await row(CHLOE), undefined);
    now += 1;
    const chloe = await row(CHLOE);
    assert.ok(chloe);
    assert.equal(chloe.domainname, "chloe.martin@contoso.example");
    assert.equal(chloe.systemuserroles_association.length, 2);
  });

  it("disables the row of a user disabled in Entra after the delay, and re-enables it", async () => {
    await graph(`users/${ADELE}`, "PATCH", { accountEnabled: false });
    assert.equal((await row(ADELE)).isdisabled, false);
    now += DELAY_SECONDS * 1000;
    assert.equal((await row(ADELE)).isdisabled, true);
    await graph(`users/${ADELE}`, "PATCH", { accountEnabled: true });
    assert.equal((await row(ADELE)).isdisabled, true); // the sync observes the change now
    now += DELAY_SECONDS * 1000;
    assert.equal((await row(ADELE)).isdisabled, false);
  });

  it("disables the row of a user whose license is removed, keeping the row", async () => {
    await graph(`users/${CHLOE}/assignLicense`, "POST", { addLicenses: [], removeLicenses: [FINANCE_SKU] });
    assert.equal((await row(CHLOE)).isdisabled, false); // observed now, applied after the delay
    now += DELAY_SECONDS * 1000;
    const chloe = await row(CHLOE);
    assert.equal(chloe.isdisabled, true);
    assert.equal(chloe.islicensed, false);
  });

  it("applies a delay changed at run time (0 s: visible on the next request)", async () => {
    sb.sandbox.setFaults({ syncDelaySeconds: 0 });
    await graph(`users/${CHLOE}/assignLicense`, "POST", {
      addLicenses: [{ skuId: FINANCE_SKU, disabledPlans: [] }],
      removeLicenses: [],
    });
    assert.equal((await row(CHLOE)).isdisabled, false);
  });

  it("runs in the background too: a change becomes visible without any Dataverse request driving it", async () => {
    sb.sandbox.setFaults({ syncDelaySeconds: 0 });
    await graph(`users/${CHLOE}`, "PATCH", { accountEnabled: false });
    // Wait for the background tick (200 ms), then read the persisted state directly.
    const env = sb.endpoints.environments[0]?.name ?? "";
    const deadline = Date.now() + 3000;
    const disabled = () =>
      sb.sandbox.state.dataverse[env]?.systemUsers.find((u) => u.azureactivedirectoryobjectid === CHLOE)
        ?.isdisabled;
    while (!disabled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(disabled(), true);
  });
});
