/**
 * The blast-radius guard (users.yaml `guards`, on by default). Before any resource is declared,
 * the declared access is compared with what the stack applied last time (its state, exported
 * by `d365-access` before the run, or the stack's own `guardFacts` output under the official
 * CLI); a change larger than a guard stops preview and up (and `d365-access destroy`), so a
 * pull request that would disable half the tenant fails its preview instead of its merge.
 *
 * - Without `guards`, {@link DEFAULT_GUARDS} apply: never a silent "no limit".
 * - The limits in force are the stricter of the new file's and those the last deployment
 *   recorded (its `guards` output), so a pull request cannot raise the guard it is checked
 *   against: raising one is a change of its own, merged first.
 * - One run may pass a refused change with `--override-guards` or `D365_ACCESS_OVERRIDE_GUARDS=1`
 *   (for CI); the run then says which guards it overrode.
 *
 * The comparison is of declarations, not of live systems: drift undone by `--refresh` is not
 * counted. Pure; tested in test/program/guards.test.ts.
 */
import process from "node:process";
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
  /** Grants (licenses and roles) the last deployment declared that the change revokes. */
  revoked: number;
  /** Grants the last deployment declared. */
  existing: number;
}

/** The guards in force when users.yaml sets none (docs/users-yaml.md#guards). */
export const DEFAULT_GUARDS: Readonly<Required<Pick<Guards, "maxUsersRemoved" | "maxRevokedPercent">>> = {
  maxUsersRemoved: 5,
  maxRevokedPercent: 50,
};

/** `maxRevokedPercent` applies only once a change revokes more grants than this. */
export const REVOKED_PERCENT_FLOOR = 10;

/** The environment variable that lets one run through the guards (CI sets it for one job). */
export const OVERRIDE_VARIABLE = "D365_ACCESS_OVERRIDE_GUARDS";

/** Whether this run overrides the guards (`--override-guards` sets the variable). */
export function overridden(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[OVERRIDE_VARIABLE] ?? "");
}

const GUARD_KEYS = [
  "maxUsersChanged",
  "maxUsersRemoved",
  "maxRoleChanges",
  "maxLicenseChanges",
  "maxRevokedPercent",
] as const satisfies readonly (keyof Guards)[];

/** The file's guards with the defaults filled in: what a deployment records for the next run. */
export function fileGuards(guards: Guards): Guards {
  return { ...DEFAULT_GUARDS, ...guards };
}

/** Reads a recorded `guards` output; undefined when absent or not of that shape. */
export function guardsOfOutput(value: unknown): Guards | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: Guards = {};
  for (const k of GUARD_KEYS) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) out[k] = v;
  }
  return out;
}

/** A guard in force and where its limit comes from. */
export interface GuardInForce {
  limit: number;
  from: "users.yaml" | "default" | "last deployment";
}

/**
 * The stricter of the file's guards (defaults filled in) and the last deployment's, key by key.
 */
export function guardsInForce(
  file: Guards,
  last: Guards | undefined,
): Partial<Record<keyof Guards, GuardInForce>> {
  const out: Partial<Record<keyof Guards, GuardInForce>> = {};
  for (const k of GUARD_KEYS) {
    const own = file[k];
    const fallback = (DEFAULT_GUARDS as Guards)[k];
    const mine: GuardInForce | undefined =
      own !== undefined
        ? { limit: own, from: "users.yaml" }
        : fallback !== undefined
          ? { limit: fallback, from: "default" }
          : undefined;
    const before = last?.[k];
    out[k] =
      before !== undefined && (mine === undefined || before < mine.limit)
        ? { limit: before, from: "last deployment" }
        : mine;
    if (out[k] === undefined) delete out[k];
  }
  return out;
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
  let revoked = 0;
  let existing = 0;
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(k);
    const b = after.get(k);
    const r = (a ?? b) as AppliedResource;
    const oldGrants = new Set(a?.grants ?? []);
    const newGrants = new Set(b?.grants ?? []);
    const lost = [...oldGrants].filter((g) => !newGrants.has(g)).length;
    const delta = lost + [...newGrants].filter((g) => !oldGrants.has(g)).length;
    revoked += lost;
    existing += oldGrants.size;
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
    revoked,
    existing,
  };
}

const percent = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((100 * part) / whole));

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
export function guardViolations(
  summary: ChangeSummary,
  guards: Partial<Record<keyof Guards, GuardInForce>>,
): string[] {
  const share = percent(summary.revoked, summary.existing);
  const checks: [keyof Guards, number, string, boolean][] = [
    ["maxUsersChanged", summary.usersChanged.length, "users whose access changes", true],
    ["maxUsersRemoved", summary.usersRemoved.length, "users removed (their access revoked)", true],
    ["maxRoleChanges", summary.roleChanges, "role assignments added or removed", true],
    ["maxLicenseChanges", summary.licenseChanges, "license assignments added or removed", true],
    [
      "maxRevokedPercent",
      share,
      `% of the existing grants revoked (${summary.revoked} of ${summary.existing})`,
      summary.revoked > REVOKED_PERCENT_FLOOR,
    ],
  ];
  const line = (name: keyof Guards, count: number, what: string) => {
    const g = guards[name] as GuardInForce;
    const from =
      g.from === "users.yaml"
        ? ""
        : ` (${g.from === "default" ? "the default" : "set by the last deployment"})`;
    return `guards.${name} is ${g.limit}${from}, but this change has ${count}${what.startsWith("%") ? "" : " "}${what}`;
  };
  return checks
    .filter(
      ([name, count, , applies]) =>
        applies && guards[name] !== undefined && count > (guards[name] as GuardInForce).limit,
    )
    .map(([name, count, what]) => line(name, count, what));
}

/** What a change does, in one line for the refusal (and the override's notice). */
export function describeChange(summary: ChangeSummary): string {
  const removed = summary.usersRemoved;
  const names =
    removed.length > 0 ? ` (${removed.slice(0, 5).join(", ")}${removed.length > 5 ? ", …" : ""})` : "";
  return (
    `this change removes ${removed.length} user(s)${names}, changes the access of ${summary.usersChanged.length}, ` +
    `adds or removes ${summary.roleChanges} role and ${summary.licenseChanges} license assignment(s), ` +
    `and revokes ${summary.revoked} of the ${summary.existing} grants the last deployment declared`
  );
}

/** How to let an intended change through, for the refusal. */
export const OVERRIDE_HINT =
  "If the change is intended: run it once with --override-guards (CI: set " +
  `${OVERRIDE_VARIABLE}=1 for that one run), or raise the guard in users.yaml in a pull request of its own ` +
  "first (a change cannot raise the guard it is checked against: the stricter of the file's and the last deployment's applies).";

/** The refusal text, or undefined when the change is within the guards. */
export function guardRefusal(
  summary: ChangeSummary,
  guards: Partial<Record<keyof Guards, GuardInForce>>,
  what = "the change",
): { violations: string[]; message: string } | undefined {
  const violations = guardViolations(summary, guards);
  if (violations.length === 0) return undefined;
  return {
    violations,
    message:
      `${what} exceeds the guards in force; nothing was changed:\n  ${violations.join("\n  ")}\n` +
      `  ${describeChange(summary)}.\n  ${OVERRIDE_HINT}`,
  };
}
