/**
 * Contract tests of the sandbox's Power Platform admin API (BAP) through the real HTTPS server,
 * with tokens from the unmodified @azure/identity ClientSecretCredential.
 * Behaviour per https://learn.microsoft.com/power-platform/admin/create-users and the sources
 * named in sandbox/powerplatform/.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CallOptions, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;

const EVA = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a55"; // unlicensed, no usageLocation
const FINANCE_SKU = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";
const PP_SCOPE = "https://service.powerapps.com//.default";
const V = "api-version=2023-06-01";

describe("Power Platform admin API (contract)", () => {
  let sb: TestSandbox;
  let base: string;
  let token: string;
  const bap = async (path: string, options: CallOptions = {}) => {
    const res = await sb.call(`${base}${path}`, { token, ...options });
    return { ...res, body: res.body as Json };
  };

  before(async () => {
    sb = await startTestSandbox();
    base = `${sb.endpoints.powerPlatformUrl}/providers/Microsoft.BusinessAppPlatform`;
    token = await sb.token(PP_SCOPE);
  });
  after(() => sb.close());

  it("lists environments whose ids and URLs match endpoints.json", async () => {
    const r = await bap(`/scopes/admin/environments?${V}`);
    assert.equal(r.status, 200);
    const expected = sb.endpoints.environments[0];
    assert.ok(expected);
    assert.equal(r.body.value.length, sb.endpoints.environments.length);
    const env = r.body.value[0];
    assert.equal(env.name, expected.powerPlatformEnvironmentId);
    assert.equal(
      env.id,
      `/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${expected.powerPlatformEnvironmentId}`,
    );
    assert.equal(env.properties.databaseType, "CommonDataService");
    assert.equal(env.properties.linkedEnvironmentMetadata.instanceUrl, `${expected.dataverseUrl}/`);
    assert.equal(env.properties.linkedAppMetadata.url, expected.fnoUrl);
    const missingVersion = await bap("/scopes/admin/environments");
    assert.equal(missingVersion.status, 400);
    assert.equal(missingVersion.body.error.code, "MissingApiVersionParameter");
  });

  it("gets one environment, and 404s an unknown id", async () => {
    const id = sb.endpoints.environments[0]?.powerPlatformEnvironmentId;
    const r = await bap(`/scopes/admin/environments/${id}?${V}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.name, id);
    const missing = await bap(`/scopes/admin/environments/00000000-0000-0000-0000-000000000000?${V}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "EnvironmentNotFound");
  });

  it("takes tokens for https://service.powerapps.com/ only: not its own host, not Dataverse's", async () => {
    await assert.rejects(sb.token(`${sb.endpoints.powerPlatformUrl}/.default`), /AADSTS500011/);
    const dvToken = await sb.token(`${sb.endpoints.environments[0]?.dataverseUrl}/.default`);
    const wrong = await bap(`/scopes/admin/environments?${V}`, { token: dvToken });
    assert.equal(wrong.status, 401);
    const none = await bap(`/scopes/admin/environments?${V}`, { token: "" });
    assert.equal(none.status, 401);
    assert.ok((none.body as Json).error.code);
    assert.ok(none.headers["www-authenticate"]?.includes(sb.endpoints.authorityHost));
  });

  it("refuses an app that is not a registered management application with 403", async () => {
    const other = await sb.token(PP_SCOPE, "noPermissions");
    const r = await bap(`/scopes/admin/environments?${V}`, { token: other });
    assert.equal(r.status, 403);
    assert.match(
      r.body.error.message,
      /application '11111111-2222-3333-4444-555555555555' does not have permission to access the path/,
    );
  });

  it("addUser answers userNotLicensed until the license is there, then the user appears in Dataverse", async () => {
    const env = sb.endpoints.environments[0];
    assert.ok(env);
    const addUser = () =>
      bap(`/scopes/admin/environments/${env.powerPlatformEnvironmentId}/addUser?${V}`, {
        method: "POST",
        body: { objectId: EVA },
      });
    const refused = await addUser();
    assert.equal(refused.status, 400);
    // Inside the message, as Microsoft's cmdlet surfaces it (docs/fidelity.md, notLicensedInMessage).
    assert.equal(refused.body.error.code, "BadRequest");
    assert.match(refused.body.error.message, /userNotLicensed/);

    const graph = await sb.token(`${sb.endpoints.graphUrl}/.default`);
    const loc = await sb.call(`${sb.endpoints.graphUrl}/v1.0/users/${EVA}`, {
      method: "PATCH",
      token: graph,
      body: { usageLocation: "PL" },
    });
    assert.equal(loc.status, 204, loc.text);
    // A long background delay: the row must come from addUser's forced sync (delay set to 0 below).
    sb.sandbox.setFaults({ syncDelaySeconds: 3600 });
    const lic = await sb.call(`${sb.endpoints.graphUrl}/v1.0/users/${EVA}/assignLicense`, {
      method: "POST",
      token: graph,
      body: { addLicenses: [{ skuId: FINANCE_SKU, disabledPlans: [] }], removeLicenses: [] },
    });
    assert.equal(lic.status, 200, lic.text);
    const dvToken = await sb.token(`${env.dataverseUrl}/.default`);
    const find = async () =>
      (
        (
          await sb.call(
            `${env.dataverseUrl}/api/data/v9.2/systemusers?$filter=azureactivedirectoryobjectid eq ${EVA}`,
            {
              token: dvToken,
            },
          )
        ).body as Json
      ).value;
    assert.equal((await find()).length, 0);
    sb.sandbox.setFaults({ syncDelaySeconds: 0 });
    const ok = await addUser();
    assert.equal(ok.status, 200);
    assert.equal(ok.text, "");
    const rows = await find();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].isdisabled, false);

    const unknown = await bap(`/scopes/admin/environments/${env.powerPlatformEnvironmentId}/addUser?${V}`, {
      method: "POST",
      body: { objectId: "00000000-0000-4000-8000-0000000000ee" },
    });
    assert.equal(unknown.status, 404);
    const noBody = await bap(`/scopes/admin/environments/${env.powerPlatformEnvironmentId}/addUser?${V}`, {
      method: "POST",
      body: {},
    });
    assert.equal(noBody.status, 400);
  });

  it("renders injected faults: 429 with Retry-After, and 503", async () => {
    sb.sandbox.setFaults({ services: { powerplatform: { rate429: 1, retryAfterSeconds: 3 } } });
    try {
      const r = await bap(`/scopes/admin/environments?${V}`);
      assert.equal(r.status, 429);
      assert.equal(r.headers["retry-after"], "3");
      assert.equal(r.body.error.code, "TooManyRequests");
    } finally {
      sb.sandbox.setFaults({ services: { powerplatform: null } });
    }
    sb.sandbox.setFaults({ services: { powerplatform: { rate503: 1 } } });
    try {
      const r = await bap(`/scopes/admin/environments?${V}`);
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, "ServiceUnavailable");
    } finally {
      sb.sandbox.setFaults({ services: { powerplatform: null } });
    }
  });
});
