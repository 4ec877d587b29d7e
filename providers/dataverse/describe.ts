/**
 * What `up` will change on Dataverse users, in the words a reviewer reads in the preview (issue
 * 12 items 1–3). Pure: the plans of plan.ts against a user as the environment holds it,
 * described with the kit's {@link Change}; run.ts reads the environment and calls these.
 *
 * A plan that only prepares (the user brought in, re-synced or moved to another business unit)
 * is followed here as `reconcile` follows it, planning again on the state the step leaves: a
 * user brought in or moved starts without direct roles (Dataverse strips them on a move), so the
 * description lists every grant that follows. Removal follows planRemoval (the kit's
 * decideRemoval): the owned roles revoked; the Dataverse user itself stays (it follows Entra).
 */
import type { Change } from "../core/describe.ts";
import type { DeclareContext } from "../core/system.ts";
import { checkInputs, normalizeNames } from "./check.ts";
import type { ActualUser, Caller, Catalog, DataversePerson, DataverseUserInputs } from "./model.ts";
import { type DataverseOperation, describeOperation, planRemoval, planUser } from "./plan.ts";

/** The resource inputs of a declared user in one environment (what `declare` gives the engine). */
export function inputsOf(
  user: DataversePerson,
  access: DataversePerson["dataverse"][number],
  context: Pick<DeclareContext, "objectId" | "provenance">,
) {
  // The identity is d365-access's when the program found it so, or when it is still to be made
  // (no object id known yet: the identity resource's output): its Dataverse user exists because
  // of it, brought in by us or by the background sync, whichever came first.
  const created = context.provenance === "created" || typeof context.objectId !== "string";
  return {
    upn: user.upn,
    objectId: context.objectId ?? "",
    environment: access.environment,
    ...(access.businessUnit ? { businessUnit: access.businessUnit } : {}),
    roles: access.roles,
    enabled: user.enabled,
    ...(created ? { provenance: "created" as const } : {}),
  };
}

/** The declared inputs normalized as the provider's `check` does. */
export function checkedInputs(
  user: DataversePerson,
  environment: string,
  objectId: string | undefined,
): DataverseUserInputs | undefined {
  const access = user.dataverse.find((d) => d.environment === environment);
  return access ? checkInputs(inputsOf(user, access, { objectId })).inputs : undefined;
}

const object = (upn: string, environment: string) => `Dataverse user ${upn} in ${environment}`;

/** The state a preparing step leaves, as the next plan sees it. */
function after(op: DataverseOperation, actual: ActualUser | undefined, target: string): ActualUser {
  const base = actual ?? { systemUserId: "", businessUnitId: target, disabled: false, roles: [] };
  if (op.kind === "addUser") return { ...base, businessUnitId: target, disabled: false, roles: [] };
  if (op.kind === "resync") return { ...base, disabled: false };
  if (op.kind === "setBusinessUnit") return { ...base, businessUnitId: op.to.businessUnitId, roles: [] };
  return base;
}

/**
 * What `create` or `update` does to the user (undefined: not in the environment yet). Throws
 * the plan's PlanError on unknown names (the provider's check reports them).
 */
export function describeUser(
  inputs: DataverseUserInputs,
  catalog: Catalog,
  actual: ActualUser | undefined,
  context: { verb: "adopts" | "updates"; managedRoles: readonly string[]; caller: Caller | undefined },
): Change {
  const changes: string[] = [];
  const notes: string[] = [];
  let state = actual;
  for (let round = 0; round < 4; round++) {
    const plan = planUser({
      desired: inputs,
      catalog,
      actual: state,
      managedRoles: context.managedRoles,
      caller: context.caller,
    });
    for (const op of plan.operations) {
      if (op.kind === "addUser") changes.push("add the user to the environment");
      else changes.push(describeOperation(op));
    }
    if (!plan.replan) {
      notes.push(...plan.warnings);
      break;
    }
    const step = plan.operations.find((op) => op.kind !== "revokeRole");
    if (!step) break;
    state = after(step, state, plan.businessUnit.businessUnitId);
  }
  return {
    verb: actual ? context.verb : "creates",
    object: object(inputs.upn, inputs.environment),
    changes,
    ...(notes.length ? { notes } : {}),
  };
}

/** What removing the user from users.yaml does (planRemoval, by the kit's removal rule). */
export function describeRemoval(
  outputs: { upn: string; environment: string },
  actual: ActualUser | undefined,
  caller: Caller | undefined,
): Change {
  const what = object(outputs.upn, outputs.environment);
  if (!actual) return { verb: "removes", object: what, changes: [], notes: ["already gone"] };
  const { operations, untouched } = planRemoval(actual, caller);
  const kept = normalizeNames(untouched.map((r) => r.name));
  return {
    verb: "removes",
    object: what,
    changes: operations.map(describeOperation),
    notes: [
      "the Dataverse user stays, neither disabled nor deleted: it follows Entra",
      ...(kept.length ? [`keeps ${kept.join(", ")}: not d365-access's to revoke`] : []),
    ],
  };
}
