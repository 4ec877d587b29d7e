/**
 * The apply-time blast-radius guard (users.yaml `guards`). Before any resource is declared,
 * the declared access is compared with what the stack applied last time (its state, exported
 * by `d365-access` before the run); a change larger than a guard stops preview and up, so a
 * pull request that would disable half the tenant fails its preview instead of its merge.
 * Raising the guard is itself a reviewed change to users.yaml.
 *
 * The comparison is of declarations, not of live systems: drift undone by `--refresh` is not
 * counted. Pure; tested in test/program/guards.test.ts.
 */
import { SYSTEMS } from "../../providers/registry.ts";
import type { DesiredState, Guards } from "../model/index.ts";

/** One d365-access resource as the previous state recorded its inputs. */
export interface AppliedResource {
  /** The system's name (its registry entry). */
  system: string;
  /** Lower-cased UPN. */
  upn: string;
  /** The environment for per-environment systems. */
  environment?: string;
  /** License or role keys the resource declared. */
  grants: string[];
  /** Anything else that changes access when it changes (enabled, business unit, company). */
  settings: string;
}

/** What a run would change, in the guards' terms. */
export interface ChangeSummary {
  usersChanged: string[];
  usersRemoved: string[];
  roleChanges: number;
  licenseChanges: number;
}

const key = (r: Pick<AppliedResource, "system" | "upn" | "environment">) =>
  `${r.system}|${r.upn}|${r.environment ?? ""}`;

/** The resources the program declares for `state`, in the same terms. */
export function declaredResources(state: DesiredState): AppliedResource[] {
  const out: AppliedResource[] = [];
  for (const user of state.users) {
    const upn = user.upn.toLowerCase();
    for (const system of SYSTEMS) {
      const places = system.scope === "environment" ? system.environments(user) : [undefined];
      for (const environment of places) {
        out.push({
          system: system.name,
          upn,
          ...(environment === undefined ? {} : { environment }),
          ...system.guard.declared(user, environment),
        });
      }
    }
  }
  return out;
}

/** Reads the previous deployment's d365-access resources (from `stack.exportStack()`). */
export function appliedResources(deployment: unknown): AppliedResource[] {
  const resources =
    (deployment as { resources?: { type?: string; inputs?: Record<string, unknown> }[] })?.resources ?? [];
  const out: AppliedResource[] = [];
  for (const r of resources) {
    const system = SYSTEMS.find((s) => s.resourceType === r.type);
    const inputs = r.inputs;
    if (!system || !inputs || typeof inputs.upn !== "string") continue;
    out.push({
      system: system.name,
      upn: inputs.upn.toLowerCase(),
      ...(system.scope === "environment" ? { environment: String(inputs.environment) } : {}),
      ...system.guard.applied(inputs),
    });
  }
  return out;
}

/** Compares what was applied with what is declared now. */
export function summarizeChange(applied: AppliedResource[], declared: AppliedResource[]): ChangeSummary {
  const before = new Map(applied.map((r) => [key(r), r]));
  const after = new Map(declared.map((r) => [key(r), r]));
  const changed = new Set<string>();
  const removed = new Set<string>();
  let roleChanges = 0;
  let licenseChanges = 0;
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(k);
    const b = after.get(k);
    const r = (a ?? b) as AppliedResource;
    const oldGrants = new Set(a?.grants ?? []);
    const newGrants = new Set(b?.grants ?? []);
    const delta =
      [...oldGrants].filter((g) => !newGrants.has(g)).length +
      [...newGrants].filter((g) => !oldGrants.has(g)).length;
    const guard = SYSTEMS.find((s) => s.name === r.system)?.guard;
    if (guard?.counts === "licenses") licenseChanges += delta;
    else roleChanges += delta;
    if (delta > 0 || a?.settings !== b?.settings) changed.add(r.upn);
    if (guard?.removesUser && a && !b) removed.add(r.upn);
  }
  return {
    usersChanged: [...changed].sort(),
    usersRemoved: [...removed].sort(),
    roleChanges,
    licenseChanges,
  };
}

/**
 * How many resources a run from `applied` to `declared` creates, updates or deletes (as far
 * as declarations tell: drift is not counted). Decides whether `up` keeps checkpoints
 * (src/engine/stack.ts `checkpointChoice`).
 */
export function resourceChanges(applied: AppliedResource[], declared: AppliedResource[]): number {
  const before = new Map(applied.map((r) => [key(r), r]));
  let changes = 0;
  for (const b of declared) {
    const a = before.get(key(b));
    before.delete(key(b));
    if (!a || a.settings !== b.settings || [...a.grants].sort().join() !== [...b.grants].sort().join())
      changes++;
  }
  return changes + before.size;
}

/** The guards a change exceeds, one readable line each; empty when within limits. */
export function guardViolations(summary: ChangeSummary, guards: Guards): string[] {
  const checks: [keyof Guards, number, string][] = [
    ["maxUsersChanged", summary.usersChanged.length, "users whose access changes"],
    ["maxUsersRemoved", summary.usersRemoved.length, "users removed (their access revoked)"],
    ["maxRoleChanges", summary.roleChanges, "role assignments added or removed"],
    ["maxLicenseChanges", summary.licenseChanges, "license assignments added or removed"],
  ];
  return checks
    .filter(([name, count]) => guards[name] !== undefined && count > (guards[name] as number))
    .map(([name, count, what]) => `guards.${name} is ${guards[name]}, but this change has ${count} ${what}`);
}
