/**
 * The F&O scenarios of bench/requests.ts (the leading underscore keeps `npm run bench` from
 * running this file on its own): HTTP requests to onboard one new user and to refresh N
 * unchanged users, and the state bytes of one `fno:User` resource.
 */
import { requestCounter } from "../providers/core/http.ts";
import { type FnoUserInputs, type FnoUserOutputs, provider as fno } from "../providers/fno/index.ts";
import { type BenchContext, pool, type Scenario, stateBytes } from "./_shared.ts";

/** The F&O scenarios. */
export function fnoScenarios(ctx: BenchContext): Scenario[] {
  const environment = ctx.sandbox.endpoints.environments[0]?.name ?? "contoso-demo";
  const domain = ctx.sandbox.state.entra.verifiedDomains[0] ?? "contoso.example";
  return [
    {
      system: "fno",
      name: "onboard one new user (create + 2 roles, one restricted to 1 legal entity)",
      async run() {
        ctx.newRun();
        const checked = await fno.check(
          {} as FnoUserInputs,
          {
            upn: `bench.fno@${domain}`,
            environment,
            userId: "bench.fno",
            userName: "Bench F&O",
            company: "USMF",
            enabled: true,
            roles: [
              { role: "Accountant", legalEntities: ["USMF"] },
              { role: "Budget clerk", legalEntities: [] },
            ],
          } as FnoUserInputs,
        );
        if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
        // `check` already loaded the role catalog (one request per environment and run): count it.
        const inputs = checked.inputs as FnoUserInputs;
        const res = await fno.create(inputs);
        return {
          requests: requestCounter.total,
          detail: requestCounter.snapshot().byOperation,
          stateBytes: stateBytes("fno/resources", inputs, res.outs as FnoUserOutputs),
        };
      },
    },
    {
      system: "fno",
      name: `refresh ${ctx.users} unchanged users`,
      async run() {
        // Seed the users straight into the sandbox (not measured), then read them as refresh does.
        const env = ctx.sandbox.state.fno[environment];
        if (!env) throw new Error(`no F&O environment ${environment} in the sandbox`);
        const template = env.users[0];
        if (!template) throw new Error("the sandbox has no F&O user to copy");
        const states: FnoUserOutputs[] = [];
        for (let i = 0; i < ctx.users; i++) {
          const userId = `bench${i}`;
          const upn = `bench.user${i}@${domain}`;
          env.users.push({
            ...template,
            RecId: env.nextRecId++,
            UserID: userId,
            UserName: `Bench User ${i}`,
            Alias: upn,
            Email: upn,
            Company: "USMF",
            Enabled: true,
          });
          for (const role of ["SYSTEMUSER", "LEDGERACCOUNTANT"]) {
            env.userRoles.push({
              RecId: env.nextRecId++,
              RecVersion: 1,
              UserId: userId,
              SecurityRoleIdentifier: role,
              AssignmentStatus: "Enabled",
              AssignmentMode: "Manual",
            });
          }
          states.push({
            upn,
            environment,
            userId,
            userName: `Bench User ${i}`,
            company: "USMF",
            enabled: true,
            roles: [{ role: "Accountant", legalEntities: [] }],
            adopted: true,
            managedRoles: [{ role: "LEDGERACCOUNTANT", legalEntities: [] }],
          });
        }
        ctx.sandbox.store.changed();
        ctx.newRun();
        const reads = await pool(
          16,
          states.map((s) => () => fno.read(s.userId, s)),
        );
        const drift = reads.filter(
          (r, i) =>
            JSON.stringify(r.props?.roles) !== JSON.stringify(states[i]?.roles) || r.id !== states[i]?.userId,
        ).length;
        if (drift > 0) throw new Error(`refresh saw ${drift} changed users; expected none`);
        return {
          requests: requestCounter.total,
          detail: requestCounter.snapshot().byOperation,
          stateBytes: stateBytes("fno/resources", states[0] as object, states[0] as object),
        };
      },
    },
  ];
}
