/** Assertions that the sandbox holds exactly what users.yaml declares (through the APIs). */
import assert from "node:assert/strict";
import path from "node:path";
import type { DesiredState } from "../../src/model/index.ts";
import { loadDesiredState } from "../../src/model/index.ts";
import type { E2EProject } from "./harness.ts";

/** The SYSTEMUSER role F&O gives every user; never declared. */
const SYSTEM_USER = "SYSTEMUSER";

export function desiredOf(project: E2EProject): DesiredState {
  const { state, diagnostics } = loadDesiredState([path.join(project.dir, "users.yaml")], {
    cwd: project.dir,
  });
  assert.ok(state, `users.yaml is invalid: ${JSON.stringify(diagnostics)}`);
  return state;
}

/**
 * Every declared user holds exactly the declared licenses (of the SKUs users.yaml manages: the
 * others are not ours) and roles, in every system.
 */
export async function assertSandboxMatches(project: E2EProject, state = desiredOf(project)): Promise<void> {
  for (const user of state.users) {
    const live = await project.live(user.upn);
    assert.ok(live.entra, `${user.upn} is not in Entra`);
    assert.equal(live.entra.accountEnabled, user.enabled, `${user.upn}: accountEnabled`);
    const managed = new Set(state.managedLicenses.map((s) => s.toLowerCase()));
    assert.deepEqual(
      live.entra.directLicenses.filter((sku) => managed.has(sku.toLowerCase())),
      user.licenses.map((l) => l.sku).sort(),
      `${user.upn}: direct licenses of the managed SKUs`,
    );
    for (const access of user.dataverse) {
      assert.ok(live.dataverse, `${user.upn} is not in Dataverse ${access.environment}`);
      assert.deepEqual(live.dataverse.roles, [...access.roles].sort(), `${user.upn}: Dataverse roles`);
      if (access.businessUnit)
        assert.equal(live.dataverse.businessUnit, access.businessUnit, `${user.upn}: business unit`);
    }
    for (const access of user.fno) {
      assert.ok(live.fno, `${user.upn} is not in F&O ${access.environment}`);
      assert.equal(live.fno.enabled, user.enabled, `${user.upn}: F&O Enabled`);
      // Rule-based rows are the environment's rules', not ours: an undeclared one is not extra.
      const declared = access.roles.map((r) => r.role.toUpperCase()).sort();
      const byRule = new Set(live.fno.ruleRoles.filter((r) => !declared.includes(r)));
      assert.deepEqual(
        live.fno.roles.filter((r) => r !== SYSTEM_USER && !byRule.has(r)),
        declared,
        `${user.upn}: F&O roles`,
      );
      for (const role of access.roles) {
        assert.deepEqual(
          live.fno.legalEntities[role.role.toUpperCase()] ?? [],
          role.legalEntities,
          `${user.upn}: ${role.role} legal entities`,
        );
      }
    }
  }
}
