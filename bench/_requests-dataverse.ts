/**
 * Dataverse scenarios of bench/requests.ts: HTTP requests to onboard one new user (each presence
 * strategy, which is how providers/dataverse/resources.ts chose the just-in-time path), to
 * refresh 1,000 unchanged users, and to preview them unchanged; state bytes per resource.
 *
 * Kept apart from bench/requests.ts (which imports it); shared pieces are in bench/_shared.ts.
 */
import { requestCounter } from "../providers/core/http.ts";
import {
  type DataverseUserInputs,
  type DataverseUserOutputs,
  presenceWait,
  provider,
} from "../providers/dataverse/index.ts";
import { type BenchContext, pool, type Scenario, stateBytes } from "./_shared.ts";

const ENV = "contoso-demo";

/** The Dataverse scenarios. */
export function dataverseScenarios(ctx: BenchContext): Scenario[] {
  const state = ctx.sandbox.state;
  const domain = state.entra.verifiedDomains[0] ?? "contoso.example";
  const finance = state.entra.skus.find((s) => s.skuPartNumber === "DYN365_FINANCE");
  if (!finance) throw new Error("sandbox seed has no DYN365_FINANCE SKU");
  let serial = 0;

  /** A new licensed Entra user, not yet in Dataverse (the sync is slowed so it stays out). */
  function newEntraUser(prefix: string): { id: string; upn: string } {
    const n = serial++;
    const id = `dddddddd-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const upn = `${prefix}${n}@${domain}`;
    const template = state.entra.users[0];
    if (!template) throw new Error("sandbox seed has no Entra users");
    state.entra.users.push({
      ...template,
      id,
      userPrincipalName: upn,
      displayName: `${prefix} ${n}`,
      mail: upn,
      mailNickname: `${prefix}${n}`,
      accountEnabled: true,
      assignedLicenses: [{ skuId: finance?.skuId ?? "", disabledPlans: [] }],
      memberOf: [],
    });
    ctx.sandbox.store.changed();
    return { id, upn };
  }

  const roles = ["Basic User", "Contoso Finance Reader"];
  const onboard = (strategy: "jit" | "addUser"): Scenario => ({
    system: "dataverse",
    name:
      strategy === "jit"
        ? `onboard one new user, ${roles.length} roles (just-in-time association)`
        : "onboard one new user, no role (addUser + polling, sync lag 5 s)",
    async run() {
      // The first request of a fresh environment runs its initial sync; do it before the user exists.
      ctx.newRun();
      await provider.check({} as DataverseUserInputs, {
        upn: "x",
        objectId: "00000000-0000-4000-8000-000000000000",
        environment: ENV,
        roles: [],
      });
      ctx.sandbox.setFaults({ syncDelaySeconds: strategy === "jit" ? 3600 : 5 });
      const user = newEntraUser(`bench.dv.${strategy}.`);
      const inputs: DataverseUserInputs = {
        upn: user.upn,
        objectId: user.id,
        environment: ENV,
        roles: strategy === "jit" ? roles : [],
      };
      ctx.newRun();
      const res = await provider.create({ ...inputs, __provider: "x" } as DataverseUserInputs);
      return {
        requests: requestCounter.total,
        detail: requestCounter.snapshot().byOperation,
        stateBytes: stateBytes("dataverse/resources", inputs, res.outs as DataverseUserOutputs),
      };
    },
  });

  return [
    onboard("jit"),
    onboard("addUser"),
    {
      system: "dataverse",
      name: `refresh ${ctx.users} unchanged users`,
      async run() {
        ctx.sandbox.setFaults({ syncDelaySeconds: 3600 });
        const env = state.dataverse[ENV];
        if (!env) throw new Error(`sandbox has no Dataverse environment ${ENV}`);
        const root = env.businessUnits.find((b) => b.parentbusinessunitid === null);
        const template = env.systemUsers.find((u) => u.azureactivedirectoryobjectid && !u.applicationid);
        if (!root || !template) throw new Error("sandbox seed lacks a root business unit or a synced user");
        const roleIds = env.roles
          .filter((r) => r.businessunitid === root.businessunitid && roles.includes(r.name))
          .map((r) => r.roleid);
        // Seed the users straight into the sandbox (not measured), then read them as refresh does.
        const outputs: DataverseUserOutputs[] = [];
        for (let i = 0; i < ctx.users; i++) {
          const user = newEntraUser("bench.dv.refresh.");
          const systemuserid = `eeeeeeee-0000-4000-8000-${String(i).padStart(12, "0")}`;
          env.systemUsers.push({
            ...template,
            systemuserid,
            azureactivedirectoryobjectid: user.id,
            domainname: user.upn,
            businessunitid: root.businessunitid,
            roleids: [...roleIds],
          });
          outputs.push({
            upn: user.upn,
            objectId: user.id,
            environment: ENV,
            roles,
            systemUserId: systemuserid,
            businessUnitId: root.businessunitid,
            managedRoles: roles,
            adopted: false,
          });
        }
        ctx.sandbox.store.changed();
        ctx.newRun();
        const reads = await pool(
          16,
          outputs.map((o) => () => provider.read(o.systemUserId, o)),
        );
        const drift = reads.filter((r, i) => JSON.stringify(r.props) !== JSON.stringify(outputs[i])).length;
        if (drift > 0) throw new Error(`refresh saw ${drift} changed users; expected none`);
        const refresh = requestCounter.total;
        const refreshDetail = requestCounter.snapshot().byOperation;

        // preview/up of the same 1,000 unchanged users: check (names validated) + diff.
        ctx.newRun();
        await pool(
          16,
          outputs.map((o) => async () => {
            const inputs = { upn: o.upn, objectId: o.objectId, environment: ENV, roles };
            const checked = await provider.check({} as DataverseUserInputs, inputs);
            const d = await provider.diff(o.systemUserId, o, checked.inputs as DataverseUserInputs);
            if (d.changes) throw new Error(`diff saw a change for ${o.upn}`);
          }),
        );
        const preview = requestCounter.total;
        const first = outputs[0] as DataverseUserOutputs;
        return {
          requests: refresh,
          detail: { ...refreshDetail, "preview (check+diff) of the same users": preview },
          stateBytes: stateBytes(
            "dataverse/resources",
            { upn: first.upn, objectId: first.objectId, environment: ENV, roles },
            first,
          ),
        };
      },
    },
  ];
}

// Poll as a real run would, but without minutes of waiting in the benchmark.
presenceWait.initialDelayMs = 1000;
presenceWait.maxDelayMs = 4000;
