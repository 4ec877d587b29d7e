/**
 * The fno:User provider driven directly (no engine) against a real sandbox started for this suite:
 * create-or-adopt, idempotence, exact roles and legal entities, refresh from bulk reads, removal,
 * partial failures that resume, and the one-line error of an app F&O does not know; identities it
 * never manages, a rename, removal by provenance, writes that do not take effect, servicing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requestCounter } from "../../providers/core/http.ts";
import { captureWarnings, UNKNOWN } from "../../providers/core/provider.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { type FnoUserInputs, type FnoUserOutputs, provider } from "../../providers/fno/resources.ts";
import type { FnoEnvironmentState } from "../../sandbox/fno/state.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

const NO_PERMISSIONS_APP = {
  id: "11111111-2222-3333-4444-555555555555",
  secret: "sandbox-no-permissions-secret",
};

let sb: TestSandbox;
let environment: string;

function config(app?: { id: string; secret: string }) {
  return sandboxConfig(sb.sandbox.stateDir, app && { clientId: app.id, clientSecret: app.secret });
}

async function configure(app?: { id: string; secret: string }): Promise<void> {
  resetRuntime(); // a fresh run: empty caches, as a new engine process would have
  // The suite's keep-alive agent (closed with the sandbox) instead of the default transport, whose
  // idle sockets would keep the test process alive; the provider's own configure then reuses it.
  configureRuntime(config(app), {
    client: { httpClient: sb.httpClient },
    credential: sb.credential(app ? { clientId: app.id, clientSecret: app.secret } : "demo"),
  });
  await provider.configure({ config: config(app) } as never);
}

const fno = (): FnoEnvironmentState => {
  const state = sb.sandbox.state.fno[environment];
  assert.ok(state);
  return state;
};
const rolesOf = (userId: string): string[] =>
  fno()
    .userRoles.filter((r) => r.UserId.toLowerCase() === userId.toLowerCase())
    .map((r) => `${r.SecurityRoleIdentifier}:${r.AssignmentStatus}`)
    .sort();
const orgsOf = (userId: string): string[] =>
  fno()
    .userRoleOrganizations.filter((o) => o.UserId.toLowerCase() === userId.toLowerCase())
    .map((o) => `${o.SecurityRoleIdentifier}@${o.OrganizationId}`)
    .sort();
const userOf = (userId: string) => fno().users.find((u) => u.UserID.toLowerCase() === userId.toLowerCase());
const writes = (): number =>
  ["POST", "PATCH", "DELETE", "PUT"].reduce((n, m) => n + (requestCounter.byOperation[`${m} fno`] ?? 0), 0);

/** `create` through the provider, with the outputs the engine would record. */
async function create(inputs: FnoUserInputs): Promise<{ id: string; outs: FnoUserOutputs }> {
  const result = await provider.create(inputs);
  assert.ok(result.outs);
  return { id: result.id, outs: result.outs };
}

async function checked(news: Partial<FnoUserInputs>): Promise<FnoUserInputs> {
  const result = await provider.check({} as FnoUserInputs, news as FnoUserInputs);
  assert.deepEqual(result.failures, []);
  return result.inputs as FnoUserInputs;
}

before(async () => {
  sb = await startTestSandbox();
  const first = sb.endpoints.environments[0];
  assert.ok(first);
  environment = first.name;
  await configure();
});

after(async () => {
  resetRuntime();
  await sb?.close();
});

describe("fno:User against the sandbox", () => {
  const newUser = (): Partial<FnoUserInputs> => ({
    upn: "Chloe.Dubois@contoso.example",
    environment,
    userId: "chloe.dubois",
    userName: "Chloé Dubois",
    company: "usmf",
    roles: [
      { role: "Accountant", legalEntities: ["usmf", "DEMF"] },
      { role: "TRADESALESMANAGER", legalEntities: [] },
    ],
  });

  it("creates a new user with its fields, roles and legal entities; a second create is a no-op", async () => {
    const inputs = await checked(newUser());
    const created = await create(inputs);
    assert.equal(created.id, "chloe.dubois");
    assert.equal(created.outs.adopted, false);
    const user = userOf("chloe.dubois");
    assert.ok(user);
    assert.equal(user.Alias, "Chloe.Dubois@contoso.example");
    assert.equal(user.Enabled, true);
    assert.equal(user.NetworkDomain, "https://sts.windows.net/");
    assert.equal(user.AccountType, "ClaimsUser");
    assert.equal(user.Company, "USMF");
    assert.equal(user.UserInfo_language, "en-us");
    assert.deepEqual(rolesOf("chloe.dubois"), [
      "LEDGERACCOUNTANT:Enabled",
      "SYSTEMUSER:Enabled",
      "TRADESALESMANAGER:Enabled",
    ]);
    assert.deepEqual(orgsOf("chloe.dubois"), ["LEDGERACCOUNTANT@DEMF", "LEDGERACCOUNTANT@USMF"]);
    assert.deepEqual(created.outs.managedRoles, [
      { role: "LEDGERACCOUNTANT", legalEntities: ["DEMF", "USMF"] },
      { role: "TRADESALESMANAGER", legalEntities: [] },
    ]);
    assert.ok(JSON.stringify(created.outs).length < 1024, "state per resource stays under 1 KB");

    requestCounter.reset();
    const again = await provider.create(await checked({ ...newUser(), upn: "chloe.dubois@CONTOSO.example" }));
    assert.equal(again.id, "chloe.dubois");
    assert.equal(writes(), 0, "the second create writes nothing");
    assert.equal(
      fno().users.filter((u) => u.Alias.toLowerCase() === "chloe.dubois@contoso.example").length,
      1,
    );
  });

  it("diff reports nothing for the same declaration and a change for new access", async () => {
    const inputs = await checked(newUser());
    const outs = { ...inputs, adopted: false, managedRoles: [] } as FnoUserOutputs;
    assert.equal((await provider.diff("chloe.dubois", outs, inputs)).changes, false);
    const changed = await checked({ ...newUser(), enabled: false });
    assert.equal((await provider.diff("chloe.dubois", outs, changed)).changes, true);
    // A new UPN is a rename of the same person: an update, never a replacement.
    const renamed = await checked({ ...newUser(), upn: "chloe.martin-dubois@contoso.example" });
    const diff = await provider.diff("chloe.dubois", outs, renamed);
    assert.deepEqual([diff.changes, diff.replaces], [true, []]);
  });

  it("adopts an existing user by Alias, keeps its UserID and sets exactly the declared roles", async () => {
    const adminRoles = rolesOf("Admin");
    const inputs = await checked({
      upn: "ADELE.VANCE@contoso.example",
      environment,
      userId: "avance",
      userName: "Adele Vance",
      company: "USMF",
      roles: [{ role: "accounting manager", legalEntities: ["USMF"] }],
    });
    const adopted = await create(inputs);
    assert.equal(adopted.id, "adele.vance");
    assert.equal(adopted.outs.adopted, true);
    assert.equal(userOf("avance"), undefined, "no second user was created");
    // HCMEMPLOYEE is the lived-in USMF rule's row: not ours, so it stays.
    assert.deepEqual(rolesOf("adele.vance"), [
      "HCMEMPLOYEE:Enabled",
      "LEDGERACCOUNTINGMANAGER:Enabled",
      "SYSTEMUSER:Enabled",
    ]);
    assert.equal(
      fno().userRoles.find((r) => r.UserId === "adele.vance" && r.SecurityRoleIdentifier === "HCMEMPLOYEE")
        ?.AssignmentMode,
      "Automatic",
    );
    assert.deepEqual(orgsOf("adele.vance"), ["LEDGERACCOUNTINGMANAGER@USMF"]);
    assert.deepEqual(rolesOf("Admin"), adminRoles, "users we do not own are untouched");
  });

  it("refuses a preconfigured account in check (preview) and in create, writing nothing", async () => {
    requestCounter.reset();
    const news = {
      upn: "admin@contoso.example",
      environment,
      userId: "admin2",
      userName: "Admin",
      company: "USMF",
      roles: [],
    } as unknown as FnoUserInputs;
    const result = await provider.check({} as FnoUserInputs, news);
    assert.equal(result.failures?.length, 1);
    assert.equal(result.failures?.[0]?.property, "upn");
    assert.match(
      result.failures?.[0]?.reason ?? "",
      /F&O user Admin is one of Microsoft's preconfigured accounts/,
    );
    await assert.rejects(
      provider.create(result.inputs as FnoUserInputs),
      /Admin is one of Microsoft's preconfigured accounts/,
    );
    assert.equal(writes(), 0);
  });

  it("refuses the F&O user its own app acts as (SysAADClients), in check and on removal", async () => {
    fno().users.push({
      ...(userOf("bruno.keller") as NonNullable<ReturnType<typeof userOf>>),
      RecId: 11,
      UserID: "svc-app",
      Alias: "svc-app@contoso.example",
    });
    fno().userRoles.push({
      RecId: 16,
      RecVersion: 1,
      UserId: "svc-app",
      SecurityRoleIdentifier: "-SYSADMIN-",
      AssignmentStatus: "Enabled",
      AssignmentMode: "Manual",
    });
    const client = fno().aadClients.find((c) => c.AADClientId === sb.endpoints.clientId);
    assert.ok(client);
    const previous = client.UserId;
    client.UserId = "svc-app";
    await configure();
    try {
      requestCounter.reset();
      const result = await provider.check(
        {} as FnoUserInputs,
        {
          upn: "SVC-APP@contoso.example",
          environment,
          userId: "svc-app",
          userName: "Service",
          company: "USMF",
          roles: [],
        } as unknown as FnoUserInputs,
      );
      assert.match(
        result.failures?.[0]?.reason ?? "",
        /svc-app is the user d365-access's own app acts as .*lock d365-access out/,
      );
      const props = { ...(result.inputs as FnoUserInputs), adopted: true, managedRoles: [] };
      await assert.rejects(provider.delete("svc-app", props), /own app acts as/);
      assert.equal(writes(), 0);
    } finally {
      client.UserId = previous;
      fno().users = fno().users.filter((u) => u.UserID !== "svc-app");
      fno().userRoles = fno().userRoles.filter((r) => r.UserId !== "svc-app");
      await configure();
    }
  });

  it("a rename keeps the same F&O user: UserID and roles unchanged, Alias and Email follow the new UPN", async () => {
    const inputs = await checked({
      upn: "rosa.diaz@contoso.example",
      environment,
      userId: "rosa.diaz",
      userName: "Rosa Diaz",
      company: "USMF",
      roles: [{ role: "Budget clerk", legalEntities: ["USMF"] }],
    });
    const first = await create(inputs);
    const renamed = await checked({
      ...inputs,
      upn: "rosa.diaz-peralta@contoso.example",
      userId: "rosa.diaz-peralt",
    });
    requestCounter.reset();
    const outs = await provider.update(first.id, first.outs, renamed);
    assert.equal(outs.outs?.upn, "rosa.diaz-peralta@contoso.example");
    assert.equal(requestCounter.byOperation["PATCH fno"], 1, "one PATCH of the user, nothing else written");
    assert.equal(writes(), 1);
    const user = userOf("rosa.diaz");
    assert.ok(user);
    assert.deepEqual(
      [user.Alias, user.Email],
      ["rosa.diaz-peralta@contoso.example", "rosa.diaz-peralta@contoso.example"],
    );
    assert.deepEqual(rolesOf("rosa.diaz"), ["BUDGETBUDGETCLERK:Enabled", "SYSTEMUSER:Enabled"]);
    assert.deepEqual(orgsOf("rosa.diaz"), ["BUDGETBUDGETCLERK@USMF"]);
    assert.equal(userOf("rosa.diaz-peralt"), undefined, "no second user");
  });

  it("check rejects unknown roles and bad legal entities before any write", async () => {
    const result = await provider.check(
      {} as FnoUserInputs,
      {
        ...newUser(),
        roles: [{ role: "Accounts payable clerck", legalEntities: ["TOO-LONG"] }],
      } as FnoUserInputs,
    );
    assert.deepEqual(
      (result.failures ?? []).map((f) => f.property),
      ["roles[0].legalEntities[0]"],
    );
    const unknown = await provider.check(
      {} as FnoUserInputs,
      {
        ...newUser(),
        roles: [{ role: "Accounts payable clerck", legalEntities: [] }],
      } as FnoUserInputs,
    );
    assert.match(unknown.failures?.[0]?.reason ?? "", /"Accounts payable clerck" is unknown/);
    // A user to be created in the same preview: its object id is still unknown, its roles are not.
    const newcomer = await provider.check(
      {} as FnoUserInputs,
      {
        ...newUser(),
        objectId: UNKNOWN,
        roles: [{ role: "Accounts payable clerck", legalEntities: [] }],
      } as FnoUserInputs,
    );
    assert.match(newcomer.failures?.[0]?.reason ?? "", /"Accounts payable clerck" is unknown/);
  });

  it("refresh reads every user from bulk pages (not per user) and shows drift", async () => {
    await configure(); // a new run: nothing cached, nothing written in this process
    fno().userRoles.push({
      RecId: 1,
      RecVersion: 1,
      UserId: "diego.ramos",
      SecurityRoleIdentifier: "BUDGETBUDGETCLERK",
      AssignmentStatus: "Enabled",
      AssignmentMode: "Manual",
    });
    const props = (userId: string, upn: string): FnoUserOutputs => ({
      upn,
      environment,
      userId,
      userName: "x",
      company: "USMF",
      enabled: true,
      roles: [{ role: "Accountant", legalEntities: [] }],
      adopted: true,
      managedRoles: [{ role: "LEDGERACCOUNTANT", legalEntities: [] }],
    });
    requestCounter.reset();
    const [diego, bruno, gone] = await Promise.all([
      provider.read("diego.ramos", props("diego.ramos", "diego.ramos@contoso.example")),
      provider.read("bruno.keller", props("bruno.keller", "bruno.keller@contoso.example")),
      provider.read("nobody", props("nobody", "nobody@contoso.example")),
    ]);
    assert.equal(requestCounter.of("fno"), 4, "roles catalog + users + user roles + organizations");
    assert.deepEqual(diego.props?.roles, [
      { role: "Accountant", legalEntities: [] },
      { role: "BUDGETBUDGETCLERK", legalEntities: [] },
    ]);
    assert.equal(diego.props?.userName, "Diego Ramos");
    assert.deepEqual(bruno.props?.roles, [{ role: "WHSWAREHOUSEWORKER", legalEntities: ["DEMF"] }]);
    assert.deepEqual(bruno.props?.managedRoles, [], "a role we never granted is not ours to revoke");
    assert.equal(gone.id, "", "a user gone from F&O is dropped by refresh");
    const declared = await checked({
      ...props("diego.ramos", "diego.ramos@contoso.example"),
      userName: "Diego Ramos",
    });
    assert.equal((await provider.diff("diego.ramos", diego.props as FnoUserOutputs, declared)).changes, true);
  });

  it("update converges roles, legal entities and enabled; removal revokes and disables", async () => {
    const before = await create(await checked(newUser()));
    const news = await checked({
      ...newUser(),
      roles: [
        { role: "LEDGERACCOUNTANT", legalEntities: ["GBSI", "USMF"] },
        { role: "Budget clerk", legalEntities: [] },
      ],
    });
    const updated = await provider.update("chloe.dubois", { ...before.outs, adopted: false }, news);
    assert.deepEqual(rolesOf("chloe.dubois"), [
      "BUDGETBUDGETCLERK:Enabled",
      "LEDGERACCOUNTANT:Enabled",
      "SYSTEMUSER:Enabled",
    ]);
    assert.deepEqual(orgsOf("chloe.dubois"), ["LEDGERACCOUNTANT@GBSI", "LEDGERACCOUNTANT@USMF"]);
    assert.equal(updated.outs?.adopted, false, "adopted keeps its first value");

    await provider.delete("chloe.dubois", updated.outs as FnoUserOutputs);
    const user = userOf("chloe.dubois");
    assert.ok(user, "removal never deletes by default");
    assert.equal(user.Enabled, false);
    assert.deepEqual(rolesOf("chloe.dubois"), ["SYSTEMUSER:Enabled"]);
    assert.deepEqual(orgsOf("chloe.dubois"), []);
    // Deleting again is a no-op (idempotent).
    requestCounter.reset();
    await provider.delete("chloe.dubois", updated.outs as FnoUserOutputs);
    assert.equal(writes(), 0);
  });

  it("removal follows provenance: an adopted user is disabled, never deleted; a created one is deleted, or left disabled when F&O refuses", async () => {
    const person = (upn: string, userId: string) =>
      checked({
        upn,
        environment,
        userId,
        userName: userId,
        company: "USMF",
        roles: [{ role: "Budget clerk", legalEntities: [] }],
      });
    // Adopted (in F&O before us, with a role of its own), onRemove: delete: revoked and disabled, still there.
    const seeded = userOf("bruno.keller") as NonNullable<ReturnType<typeof userOf>>;
    fno().users.push({ ...seeded, RecId: 12, UserID: "gwen.lee", Alias: "gwen.lee@contoso.example" });
    const row = (RecId: number, UserId: string, SecurityRoleIdentifier: string) => ({
      RecId,
      RecVersion: 1,
      UserId,
      SecurityRoleIdentifier,
      AssignmentStatus: "Enabled",
      AssignmentMode: "Manual",
    });
    fno().userRoles.push(row(13, "gwen.lee", "SYSTEMUSER"), row(14, "gwen.lee", "TRADESALESMANAGER"));
    const gwen = await create({
      ...(await person("gwen.lee@contoso.example", "gwen.lee")),
      onRemove: "delete",
    });
    assert.equal(gwen.outs.adopted, true);
    // Granted later by hand (an export would declare it too): removal revokes it, whoever granted it.
    fno().userRoles.push(row(15, "gwen.lee", "HCMEMPLOYEE"));
    await provider.delete(gwen.id, gwen.outs);
    assert.equal(userOf("gwen.lee")?.Enabled, false);
    assert.deepEqual(rolesOf("gwen.lee"), ["SYSTEMUSER:Enabled"], "its whole owned scope revoked");
    // Created by us, onRemove: delete: gone.
    const made = await create({
      ...(await person("nina.ross@contoso.example", "nina.ross")),
      onRemove: "delete",
    });
    assert.equal(made.outs.adopted, false);
    await provider.delete(made.id, made.outs);
    assert.equal(userOf("nina.ross"), undefined);
    // Created by us, but posted transactions reference it: F&O refuses, it stays disabled, a warning says why.
    const kept = await create({
      ...(await person("omar.haddad@contoso.example", "omar.haddad")),
      onRemove: "delete",
    });
    fno().userReferences = [{ UserId: "omar.haddad", Table: "VendInvoiceJour" }];
    const warnings = captureWarnings();
    try {
      await provider.delete(kept.id, kept.outs);
    } finally {
      warnings.restore();
      fno().userReferences = [];
    }
    assert.equal(userOf("omar.haddad")?.Enabled, false);
    assert.deepEqual(rolesOf("omar.haddad"), ["SYSTEMUSER:Enabled"]);
    assert.equal(warnings.lines.length, 1);
    assert.match(
      warnings.lines[0] ?? "",
      /^warning: fno:User omar\.haddad@contoso\.example in environment "contoso-demo": F&O refused to delete user omar\.haddad \(.*VendInvoiceJour.*\); it stays disabled/,
    );
  });

  it("a role write F&O answers but does not carry out fails naming the entity", async () => {
    fno().ineffectiveWrites = [{ set: "SecurityUserRoles", methods: ["POST", "PATCH", "DELETE"] }];
    try {
      const inputs = await checked({
        upn: "paul.ng@contoso.example",
        environment,
        userId: "paul.ng",
        userName: "Paul Ng",
        company: "USMF",
        roles: [{ role: "Budget clerk", legalEntities: [] }],
      });
      const error = await provider.create(inputs).then(
        () => assert.fail("the grant did not take effect"),
        (e: { id?: string; message: string }) => e,
      );
      assert.equal(error.id, "paul.ng", "the user exists: a partial failure");
      assert.match(
        error.message,
        /accepted POST SecurityUserRoles\(UserId='paul\.ng',SecurityRoleIdentifier='BUDGETBUDGETCLERK'\) but the row is absent: the write did not take effect/,
      );
    } finally {
      delete fno().ineffectiveWrites;
    }
  });

  it("a refresh during servicing (404 without an OData error) fails instead of forgetting the user", async () => {
    await configure();
    sb.sandbox.setFaults({ servicing: [{ service: "fno", status: 404 }] });
    try {
      const props = {
        upn: "adele.vance@contoso.example",
        environment,
        userId: "adele.vance",
        userName: "Adele Vance",
        company: "USMF",
        enabled: true,
        roles: [],
        adopted: true,
        managedRoles: [],
      } as FnoUserOutputs;
      await assert.rejects(provider.read("adele.vance", props), /fno 404 .*being serviced or recycled/);
    } finally {
      sb.sandbox.setFaults({ servicing: [] });
    }
  });

  it("reports a partial failure with the UserID, and a re-run resumes", async () => {
    const inputs = await checked({
      upn: "eva.lind@contoso.example",
      environment,
      userId: "eva.lind",
      userName: "Eva Lind",
      company: "USMF",
      roles: [{ role: "Accountant", legalEntities: ["USMF", "ZZZ"] }],
    });
    const error = await provider.create(inputs).then(
      () => assert.fail("create should fail on the unknown legal entity"),
      (e: { id?: string; properties?: FnoUserOutputs; message: string }) => e,
    );
    assert.equal(error.id, "eva.lind");
    assert.match(error.message, /ZZZ/);
    assert.ok(error.properties);
    assert.ok(userOf("eva.lind"), "the user was created before the failure");
    // The role was assigned disabled and stays so until every restriction is in place: the
    // recorded state (what F&O holds) lacks it, so the next up calls update, which resumes
    // with what is left (enable the role) instead of redoing what succeeded.
    assert.deepEqual(rolesOf("eva.lind"), ["LEDGERACCOUNTANT:Disabled", "SYSTEMUSER:Enabled"]);
    assert.deepEqual(error.properties.roles, []);
    const fixed = await checked({ ...inputs, roles: [{ role: "Accountant", legalEntities: ["USMF"] }] });
    assert.equal((await provider.diff("eva.lind", error.properties, fixed)).changes, true);
    requestCounter.reset();
    await provider.update("eva.lind", error.properties, fixed);
    assert.deepEqual(requestCounter.byOperation["PATCH fno"], 1);
    assert.equal(writes(), 1, "only the enable is left to do");
    assert.deepEqual(rolesOf("eva.lind"), ["LEDGERACCOUNTANT:Enabled", "SYSTEMUSER:Enabled"]);
    assert.deepEqual(orgsOf("eva.lind"), ["LEDGERACCOUNTANT@USMF"]);
  });

  it("an app whose F&O user lacks the security role yields one actionable line", async () => {
    // Register the no-permissions app as Bruno, who is no administrator.
    fno().aadClients.push({
      RecId: 2,
      RecVersion: 1,
      AADClientId: NO_PERMISSIONS_APP.id,
      Name: "t",
      UserId: "bruno.keller",
    });
    await configure(NO_PERMISSIONS_APP);
    try {
      const error = await provider.create(await checked(newUser())).then(
        () => assert.fail("a user without the role must be refused"),
        (e: Error) => e,
      );
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /fno 403/);
      assert.match(error.message, /Security administrator/);
    } finally {
      fno().aadClients = fno().aadClients.filter((c) => c.AADClientId !== NO_PERMISSIONS_APP.id);
      await configure();
    }
  });

  it("an app not registered in F&O yields one actionable line", async () => {
    await configure(NO_PERMISSIONS_APP);
    try {
      const inputs = await checked(newUser());
      const error = await provider.create(inputs).then(
        () => assert.fail("an unregistered app must be refused"),
        (e: Error) => e,
      );
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /fno 401/);
      assert.match(error.message, /Microsoft Entra applications/);
      assert.match(error.message, new RegExp(NO_PERMISSIONS_APP.id));
      assert.doesNotMatch(error.message, new RegExp(NO_PERMISSIONS_APP.secret));
    } finally {
      await configure();
    }
  });
});
