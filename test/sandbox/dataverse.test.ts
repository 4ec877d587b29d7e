/**
 * Contract tests of the sandbox's Dataverse Web API through the real HTTPS server, with tokens
 * from the unmodified @azure/identity ClientSecretCredential (test/sandbox/helpers.ts).
 * Every route: its success shape and at least one error. Sources: the
 * comments in sandbox/dataverse/ and sandbox/dataverse/README.md.
 */
// The contract of these routes is asserted on the small demo seed, whose numbers it names (seats,
// counts, the app's registration); the lived-in tenant's behaviours have their own *-lived-in tests.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CallOptions, startTestSandbox, type TestSandbox } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON, asserted field by field
type Json = any;

const ADELE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51"; // Finance license: synced at environment creation
const CHLOE = "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a53"; // unlicensed, usageLocation FR
const FINANCE_SKU = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";
const NO_PERMS_APP = "11111111-2222-3333-4444-555555555555";

describe("Dataverse Web API (contract)", () => {
  let sb: TestSandbox;
  let api: string;
  let token: string;
  const dv = async (path: string, options: CallOptions = {}) => {
    const res = await sb.call(path.startsWith("https:") ? path : `${api}/${path}`, { token, ...options });
    return { ...res, body: res.body as Json };
  };
  const userByOid = async (oid: string) => {
    const r = await dv(
      `systemusers?$filter=azureactivedirectoryobjectid eq ${oid}&$expand=systemuserroles_association($select=roleid,name,_businessunitid_value)`,
    );
    assert.equal(r.status, 200);
    return r.body.value[0] as Json;
  };
  const rootRole = async (name: string, child = false) => {
    const bus = await dv("businessunits?$select=name,_parentbusinessunitid_value");
    const bu = bus.body.value.find((b: Json) => (b._parentbusinessunitid_value === null) !== child);
    const r = await dv(
      `roles?$select=roleid,name&$filter=name eq '${name}' and _businessunitid_value eq ${bu.businessunitid}`,
    );
    assert.equal(r.body.value.length, 1);
    return r.body.value[0].roleid as string;
  };

  before(async () => {
    sb = await startTestSandbox({ seed: "demo" });
    const env = sb.endpoints.environments[0];
    assert.ok(env);
    api = `${env.dataverseUrl}/api/data/v9.2`;
    token = await sb.token(`${env.dataverseUrl}/.default`);
  });
  after(() => sb.close());

  it("refuses a missing, wrong-audience or expired token with 401 and a Bearer challenge", async () => {
    const missing = await dv("WhoAmI", { token: "" });
    assert.equal(missing.status, 401);
    assert.equal(missing.text, "");
    assert.match(
      missing.headers["www-authenticate"] ?? "",
      /^Bearer authorization_uri=https:\/\/.+, resource_id=https:\/\//,
    );
    const graphToken = await sb.token(`${sb.endpoints.graphUrl}/.default`);
    assert.equal((await dv("WhoAmI", { token: graphToken })).status, 401);
    const expired = await sb.mintToken({
      audience: sb.endpoints.environments[0]?.dataverseUrl ?? "",
      expiresInSeconds: -600,
    });
    assert.equal((await dv("WhoAmI", { token: expired })).status, 401);
  });

  it("answers WhoAmI with the application user, and 403 0x80072560 for an app without one", async () => {
    const who = await dv("WhoAmI");
    assert.equal(who.status, 200);
    assert.equal(who.headers["odata-version"], "4.0");
    const app = await dv(`systemusers(${who.body.UserId})?$select=applicationid,accessmode`);
    assert.equal(app.body.applicationid, sb.endpoints.clientId);
    assert.equal(app.body.accessmode, 4);
    assert.match(who.body.BusinessUnitId, /^[0-9a-f-]{36}$/);
    const other = await sb.token(`${sb.endpoints.environments[0]?.dataverseUrl}/.default`, "noPermissions");
    const denied = await dv("WhoAmI", { token: other });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, {
      error: { code: "0x80072560", message: "The user is not a member of the organization." },
    });
  });

  it("lists systemusers filtered by Entra object id with roles expanded, and refuses a quoted GUID", async () => {
    const adele = await userByOid(ADELE);
    assert.equal(adele.domainname, "adele.vance@contoso.example");
    assert.equal(adele.isdisabled, false);
    assert.match(adele["@odata.etag"], /^W\/"\d+"$/);
    assert.deepEqual(adele.systemuserroles_association.map((r: Json) => r.name).sort(), [
      "Environment Maker",
      "Finance and Operations Basic User",
    ]);
    const quoted = await dv(`systemusers?$filter=azureactivedirectoryobjectid eq '${ADELE}'`);
    assert.equal(quoted.status, 400);
    assert.equal(quoted.body.error.code, "0x80060888");
    assert.match(quoted.headers["content-type"] ?? "", /application\/json; odata.metadata=minimal/);
  });

  it("gets a user by id and by alternate key, with 0x80040217 and 0x80060891 when missing", async () => {
    const adele = await userByOid(ADELE);
    const byId = await dv(`systemusers(${adele.systemuserid})?$select=fullname`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.fullname, "Adele Vance");
    assert.match(byId.body["@odata.context"], /\$metadata#systemusers\(fullname\)\/\$entity$/);
    const byKey = await dv(`systemusers(azureactivedirectoryobjectid=${ADELE})?$select=systemuserid`);
    assert.equal(byKey.body.systemuserid, adele.systemuserid);
    const missing = await dv("systemusers(00000000-0000-4000-8000-000000000000)");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body.error, {
      code: "0x80040217",
      message: "Entity 'systemuser' With Id = 00000000-0000-4000-8000-000000000000 Does Not Exist",
    });
    const noKey = await dv(`systemusers(azureactivedirectoryobjectid=${CHLOE})`);
    assert.equal(noKey.status, 404);
    assert.equal(noKey.body.error.code, "0x80060891");
  });

  it("keeps roles per business unit: root roles copied into the child unit", async () => {
    const r = await dv(
      "roles?$filter=name eq 'Basic User'&$select=name,_businessunitid_value,_roletemplateid_value,_parentrootroleid_value",
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.value.length, 2);
    const [a, b] = r.body.value;
    assert.notEqual(a.roleid, b.roleid);
    assert.notEqual(a._businessunitid_value, b._businessunitid_value);
    assert.equal(a._roletemplateid_value, "236750cd-45ae-4939-ab12-b24b920ced93");
    assert.equal(b._roletemplateid_value, a._roletemplateid_value);
    assert.equal(a._parentrootroleid_value, b._parentrootroleid_value);
    const one = await dv(`roles(${a.roleid})?$select=name`);
    assert.equal(one.body.name, "Basic User");
    const none = await dv("roles(00000000-0000-4000-8000-000000000000)");
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, "0x80040217");
  });

  it("lists business units with exactly one root, and refuses an unknown column", async () => {
    const root = await dv("businessunits?$select=businessunitid,name&$filter=parentbusinessunitid eq null");
    assert.equal(root.status, 200);
    assert.equal(root.body.value.length, 1);
    const one = await dv(`businessunits(${root.body.value[0].businessunitid})`);
    assert.equal(one.body._parentbusinessunitid_value, null);
    const bad = await dv("businessunits?$select=Name");
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.error.message,
      /Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.businessunit'/,
    );
  });

  it("associates a role (absolute and relative @odata.id) and refuses a duplicate with 412 0x80040237", async () => {
    const adele = await userByOid(ADELE);
    const roleid = await rootRole("Basic User");
    const ref = `systemusers(${adele.systemuserid})/systemuserroles_association/$ref`;
    const added = await dv(ref, { method: "POST", body: { "@odata.id": `${api}/roles(${roleid})` } });
    assert.equal(added.status, 204);
    const dup = await dv(ref, { method: "POST", body: { "@odata.id": `roles(${roleid})` } });
    assert.equal(dup.status, 412);
    assert.equal(dup.body.error.code, "0x80040237");
    const unknownRole = await dv(ref, {
      method: "POST",
      body: { "@odata.id": `roles(00000000-0000-4000-8000-000000000000)` },
    });
    assert.equal(unknownRole.status, 404);
    const childRole = await rootRole("Basic User", true);
    const otherUnit = await dv(ref, { method: "POST", body: { "@odata.id": `roles(${childRole})` } });
    assert.equal(otherUnit.status, 400);
    assert.ok((await userByOid(ADELE)).systemuserroles_association.some((r: Json) => r.roleid === roleid));
  });

  it("disassociates a role in both DELETE forms", async () => {
    const adele = await userByOid(ADELE);
    const roleid = await rootRole("System Customizer");
    const base = `systemusers(${adele.systemuserid})/systemuserroles_association`;
    assert.equal(
      (await dv(`${base}/$ref`, { method: "POST", body: { "@odata.id": `${api}/roles(${roleid})` } })).status,
      204,
    );
    const byKey = await dv(`${base}(${roleid})/$ref`, { method: "DELETE" });
    assert.equal(byKey.status, 204);
    assert.ok(!(await userByOid(ADELE)).systemuserroles_association.some((r: Json) => r.roleid === roleid));
    assert.equal(
      (await dv(`${base}/$ref`, { method: "POST", body: { "@odata.id": `${api}/roles(${roleid})` } })).status,
      204,
    );
    const byId = await dv(`${base}/$ref?$id=${encodeURIComponent(`${api}/roles(${roleid})`)}`, {
      method: "DELETE",
    });
    assert.equal(byId.status, 204);
    assert.ok(!(await userByOid(ADELE)).systemuserroles_association.some((r: Json) => r.roleid === roleid));
    const noId = await dv(`${base}/$ref`, { method: "DELETE" });
    assert.equal(noId.status, 400);
    const noRole = await dv(`${base}(00000000-0000-4000-8000-000000000000)/$ref`, { method: "DELETE" });
    assert.equal(noRole.status, 404);
  });

  it("creates an eligible user just in time by alternate key, and refuses an unlicensed one", async () => {
    const roleid = await rootRole("Basic User");
    const path = `systemusers(azureactivedirectoryobjectid=${CHLOE})/systemuserroles_association/$ref`;
    const refused = await dv(path, { method: "POST", body: { "@odata.id": `${api}/roles(${roleid})` } });
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, "0x80060891");
    // License Chloé in Entra through Graph, with a long sync delay so only JIT can create her now.
    sb.sandbox.setFaults({ syncDelaySeconds: 3600 });
    try {
      const graphToken = await sb.token(`${sb.endpoints.graphUrl}/.default`);
      const lic = await sb.call(`${sb.endpoints.graphUrl}/v1.0/users/${CHLOE}/assignLicense`, {
        method: "POST",
        token: graphToken,
        body: { addLicenses: [{ skuId: FINANCE_SKU, disabledPlans: [] }], removeLicenses: [] },
      });
      assert.equal(lic.status, 200, lic.text);
      assert.equal(await userByOid(CHLOE), undefined);
      const jit = await dv(path, { method: "POST", body: { "@odata.id": `${api}/roles(${roleid})` } });
      assert.equal(jit.status, 204);
      const chloe = await userByOid(CHLOE);
      assert.equal(chloe.isdisabled, false);
      assert.ok(chloe.systemuserroles_association.some((r: Json) => r.roleid === roleid));
    } finally {
      sb.sandbox.setFaults({ syncDelaySeconds: 0 });
    }
  });

  it("removes all roles when a user's business unit changes, and 404s an unknown unit", async () => {
    const adele = await userByOid(ADELE);
    assert.ok(adele.systemuserroles_association.length > 0);
    const child = (await dv("businessunits?$filter=parentbusinessunitid ne null")).body.value[0];
    const moved = await dv(`systemusers(${adele.systemuserid})`, {
      method: "PATCH",
      body: { "businessunitid@odata.bind": `/businessunits(${child.businessunitid})` },
    });
    assert.equal(moved.status, 204);
    const after = await userByOid(ADELE);
    assert.equal(after._businessunitid_value, child.businessunitid);
    assert.deepEqual(after.systemuserroles_association, []);
    const unknown = await dv(`systemusers(${adele.systemuserid})`, {
      method: "PATCH",
      body: { "businessunitid@odata.bind": "/businessunits(00000000-0000-4000-8000-000000000000)" },
    });
    assert.equal(unknown.status, 404);
    const badColumn = await dv(`systemusers(${adele.systemuserid})`, {
      method: "PATCH",
      body: { nickname: "x" },
    });
    assert.equal(badColumn.status, 400);
  });

  it("creates an application user, enforces its privileges with 0x80040220, and deletes it in two steps", async () => {
    const human = await dv("systemusers", {
      method: "POST",
      body: { domainname: "someone@contoso.example" },
    });
    assert.equal(human.status, 400);
    const created = await dv("systemusers", {
      method: "POST",
      body: { applicationid: NO_PERMS_APP, accessmode: 4, isdisabled: false },
    });
    assert.equal(created.status, 204);
    const entityId = created.headers["odata-entityid"] ?? "";
    assert.match(
      entityId,
      new RegExp(`^${api.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/systemusers\\([0-9a-f-]{36}\\)$`),
    );
    const dup = await dv("systemusers", {
      method: "POST",
      body: { applicationid: NO_PERMS_APP, accessmode: 4 },
    });
    assert.equal(dup.status, 400);
    assert.equal(dup.body.error.code, "0x8004F511");
    const appToken = await sb.token(
      `${sb.endpoints.environments[0]?.dataverseUrl}/.default`,
      "noPermissions",
    );
    assert.equal((await dv("WhoAmI", { token: appToken })).status, 200);
    const denied = await dv("systemusers", { token: appToken });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "0x80040220");
    assert.match(denied.body.error.message, /is missing prvReadUser privilege/);
    const id = /systemusers\(([^)]+)\)/.exec(entityId)?.[1];
    assert.equal((await dv(`systemusers(${id})`, { method: "DELETE" })).status, 204);
    assert.equal((await dv(`systemusers(${id})?$select=deletedstate`)).body.deletedstate, 1);
    assert.equal((await dv("WhoAmI", { token: appToken })).status, 403);
    assert.equal((await dv(`systemusers(${id})`, { method: "DELETE" })).status, 204);
    assert.equal((await dv(`systemusers(${id})`)).status, 404);
  });

  it("pages with Prefer: odata.maxpagesize and @odata.nextLink, counts, and refuses $skip", async () => {
    const all = await dv("roles?$count=true&$select=name");
    assert.equal(all.body["@odata.count"], all.body.value.length);
    const seen: string[] = [];
    let next: string | undefined = `${api}/roles?$select=name`;
    let pages = 0;
    while (next) {
      const page = await dv(next, { headers: { Prefer: "odata.maxpagesize=5" } });
      assert.equal(page.status, 200);
      assert.equal(page.headers["preference-applied"], "odata.maxpagesize=5");
      assert.ok(page.body.value.length <= 5);
      seen.push(...page.body.value.map((r: Json) => r.roleid));
      next = page.body["@odata.nextLink"];
      pages++;
    }
    assert.equal(pages, Math.ceil(all.body.value.length / 5));
    assert.deepEqual(
      seen,
      all.body.value.map((r: Json) => r.roleid),
    );
    const skip = await dv("roles?$skip=5");
    assert.equal(skip.status, 400);
    assert.equal(skip.body.error.code, "0x80060888");
  });

  it("answers an unknown segment with 404 0x80060888, annotates errors on request, and 501s unemulated sets", async () => {
    const unknown = await dv("systemuser");
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body.error, {
      code: "0x80060888",
      message: "Resource not found for the segment 'systemuser'.",
    });
    const annotated = await dv("systemusers(00000000-0000-4000-8000-000000000000)", {
      headers: { Prefer: 'odata.include-annotations="*"' },
    });
    assert.ok(annotated.body.error["@Microsoft.PowerApps.CDS.HelpLink"]);
    assert.equal((await dv("accounts")).status, 501);
  });

  it("renders injected faults: 429 with Retry-After and 0x80072322, and 503", async () => {
    sb.sandbox.setFaults({ services: { dataverse: { rate429: 1, retryAfterSeconds: 7 } } });
    try {
      const r = await dv("WhoAmI");
      assert.equal(r.status, 429);
      assert.equal(r.headers["retry-after"], "7");
      assert.equal(r.body.error.code, "0x80072322");
    } finally {
      sb.sandbox.setFaults({ services: { dataverse: null } });
    }
    sb.sandbox.setFaults({ services: { dataverse: { rate503: 1 } } });
    try {
      const r = await dv("WhoAmI");
      assert.equal(r.status, 503);
      assert.ok(r.body.error);
    } finally {
      sb.sandbox.setFaults({ services: { dataverse: null } });
    }
    assert.equal((await dv("WhoAmI")).status, 200);
  });
});
