/**
 * What `up` will change on F&O users, in the words a reviewer reads in the preview (issue 12
 * items 1–3). Pure: the plans of plan.ts against what the environment holds, described with the
 * kit's {@link Change}; run.ts reads the environment and calls these.
 *
 * The plan's operations are grouped per role, so a reviewer reads one line per role and per
 * legal entity however many OData calls it takes: `grant role X [USMF]` (assigned disabled,
 * restricted, then enabled), `revoke role Y [DEMF]`, `role Z: add legal entity GBSI`, `role Z:
 * remove legal entity USMF`. They are set differences by construction: the planner compares role
 * identifiers and legal entities as sets. Removal follows planRemoval (the kit's decideRemoval):
 * the owned roles revoked, then the account disabled, or deleted when d365-access created it and
 * `onRemove` says so.
 */
import { type Change, qualified } from "../core/describe.ts";
import type { DeclareContext } from "../core/system.ts";
import { checkInputs } from "./check.ts";
import type { FnoLiveState, FnoPerson, FnoRole, FnoUserChanges, FnoUserInputs } from "./model.ts";
import { type FnoOperation, type PlanOptions, planRemoval, planUser } from "./plan.ts";

/** The resource inputs of a declared user in one environment (what `declare` gives the engine). */
export function inputsOf(
  user: FnoPerson,
  access: FnoPerson["fno"][number],
  context: Pick<DeclareContext, "objectId" | "provenance">,
) {
  return {
    upn: user.upn,
    ...(context.objectId === undefined ? {} : { objectId: context.objectId }),
    environment: access.environment,
    userId: access.userId,
    userName: user.displayName,
    company: access.company,
    enabled: user.enabled,
    roles: access.roles,
    onRemove: user.onRemove,
    ...(context.provenance === "created" ? { provenance: "created" as const } : {}),
  };
}

/** The declared inputs normalized as the provider's `check` does. */
export function checkedInputs(
  user: FnoPerson,
  environment: string,
  objectId: string | undefined,
): FnoUserInputs | undefined {
  const access = user.fno.find((f) => f.environment === environment);
  return access ? checkInputs(inputsOf(user, access, { objectId })).inputs : undefined;
}

const object = (userId: string, environment: string) => `F&O user ${userId} in ${environment}`;

/** One field change in words. */
function fieldChanges(changes: FnoUserChanges): string[] {
  const out: string[] = [];
  if (changes.alias !== undefined) out.push(`alias → ${changes.alias}`);
  if (changes.email !== undefined) out.push(`email → ${changes.email}`);
  if (changes.userName !== undefined) out.push(`name → "${changes.userName}"`);
  if (changes.company !== undefined) out.push(`default company → ${changes.company}`);
  if (changes.enabled !== undefined) out.push(changes.enabled ? "enable the account" : "disable the account");
  return out;
}

/**
 * The operations in a reviewer's words: one entry per role granted or revoked (with its legal
 * entities), per legal entity added to or removed from a kept role, per field, in plan order.
 */
export function describeOperations(
  operations: readonly FnoOperation[],
  catalog: readonly FnoRole[],
): string[] {
  const label = (roleId: string) => {
    const role = catalog.find((r) => r.identifier.toLowerCase() === roleId.toLowerCase());
    return role?.name && role.name !== role.identifier ? `${role.identifier} (${role.name})` : roleId;
  };
  const key = (roleId: string) => roleId.toLowerCase();
  const granted = new Set(operations.filter((o) => o.kind === "assignRole").map((o) => key(o.roleId)));
  const revoked = new Set(operations.filter((o) => o.kind === "removeRole").map((o) => key(o.roleId)));
  const entities = (kind: "addRoleOrganization" | "removeRoleOrganization", roleId: string) =>
    operations
      .flatMap((o) =>
        o.kind === kind && key(o.roleId) === key(roleId) ? [o.organizationId.toUpperCase()] : [],
      )
      .sort();
  const out: string[] = [];
  for (const op of operations) {
    switch (op.kind) {
      case "createUser":
        out.push(
          `create the user (default company ${op.user.company}${op.user.enabled ? "" : ", disabled"})`,
        );
        break;
      case "updateUser":
        out.push(...fieldChanges(op.changes));
        break;
      case "deleteUser":
        out.push("delete the user");
        break;
      case "assignRole":
        out.push(`grant role ${qualified(label(op.roleId), entities("addRoleOrganization", op.roleId))}`);
        break;
      case "enableRole":
        if (!granted.has(key(op.roleId)))
          out.push(
            `grant role ${label(op.roleId)} (its row was not enabled: an exclusion or a disabled rule row)`,
          );
        break;
      case "removeRole":
        out.push(`revoke role ${qualified(label(op.roleId), entities("removeRoleOrganization", op.roleId))}`);
        break;
      case "addRoleOrganization":
        if (!granted.has(key(op.roleId)))
          out.push(`role ${label(op.roleId)}: add legal entity ${op.organizationId.toUpperCase()}`);
        break;
      case "removeRoleOrganization":
        if (!revoked.has(key(op.roleId)))
          out.push(`role ${label(op.roleId)}: remove legal entity ${op.organizationId.toUpperCase()}`);
        break;
    }
  }
  return out;
}

/**
 * What `create` or `update` does in the environment. `live` holds the records the declaration
 * may match and their rows. Throws the plan's PlanError for a declaration that cannot be applied
 * (the provider's check reports it).
 */
export function describeUser(
  inputs: FnoUserInputs,
  live: FnoLiveState,
  catalog: readonly FnoRole[],
  context: { verb: "adopts" | "updates"; options: PlanOptions },
): Change {
  const plan = planUser(inputs, live, catalog, context.options);
  return {
    verb: plan.adopted ? context.verb : "creates",
    object: object(plan.userId, inputs.environment),
    changes: describeOperations(plan.operations, catalog),
  };
}

/** What removing the user from users.yaml does (planRemoval, by the kit's removal rule). */
export function describeRemoval(
  userId: string,
  outputs: { environment: string; adopted?: unknown; onRemove?: "disable" | "delete" },
  live: FnoLiveState,
  catalog: readonly FnoRole[],
  removal: Parameters<typeof planRemoval>[2],
  guard: Parameters<typeof planRemoval>[3],
): Change {
  const what = object(userId, outputs.environment);
  if (live.users.length === 0) return { verb: "removes", object: what, changes: [], notes: ["already gone"] };
  const changes = describeOperations(planRemoval(userId, live, removal, guard), catalog);
  const notes: string[] = [];
  if (removal.provenance === "adopted")
    notes.push(`adopted: never deleted${removal.onRemove === "delete" ? ", whatever onRemove says" : ""}`);
  if (!changes.some((c) => c === "disable the account" || c === "delete the user"))
    notes.push("the account is already disabled");
  notes.push("rule-based roles and exclusions stay");
  return { verb: "removes", object: what, changes, notes };
}
