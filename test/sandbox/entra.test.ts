import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decodeJwt } from "../../sandbox/core/jwt.ts";
import { POWER_PLATFORM_RESOURCE } from "../../sandbox/core/tenant.ts";
import { startTestSandbox, type TestSandbox } from "./helpers.ts";

type Json = Record<string, unknown>;

describe("sandbox Entra sign-in", () => {
  let t: TestSandbox;
  const tokenUrl = () => `${t.endpoints.authorityHost}/${t.endpoints.tenantId}/oauth2/v2.0/token`;
  const post = (form: Record<string, string>, tenant = t.endpoints.tenantId) =>
    t.call(`${t.endpoints.authorityHost}/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
  const base = () => ({
    grant_type: "client_credentials",
    client_id: t.endpoints.clientId,
    client_secret: t.endpoints.clientSecret,
  });

  before(async () => {
    t = await startTestSandbox();
  });
  after(() => t.close());

  it("serves openid-configuration whose token endpoint is this origin", async () => {
    const res = await t.call(
      `${t.endpoints.authorityHost}/${t.endpoints.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(res.status, 200);
    const doc = res.body as Json;
    assert.equal(doc.token_endpoint, tokenUrl());
    assert.equal(doc.issuer, `${t.endpoints.authorityHost}/${t.endpoints.tenantId}/v2.0`);
    const keys = await t.call(doc.jwks_uri as string);
    assert.equal(((keys.body as Json).keys as Json[])[0]?.kty, "RSA");
    const unknown = await t.call(
      `${t.endpoints.authorityHost}/no-such-tenant.example/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(unknown.status, 400);
  });

  it("@azure/identity ClientSecretCredential gets a v1-style Graph token with the app's roles", async () => {
    const token = await t.token(`${t.endpoints.graphUrl}/.default`);
    const claims = decodeJwt(token)?.claims as Json;
    assert.equal(claims.aud, t.endpoints.graphUrl);
    assert.equal(claims.iss, `https://sts.windows.net/${t.endpoints.tenantId}/`);
    assert.equal(claims.ver, "1.0");
    assert.equal(claims.tid, t.endpoints.tenantId);
    assert.equal(claims.appid, t.endpoints.clientId);
    assert.equal(claims.idtyp, "app");
    assert.equal(claims.sub, claims.oid);
    assert.deepEqual(claims.roles, [
      "User.ReadWrite.All",
      "LicenseAssignment.ReadWrite.All",
      "Organization.Read.All",
    ]);
    assert.ok((claims.exp as number) > Date.now() / 1000);
  });

  it("issues tokens for each environment's origin and for the Power Platform resource", async () => {
    const env = t.endpoints.environments[0];
    assert.ok(env);
    for (const resource of [env.dataverseUrl, env.fnoUrl]) {
      const claims = decodeJwt(await t.token(`${resource}/.default`))?.claims as Json;
      assert.equal(claims.aud, resource);
      assert.ok(!("roles" in claims), "no Graph roles on other resources");
    }
    const pp = decodeJwt(await t.token(`${POWER_PLATFORM_RESOURCE}/.default`))?.claims as Json;
    assert.equal(pp.aud, POWER_PLATFORM_RESOURCE);
  });

  it("the no-permissions app's Graph token carries no roles claim", async () => {
    const claims = decodeJwt(await t.token(`${t.endpoints.graphUrl}/.default`, "noPermissions"))
      ?.claims as Json;
    assert.equal(claims.appid, "11111111-2222-3333-4444-555555555555");
    assert.ok(!("roles" in claims));
  });

  it("AADSTS7000215 invalid_client (401) for a wrong secret, also through @azure/identity", async () => {
    const res = await post({ ...base(), client_secret: "wrong", scope: `${t.endpoints.graphUrl}/.default` });
    assert.equal(res.status, 401);
    const body = res.body as Json;
    assert.equal(body.error, "invalid_client");
    assert.deepEqual(body.error_codes, [7000215]);
    assert.match(body.error_description as string, /^AADSTS7000215: Invalid client secret provided\./);
    assert.ok(!res.text.includes("wrong"), "the presented secret is never echoed");
    await assert.rejects(
      t.token(`${t.endpoints.graphUrl}/.default`, { clientId: t.endpoints.clientId, clientSecret: "wrong" }),
      /AADSTS7000215/,
    );
  });

  it("AADSTS500011 invalid_resource (400) for a resource nobody serves", async () => {
    const res = await post({ ...base(), scope: "https://contoso.crm.dynamics.com/.default" });
    assert.equal(res.status, 400);
    assert.equal((res.body as Json).error, "invalid_resource");
    assert.match(
      (res.body as Json).error_description as string,
      /^AADSTS500011: The resource principal named https:\/\/contoso\.crm\.dynamics\.com was not found/,
    );
  });

  it("AADSTS700016 for an unknown app, AADSTS1002012 without /.default, AADSTS90002 for an unknown tenant", async () => {
    const app = await post({
      ...base(),
      client_id: "99999999-9999-4999-8999-999999999999",
      scope: `${t.endpoints.graphUrl}/.default`,
    });
    assert.equal(app.status, 400);
    assert.equal((app.body as Json).error, "unauthorized_client");
    assert.deepEqual((app.body as Json).error_codes, [700016]);
    const scope = await post({ ...base(), scope: `${t.endpoints.graphUrl}/User.Read` });
    assert.equal(scope.status, 400);
    assert.equal((scope.body as Json).error, "invalid_scope");
    const tenant = await post({ ...base(), scope: `${t.endpoints.graphUrl}/.default` }, "fabrikam.example");
    assert.deepEqual((tenant.body as Json).error_codes, [90002]);
    const grant = await post({
      ...base(),
      grant_type: "password",
      scope: `${t.endpoints.graphUrl}/.default`,
    });
    assert.equal((grant.body as Json).error, "unsupported_grant_type");
  });

  it("client assertion from a federated credential (the sandbox's test issuer) gets a token; a wrong subject does not", async () => {
    const assertionFor = async (subject: string) => {
      const res = await t.call(`${t.endpoints.adminUrl}/oidc/token`, { method: "POST", body: { subject } });
      return (res.body as { token: string }).token;
    };
    const form = (assertion: string) => ({
      grant_type: "client_credentials",
      client_id: t.endpoints.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: `${t.endpoints.graphUrl}/.default`,
    });
    const good = await post(form(await assertionFor("repo:contoso/d365-access:environment:sandbox")));
    assert.equal(good.status, 200);
    const claims = decodeJwt((good.body as Json).access_token as string)?.claims as Json;
    assert.equal(claims.appidacr, "2");
    const bad = await post(form(await assertionFor("repo:evil/fork:ref:refs/heads/main")));
    assert.equal(bad.status, 401);
    assert.deepEqual((bad.body as Json).error_codes, [700213]);
    const none = await post({
      grant_type: "client_credentials",
      client_id: t.endpoints.clientId,
      scope: `${t.endpoints.graphUrl}/.default`,
    });
    assert.deepEqual((none.body as Json).error_codes, [7000218]);
  });
});
