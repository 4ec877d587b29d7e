/**
 * The Dataverse provider driven directly (no engine) against one sandbox for the whole file:
 * create-or-adopt, exact roles, business unit, refresh from bulk reads, removal of the whole owned
 * scope, disabled users (re-synced, or left with pending grants), team roles and roles the app
 * may not assign (reported, never changed), partial failures and a missing permission.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { requestCounter } from "../../providers/core/http.ts";
import { captureWarnings, UNKNOWN } from "../../providers/core/provider.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { presenceWait } from "../../providers/dataverse/apply.ts";
import {
  type DataverseUserInputs,
  type DataverseUserOutputs,
  provider,
} from "../../providers/dataverse/resources.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

const ENV = "contoso-demo";
const NO_PERMISSIONS = {
  clientId: "11111111-2222-3333-4444-555555555555",
  secret: "sandbox-no-permissions-secret",
};
const SHIM = "shim-source-placeholder";

let sb: TestSandbox;

/**
 * A new engine run: fresh runtime (clients, caches), counters at zero. Transport and credential
 * go through the test sandbox's agent, which `close()` destroys, so no keep-alive socket
 * outlives the suite.
 */
async function newRun(app?: { clientId: string; secret: string }): Promise<void> {
  const source = sandboxConfig(
    sb.sandbox.stateDir,
    app && { clientId: app.clientId, clientSecret: app.secret },
  );
  resetRuntime();
  await provider.configure({ config: source });
  configureRuntime(
    source,
    {
      credential: sb.credential(app ? { clientId: app.clientId, clientSecret: app.secret } : "demo"),
      client: { httpClient: sb.httpClient },
    },
    {},
  );
  requestCounter.reset();
}

function dv() {
  const env = sb.sandbox.state.dataverse[ENV];
  assert.ok(env);
  return env;
}

function entraUser(alias: string) {
  const u = sb.sandbox.state.entra.users.find((x) => x.userPrincipalName.startsWith(`${alias}@`));
  assert.ok(u, alias);
  return u;
}

/** The direct role names of a user, read from the sandbox's state (not through our client). */
function directRoles(objectId: string): string[] {
  const env = dv();
  const row = env.systemUsers.find((u) => u.azureactivedirectoryobjectid === objectId);
  assert.ok(row, `no Dataverse row for ${objectId}`);
  return row.roleids.map((id) => env.roles.find((r) => r.roleid === id)?.name ?? id).sort();
}

function unitOf(objectId: string): string {
  const env = dv();
  const row = env.systemUsers.find((u) => u.azureactivedirectoryobjectid === objectId);
  return env.businessUnits.find((b) => b.businessunitid === row?.businessunitid)?.name ?? "?";
}

function license(alias: string): void {
  const sku = sb.sandbox.state.entra.skus.find((s) => s.skuPartNumber === "DYN365_FINANCE");
  assert.ok(sku);
  entraUser(alias).assignedLicenses = [{ skuId: sku.skuId, disabledPlans: [] }];
  sb.sandbox.store.changed();
}

function inputs(alias: string, roles: string[], businessUnit?: string): DataverseUserInputs {
  const u = entraUser(alias);
  return {
    upn: u.userPrincipalName,
    objectId: u.id,
    environment: ENV,
    roles,
    ...(businessUnit ? { businessUnit } : {}),
    __provider: SHIM,
  } as DataverseUserInputs;
}

/** Disables a user in Entra and in Dataverse (as the sync would, later). */
function disable(alias: string) {
  const u = entraUser(alias);
  const row = dv().systemUsers.find((x) => x.azureactivedirectoryobjectid === u.id);
  assert.ok(row);
  u.accountEnabled = false;
  row.isdisabled = true;
  sb.sandbox.store.changed();
  return { u, row };
}

function writes(): string[] {
  return Object.keys(requestCounter.snapshot().byOperation).filter((k) => !k.startsWith("GET"));
}

before(async () => {
  // A one-hour background sync: only our own actions (JIT, addUser) bring new users in quickly.
  sb = await startTestSandbox({ faults: { syncDelaySeconds: 3600 } });
  presenceWait.timeoutMs = 3000;
  presenceWait.attempts = 8;
  presenceWait.initialDelayMs = 50;
  presenceWait.maxDelayMs = 400;
  // The first Dataverse request runs the environment's initial sync (every eligible user at once);
  // users licensed after it wait for the one-hour background sync.
  await newRun();
  await provider.check({} as DataverseUserInputs, inputs("adele.vance", ["Basic User"]));
});
after(async () => {
  resetRuntime();
  await sb?.close();
});
beforeEach(() => newRun());

describe("dataverse:User provider", () => {
  let eva: DataverseUserOutputs;

  it("onboards a user just in time with exactly the declared roles", async () => {
    license("eva.nowak");
    const res = await provider.create(inputs("eva.nowak", ["Basic User", "contoso finance reader"]));
    eva = res.outs as DataverseUserOutputs;
    const oid = entraUser("eva.nowak").id;
    // The F&O auto-provisioned roles are undeclared direct roles, so exactness revokes them.
    assert.deepEqual(directRoles(oid), ["Basic User", "Contoso Finance Reader"]);
    assert.equal(res.id, eva.systemUserId);
    assert.equal(eva.adopted, false);
    assert.deepEqual(eva.managedRoles, ["Basic User", "Contoso Finance Reader"]);
    assert.equal(requestCounter.of("powerplatform"), 0, "the JIT path needs no addUser");
    assert.ok(!("__provider" in eva));
  });

  it("a second create with the same inputs is a no-op (reads only)", async () => {
    const res = await provider.create(inputs("eva.nowak", ["basic user", "Contoso Finance Reader"]));
    assert.deepEqual(writes(), []);
    assert.equal(res.id, eva.systemUserId);
    assert.deepEqual(directRoles(entraUser("eva.nowak").id), ["Basic User", "Contoso Finance Reader"]);
    // diff against the stored outputs agrees: nothing to do.
    const d = await provider.diff(
      res.id,
      { ...eva, __provider: SHIM } as DataverseUserOutputs,
      inputs("eva.nowak", ["Contoso Finance Reader", "BASIC USER"]),
    );
    assert.equal(d.changes, false);
  });

  let adele: DataverseUserOutputs;
  it("adopts a synced user: declared roles it already had stay unmanaged", async () => {
    const oid = entraUser("adele.vance").id;
    assert.deepEqual(directRoles(oid), ["Environment Maker", "Finance and Operations Basic User"]);
    const res = await provider.create(inputs("adele.vance", ["Environment Maker", "Basic User"]));
    adele = res.outs as DataverseUserOutputs;
    assert.equal(adele.adopted, true);
    assert.deepEqual(directRoles(oid), ["Basic User", "Environment Maker"]);
    assert.deepEqual(adele.managedRoles, ["Basic User"]);
  });

  it("refresh serves every user from one bulk request and reports drift", async () => {
    // As Dataverse answers (the sandbox's default): a paging-free nextLink beside every complete
    // expanded role list, which is not truncation (no per-user re-read).
    const [a, e] = await Promise.all([
      provider.read(adele.systemUserId, { ...adele, __provider: SHIM } as DataverseUserOutputs),
      provider.read(eva.systemUserId, { ...eva, __provider: SHIM } as DataverseUserOutputs),
    ]);
    assert.equal(requestCounter.total, 1, JSON.stringify(requestCounter.snapshot()));
    assert.deepEqual(a.props, adele);
    assert.deepEqual(e.props, eva);

    // Someone grants System Administrator by hand: refresh shows it and diff wants it gone.
    const env = dv();
    const admin = env.roles.find(
      (r) => r.name === "System Administrator" && r.businessunitid === env.businessUnits[0]?.businessunitid,
    );
    const row = env.systemUsers.find((u) => u.systemuserid === eva.systemUserId);
    assert.ok(admin && row);
    row.roleids.push(admin.roleid);
    sb.sandbox.store.changed();
    await newRun();
    const drifted = await provider.read(eva.systemUserId, {
      ...eva,
      __provider: SHIM,
    } as DataverseUserOutputs);
    assert.ok(drifted.props?.roles.includes("System Administrator"));
    const d = await provider.diff(
      eva.systemUserId,
      drifted.props as DataverseUserOutputs,
      inputs("eva.nowak", eva.roles),
    );
    assert.equal(d.changes, true);
    await newRun();
    await provider.update(
      eva.systemUserId,
      drifted.props as DataverseUserOutputs,
      inputs("eva.nowak", eva.roles),
    );
    assert.deepEqual(directRoles(entraUser("eva.nowak").id), ["Basic User", "Contoso Finance Reader"]);
  });

  it("moves the business unit and grants the roles of the new unit", async () => {
    const res = await provider.update(
      adele.systemUserId,
      adele,
      inputs("adele.vance", ["Environment Maker", "Basic User"], "contoso europe"),
    );
    const outs = res.outs as DataverseUserOutputs;
    const oid = entraUser("adele.vance").id;
    assert.equal(unitOf(oid), "Contoso Europe");
    assert.deepEqual(directRoles(oid), ["Basic User", "Environment Maker"]);
    // Dataverse stripped the old unit's roles; both roles in the new unit are ours now.
    assert.deepEqual(outs.managedRoles, ["Basic User", "Environment Maker"]);
    assert.notEqual(outs.businessUnitId, adele.businessUnitId);
    adele = outs;
  });

  it("removal revokes the whole owned scope, whoever granted it, and never disables or deletes the user", async () => {
    const oid = entraUser("adele.vance").id;
    const env = dv();
    const row = env.systemUsers.find((u) => u.azureactivedirectoryobjectid === oid);
    const europe = env.businessUnits.find((b) => b.name === "Contoso Europe");
    const delegate = env.roles.find(
      (r) => r.name === "Delegate" && r.businessunitid === europe?.businessunitid,
    );
    assert.ok(row && delegate);
    row.roleids.push(delegate.roleid); // granted by someone else, after our last apply
    sb.sandbox.store.changed();
    await provider.delete(adele.systemUserId, { ...adele, managedRoles: ["Basic User"] });
    assert.deepEqual(directRoles(oid), []);
    assert.equal(row.isdisabled, false);
    assert.equal(row.deletedstate, 0);
  });

  it("rejects unknown and ambiguous names in check, naming the candidates, before any write", async () => {
    const res = await provider.check(
      {} as DataverseUserInputs,
      inputs("eva.nowak", ["Basic Usr", "Contoso Finance Reader"]),
    );
    assert.equal(res.failures?.length, 1);
    assert.equal(res.failures?.[0]?.property, "roles");
    assert.match(
      res.failures?.[0]?.reason ?? "",
      /contoso-demo.*business unit "contoso-demo".*"Basic Usr" does not exist.*"Basic User"/,
    );
    // A user to be created in the same preview: its object id is still unknown, its roles are not.
    const newUser = await provider.check({} as DataverseUserInputs, {
      ...inputs("eva.nowak", ["Basic Usr"]),
      objectId: UNKNOWN,
    });
    assert.equal(newUser.failures?.[0]?.property, "roles");
    assert.deepEqual(writes(), []);
  });

  it("reports a half-done update with the user id and the state reached, and a re-run resumes", async () => {
    // Disabled in Entra and in Dataverse while users.yaml keeps her enabled: the re-sync is refused.
    const { u, row } = disable("eva.nowak");
    const held = directRoles(u.id);
    const wanted = inputs("eva.nowak", ["Basic User", "Delegate"]);
    await assert.rejects(provider.update(eva.systemUserId, eva, wanted), (e: unknown) => {
      assert.ok(e instanceof Error && "id" in e && "properties" in e);
      assert.equal(e.id, eva.systemUserId);
      assert.match(
        e.message,
        /addUser: .* is disabled in Microsoft Entra ID.*stopped at re-sync the disabled user/,
      );
      const reached = e.properties as unknown as DataverseUserOutputs & { __provider: string };
      assert.deepEqual(reached.roles, held, "nothing changed before the user was enabled");
      assert.equal(reached.__provider, SHIM);
      assert.doesNotMatch(e.message, /\n/);
      eva = reached;
      return true;
    });
    assert.deepEqual(directRoles(u.id), held);
    // Entra enables her again: the re-sync enables the Dataverse user, then the roles converge.
    u.accountEnabled = true;
    sb.sandbox.store.changed();
    sb.sandbox.setFaults({ syncDelaySeconds: 0 });
    try {
      await newRun();
      assert.equal((await provider.diff(eva.systemUserId, eva, wanted)).changes, true);
      const res = await provider.update(eva.systemUserId, eva, wanted);
      assert.equal(row.isdisabled, false);
      assert.deepEqual(directRoles(u.id), ["Basic User", "Delegate"]);
      assert.ok((res.outs as DataverseUserOutputs).managedRoles.includes("Delegate"));
      eva = res.outs as DataverseUserOutputs;
    } finally {
      sb.sandbox.setFaults({ syncDelaySeconds: 3600 });
    }
  });

  it("a user users.yaml keeps disabled: undeclared roles revoked, grants pending with a line, no failure", async () => {
    const { u, row } = disable("eva.nowak");
    try {
      const wanted = { ...inputs("eva.nowak", ["Basic User", "Environment Maker"]), enabled: false };
      const warnings = captureWarnings();
      let outs: DataverseUserOutputs;
      try {
        outs = (await provider.update(eva.systemUserId, eva, wanted)).outs as DataverseUserOutputs;
      } finally {
        warnings.restore();
      }
      assert.deepEqual(directRoles(u.id), ["Basic User"], "Delegate revoked; Environment Maker waits");
      assert.deepEqual(outs.pendingRoles, ["Environment Maker"]);
      assert.deepEqual(outs.roles, wanted.roles, "recorded as declared: the next preview shows no change");
      assert.equal((await provider.diff(outs.systemUserId, outs, wanted)).changes, false);
      assert.match(
        warnings.lines.join("\n"),
        /is disabled and users\.yaml keeps it so: "Environment Maker" will be granted once it is enabled/,
      );
      // A refresh agrees: the pending grant is no drift while she stays disabled.
      await newRun();
      const read = await provider.read(outs.systemUserId, outs);
      assert.deepEqual(read.props?.roles, wanted.roles);
      eva = outs;
    } finally {
      u.accountEnabled = true;
      row.isdisabled = false;
      sb.sandbox.store.changed();
    }
  });

  it("reports roles held through teams and roles the app may not assign, and changes neither", async () => {
    const env = dv();
    const u = entraUser("eva.nowak");
    const row = env.systemUsers.find((x) => x.azureactivedirectoryobjectid === u.id);
    const app = env.systemUsers.find((x) => x.applicationid === sb.endpoints.clientId);
    const root = env.businessUnits.find((b) => b.parentbusinessunitid === null);
    const named = (name: string) =>
      env.roles.find((r) => r.name === name && r.businessunitid === root?.businessunitid);
    const admin = named("System Administrator");
    const userAdmin = named("Contoso User Administrator");
    const reader = named("Contoso Finance Reader");
    assert.ok(row && app && admin && userAdmin && reader);
    row.roleids = [admin.roleid, (named("Basic User") as { roleid: string }).roleid];
    env.teams = [
      {
        teamid: "7d7d7d7d-0000-4000-8000-000000000001",
        name: "Approvers",
        teamtype: 2,
        membershiptype: 0,
        azureactivedirectoryobjectid: "7d7d7d7d-0000-4000-8000-000000000002",
        businessunitid: root?.businessunitid as string,
        isdefault: false,
        administratorid: app.systemuserid,
        roleids: [reader.roleid],
        memberids: [row.systemuserid],
        versionnumber: 1,
        createdon: "2026-01-01T00:00:00Z",
        modifiedon: "2026-01-01T00:00:00Z",
      },
    ];
    const appRoles = app.roleids;
    app.roleids = [userAdmin.roleid]; // the app may assign roles, but is no System Administrator
    sb.sandbox.store.changed();
    const warnings = captureWarnings();
    try {
      await newRun();
      const wanted = inputs("eva.nowak", ["Basic User", "System Customizer"]);
      const checked = await provider.check({} as DataverseUserInputs, wanted);
      assert.deepEqual(checked.failures, []);
      const res = await provider.update(eva.systemUserId, eva, wanted);
      assert.deepEqual(
        directRoles(u.id),
        ["Basic User", "System Administrator"],
        "neither granted nor revoked",
      );
      const lines = warnings.lines.join("\n");
      assert.match(
        lines,
        /eva\.nowak@\S+ in environment "contoso-demo": declares role "System Customizer", which d365-access will not grant/,
      );
      assert.match(
        lines,
        /holds role "System Administrator", left as it is: only a System Administrator may assign or revoke it/,
      );
      assert.match(lines, /also holds "Contoso Finance Reader" \(team "Approvers"\) through teams/);
      eva = res.outs as DataverseUserOutputs;
    } finally {
      warnings.restore();
      app.roleids = appRoles;
      env.teams = [];
      row.roleids = row.roleids.filter((id) => id !== admin.roleid);
      sb.sandbox.store.changed();
    }
  });

  it("without declared roles, asks the admin API to sync the user and polls until it appears", async () => {
    // Long enough that the background sync of the new license cannot bring the user in before
    // create's first look-up, even on a loaded machine (then there is nothing to ask for).
    sb.sandbox.setFaults({ syncDelaySeconds: 2 });
    // The suite's wait (3 s or 8 checks, about 2.4 s of pauses) barely covers a 2 s sync on a
    // loaded machine: this test waits as long as it needs to (it ends when the row appears).
    const { attempts, timeoutMs } = presenceWait;
    presenceWait.attempts = 40;
    presenceWait.timeoutMs = 15_000;
    try {
      license("chloe.martin");
      const since = new Date().toISOString();
      const res = await provider.create(inputs("chloe.martin", []));
      // One accepted addUser, however many polls (a userNotLicensed answer while the new license
      // propagates, which a loaded machine can meet, is asked again by design).
      const accepted = sb.sandbox.journal
        .entries({ service: "powerplatform", since })
        .filter((e) => e.method === "POST" && e.status < 300);
      assert.equal(accepted.length, 1, JSON.stringify(accepted));
      assert.equal((res.outs as DataverseUserOutputs).adopted, false);
      // No role declared: the F&O auto-provisioned roles are undeclared direct roles, so revoked.
      assert.deepEqual(directRoles(entraUser("chloe.martin").id), []);
    } finally {
      Object.assign(presenceWait, { attempts, timeoutMs });
      sb.sandbox.setFaults({ syncDelaySeconds: 3600 });
    }
  });

  it("gives up after a bounded wait, naming what is still missing", async () => {
    const bruno = entraUser("bruno.keller");
    const saved = { memberOf: bruno.memberOf, assignedLicenses: bruno.assignedLicenses };
    // Loses his group license and his direct ones: not eligible, addUser answers userNotLicensed.
    bruno.memberOf = [];
    bruno.assignedLicenses = [];
    sb.sandbox.store.changed();
    const row = dv().systemUsers.findIndex((u) => u.azureactivedirectoryobjectid === bruno.id);
    const removed = row >= 0 ? dv().systemUsers.splice(row, 1) : [];
    const { attempts } = presenceWait;
    presenceWait.attempts = 3;
    try {
      await assert.rejects(provider.create(inputs("bruno.keller", [])), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.doesNotMatch(e.message, /\n/);
        assert.match(
          e.message,
          /bruno\.keller@\S+ is still missing: no systemusers row with azureactivedirectoryobjectid/,
        );
        assert.match(e.message, /userNotLicensed/);
        return true;
      });
    } finally {
      presenceWait.attempts = attempts;
      Object.assign(bruno, saved);
      dv().systemUsers.push(...removed);
      sb.sandbox.store.changed();
    }
  });

  it("a missing permission yields one actionable line", async () => {
    await newRun(NO_PERMISSIONS);
    await assert.rejects(provider.create(inputs("eva.nowak", ["Basic User"])), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, /^dataverse:User eva\.nowak@\S+ in environment "contoso-demo": dataverse 403 /);
      assert.match(e.message, /Hint: .*application user/);
      assert.doesNotMatch(e.message, /sandbox-no-permissions-secret|eyJ/);
      return true;
    });
  });
});
