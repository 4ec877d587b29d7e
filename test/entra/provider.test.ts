/**
 * The Entra provider driven directly (no engine) against a sandbox started for this file.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { requestCounter } from "../../providers/core/http.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { type EntraUserInputs, type EntraUserOutputs, provider } from "../../providers/entra/resources.ts";
import { DEMO_DOMAIN, NO_PERMISSIONS_APP_ID, NO_PERMISSIONS_APP_SECRET } from "../../sandbox/core/tenant.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

let sb: TestSandbox;
const FIN = "DYN365_FINANCE";

function configure(app: "demo" | "noPermissions" = "demo") {
  resetRuntime();
  const config = sandboxConfig(
    sb.sandbox.stateDir,
    app === "demo" ? undefined : { clientId: NO_PERMISSIONS_APP_ID, clientSecret: NO_PERMISSIONS_APP_SECRET },
  );
  configureRuntime(config, {}, {});
}

const inputs = (over: Partial<EntraUserInputs>): EntraUserInputs & Record<string, unknown> => ({
  upn: `someone@${DEMO_DOMAIN}`,
  displayName: "Someone",
  usageLocation: "FR",
  enabled: true,
  manage: "adopt",
  onRemove: "disable",
  licenses: [],
  __provider: "shim",
  ...over,
  // What check() makes of it: the declared SKUs are always managed.
  managedLicenses: [...(over.managedLicenses ?? []), ...(over.licenses ?? []).map((l) => l.sku)],
});

function graphUser(upn: string) {
  return sb.sandbox.state.entra.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
}
function skuId(part: string) {
  return sb.sandbox.state.entra.skus.find((s) => s.skuPartNumber === part)?.skuId;
}
function writes() {
  const ops = requestCounter.snapshot().byOperation;
  return Object.entries(ops)
    .filter(([k]) => !k.startsWith("GET"))
    .reduce((n, [, v]) => n + v, 0);
}

before(async () => {
  sb = await startTestSandbox();
});
after(async () => {
  resetRuntime();
  await sb.close();
});
beforeEach(() => configure());

describe("entra:User provider against the sandbox", () => {
  it("creates a user with a random secret password and a license; creating again writes nothing", async () => {
    const upn = `r1.new@${DEMO_DOMAIN}`;
    const first = await provider.create(
      inputs({ upn, displayName: "R1 New", manage: "create", licenses: [{ sku: FIN, disabledPlans: [] }] }),
    );
    const outs = first.outs as EntraUserOutputs;
    assert.equal(outs.adopted, false);
    assert.deepEqual(outs.licenses, [{ sku: FIN, disabledPlans: [] }]);
    assert.ok(outs.initialPassword && outs.initialPassword.length >= 16);
    const u = graphUser(upn);
    assert.equal(u?.id, first.id);
    assert.equal(u?.passwordProfile?.forceChangePasswordNextSignIn, true);
    assert.deepEqual(
      u?.assignedLicenses.map((l) => l.skuId.toLowerCase()),
      [skuId(FIN)?.toLowerCase()],
    );

    requestCounter.reset();
    const second = await provider.create(
      inputs({
        upn: upn.toUpperCase(),
        displayName: "R1 New",
        manage: "create",
        licenses: [{ sku: FIN, disabledPlans: [] }],
      }),
    );
    assert.equal(second.id, first.id);
    assert.equal(writes(), 0, JSON.stringify(requestCounter.snapshot().byOperation));
  });

  it("adopts an existing user by UPN (case-insensitive), fixes its properties, and removal revokes its managed SKUs", async () => {
    const chloe = graphUser(`chloe.martin@${DEMO_DOMAIN}`);
    assert.ok(chloe);
    const res = await provider.create(
      inputs({
        upn: `Chloe.Martin@${DEMO_DOMAIN}`,
        displayName: "Chloé Martin-Durand",
        licenses: [{ sku: FIN, disabledPlans: ["FLOW_DYN_APPS"] }],
      }),
    );
    const outs = res.outs as EntraUserOutputs;
    assert.equal(res.id, chloe.id);
    assert.equal(outs.adopted, true);
    assert.deepEqual(outs.managedLicenses, [FIN]);
    // The lived-in tenant gave Chloé Office 365 E3 directly: it is not managed, so it stays.
    assert.deepEqual(outs.licenses, [
      { sku: FIN, disabledPlans: ["FLOW_DYN_APPS"] },
      { sku: "ENTERPRISEPACK", disabledPlans: [] },
    ]);
    assert.equal(outs.initialPassword, undefined);
    assert.equal(graphUser(`chloe.martin@${DEMO_DOMAIN}`)?.displayName, "Chloé Martin-Durand");
    const finance = (upn: string) => graphUser(upn)?.assignedLicenses.find((l) => l.skuId === skuId(FIN));
    assert.equal(finance(`chloe.martin@${DEMO_DOMAIN}`)?.disabledPlans.length, 1);

    // Removal revokes the managed SKUs it holds and leaves the adopted user enabled (as found),
    // with the licence users.yaml never managed.
    await provider.delete(res.id, outs);
    const after = graphUser(`chloe.martin@${DEMO_DOMAIN}`);
    assert.deepEqual(
      after?.assignedLicenses.map((l) => l.skuId),
      [skuId("ENTERPRISEPACK")],
    );
    assert.equal(after?.accountEnabled, true);
  });

  it("never touches group-inherited licenses; removal revokes a managed SKU held before adoption too", async () => {
    const bruno = await provider.create(
      inputs({
        upn: `bruno.keller@${DEMO_DOMAIN}`,
        displayName: "Bruno Keller",
        usageLocation: "DE",
        managedLicenses: ["DYN365_ENTERPRISE_TEAM_MEMBERS"],
      }),
    );
    requestCounter.reset();
    await provider.delete(bruno.id, bruno.outs as EntraUserOutputs);
    assert.equal(writes(), 0, "a managed SKU held only through a group is not revoked");
    const read = await provider.read(bruno.id, bruno.outs as EntraUserOutputs);
    // The inherited Team Members license is not "direct"; the E3 the tenant gave Bruno is.
    assert.deepEqual(read.props?.licenses, [{ sku: "ENTERPRISEPACK", disabledPlans: [] }]);
    assert.deepEqual(graphUser(`bruno.keller@${DEMO_DOMAIN}`)?.memberOf.length, 1);

    const adele = await provider.create(
      inputs({
        upn: `adele.vance@${DEMO_DOMAIN}`,
        displayName: "Adele Vance",
        usageLocation: "US",
        licenses: [{ sku: FIN, disabledPlans: [] }],
      }),
    );
    const outs = adele.outs as EntraUserOutputs;
    assert.deepEqual(outs.managedLicenses, [FIN]);
    const adeleSkus = () => graphUser(`adele.vance@${DEMO_DOMAIN}`)?.assignedLicenses.map((l) => l.skuId);
    assert.deepEqual(adeleSkus(), [skuId(FIN), skuId("SPE_E5")], "held before: no write");
    // An exported user declares what it held; removing it must still take it away, and only it.
    await provider.delete(adele.id, outs);
    assert.deepEqual(adeleSkus(), [skuId("SPE_E5")]);
    assert.equal(graphUser(`adele.vance@${DEMO_DOMAIN}`)?.accountEnabled, true, "adopted: left enabled");
  });

  it("updates to the exact direct license set, and removal of a created user revokes and disables", async () => {
    const upn = `r1.update@${DEMO_DOMAIN}`;
    const created = await provider.create(
      inputs({
        upn,
        displayName: "R1 Update",
        manage: "create",
        licenses: [{ sku: FIN, disabledPlans: [] }],
      }),
    );
    const olds = created.outs as EntraUserOutputs;
    const news = inputs({
      upn,
      displayName: "R1 Updated",
      manage: "create",
      enabled: false,
      licenses: [],
      managedLicenses: [FIN],
    });
    assert.deepEqual(await provider.diff(created.id, olds, news), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = (await provider.update(created.id, olds, news)).outs as EntraUserOutputs;
    assert.deepEqual(updated.licenses, []);
    assert.equal(updated.initialPassword, olds.initialPassword);
    const u = graphUser(upn);
    assert.equal(u?.displayName, "R1 Updated");
    assert.equal(u?.accountEnabled, false);
    assert.deepEqual(u?.assignedLicenses, []);
    assert.deepEqual(await provider.diff(created.id, updated, news), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    const again = (
      await provider.update(
        created.id,
        updated,
        inputs({
          upn,
          displayName: "R1 Updated",
          manage: "create",
          licenses: [{ sku: FIN, disabledPlans: [] }],
        }),
      )
    ).outs as EntraUserOutputs;
    await provider.delete(created.id, again);
    assert.deepEqual(graphUser(upn)?.assignedLicenses, []);
    assert.equal(graphUser(upn)?.accountEnabled, false);
  });

  it("deletes a created user only when onRemove is delete; refresh then reports it gone", async () => {
    const upn = `r1.delete@${DEMO_DOMAIN}`;
    const created = await provider.create(
      inputs({ upn, displayName: "R1 Delete", manage: "create", onRemove: "delete" }),
    );
    await provider.delete(created.id, created.outs as EntraUserOutputs);
    assert.equal(graphUser(upn), undefined);
    configure(); // a new run: fresh bulk reads
    assert.deepEqual(await provider.read(created.id, created.outs as EntraUserOutputs), { id: "" });
    await provider.delete(created.id, created.outs as EntraUserOutputs); // already gone: done
  });

  it("refresh sees drift made outside Pulumi", async () => {
    const res = await provider.create(
      inputs({ upn: `eva.nowak@${DEMO_DOMAIN}`, displayName: "Eva Nowak", usageLocation: "PL" }),
    );
    const eva = graphUser(`eva.nowak@${DEMO_DOMAIN}`);
    assert.ok(eva);
    eva.displayName = "Eva Changed";
    sb.sandbox.store.changed();
    configure();
    const read = await provider.read(res.id, res.outs as EntraUserOutputs);
    assert.equal(read.props?.displayName, "Eva Changed");
    assert.equal(
      (
        await provider.diff(
          res.id,
          read.props as EntraUserOutputs,
          inputs({ upn: `eva.nowak@${DEMO_DOMAIN}`, displayName: "Eva Nowak", usageLocation: "PL" }),
        )
      ).changes,
      true,
    );
  });

  it("checks seats before any write and names the SKU, seats needed and seats free", async () => {
    const sku = sb.sandbox.state.entra.skus.find((s) => s.skuPartNumber === FIN);
    assert.ok(sku);
    const saved = sku.prepaidUnits.enabled;
    sku.prepaidUnits.enabled = 0;
    try {
      configure();
      const upn = `r1.noseat@${DEMO_DOMAIN}`;
      requestCounter.reset();
      await assert.rejects(
        provider.create(
          inputs({
            upn,
            displayName: "No Seat",
            manage: "create",
            licenses: [{ sku: FIN, disabledPlans: [] }],
          }),
        ),
        (e: Error) => {
          assert.match(
            e.message,
            /^entra:User r1\.noseat@\S+: not enough DYN365_FINANCE licenses: 1 seat\(s\) needed, 0 free of 0$/,
          );
          return true;
        },
      );
      assert.equal(writes(), 0);
      assert.equal(graphUser(upn), undefined);
    } finally {
      sku.prepaidUnits.enabled = saved;
    }
  });

  it("refuses an adopt of a missing user and an unknown SKU with one clear line, writing nothing", async () => {
    await assert.rejects(
      provider.create(inputs({ upn: `nobody@${DEMO_DOMAIN}` })),
      /does not exist: fix the UPN, or set manage: create/,
    );
    await assert.rejects(
      provider.create(
        inputs({
          upn: `r1.x@${DEMO_DOMAIN}`,
          manage: "create",
          licenses: [{ sku: "NOT_A_SKU", disabledPlans: [] }],
        }),
      ),
      /license NOT_A_SKU is not subscribed/,
    );
    assert.equal(graphUser(`r1.x@${DEMO_DOMAIN}`), undefined);
  });

  it("a missing permission yields one actionable line", async () => {
    configure("noPermissions");
    await assert.rejects(
      provider.create(inputs({ upn: `chloe.martin@${DEMO_DOMAIN}`, displayName: "Chloé Martin" })),
      (e: Error) => {
        assert.equal(e.message.includes("\n"), false);
        assert.equal(e.stack, e.message);
        assert.match(
          e.message,
          /^entra:User chloe\.martin@\S+: entra 403 Authorization_RequestDenied on GET .*Hint: grant the app the Microsoft Graph application permission/,
        );
        return true;
      },
    );
  });
});

describe("entra:User check and diff", () => {
  it("normalizes inputs and reports failures by property", async () => {
    const ok = await provider.check(
      {} as EntraUserInputs,
      {
        upn: " a@b.example ",
        displayName: "A",
        usageLocation: "fr",
        licenses: [
          { sku: "Y", disabledPlans: [] },
          { sku: "X", disabledPlans: ["p2", "p1"] },
        ],
      } as unknown as EntraUserInputs,
    );
    assert.deepEqual(ok.failures, []);
    assert.deepEqual(ok.inputs, {
      upn: "a@b.example",
      displayName: "A",
      usageLocation: "FR",
      enabled: true,
      manage: "adopt",
      onRemove: "disable",
      licenses: [
        { sku: "X", disabledPlans: ["p1", "p2"] },
        { sku: "Y", disabledPlans: [] },
      ],
      managedLicenses: ["X", "Y"],
    });
    const bad = await provider.check(
      {} as EntraUserInputs,
      {
        upn: "nope",
        displayName: "",
        licenses: [{ sku: "X", disabledPlans: [] }],
        onRemove: "delete",
      } as unknown as EntraUserInputs,
    );
    assert.deepEqual(bad.failures?.map((f) => f.property).sort(), [
      "displayName",
      "onRemove",
      "upn",
      "usageLocation",
    ]);
  });
  it("a new UPN updates (a rename), another object id replaces", async () => {
    const olds = {
      ...inputs({ upn: "a@b.example" }),
      objectId: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a01",
      adopted: true,
      managedLicenses: [],
    } as EntraUserOutputs;
    assert.deepEqual(await provider.diff("x", olds, inputs({ upn: "A@B.example" })), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(await provider.diff("x", olds, inputs({ upn: "c@b.example" })), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(
      await provider.diff(
        "x",
        olds,
        inputs({ upn: "a@b.example", objectId: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a09" }),
      ),
      { changes: true, replaces: ["objectId"], deleteBeforeReplace: false },
    );
  });
});
