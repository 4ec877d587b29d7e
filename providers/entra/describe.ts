/**
 * What `up` will change on Entra users, in the words a reviewer reads in the preview (issue 12
 * items 1–3). Pure: the plans of plan.ts against a user as Entra holds it, described with the
 * kit's {@link Change}. run.ts reads the users and calls these.
 *
 * - An adoption (`create` of a resource whose user exists) lists every license added, changed
 *   and removed and the sign-in set, exactly as `create` will plan them (planUser), or says the
 *   user is adopted unchanged.
 * - An update lists the same plan against the live user: what `update` does after `diff`.
 * - A removal follows planRemoval (the kit's decideRemoval): the licenses revoked, then whether
 *   the user is disabled, deleted, or left as found.
 */
import type { Change } from "../core/describe.ts";
import type { DeclareContext } from "../core/system.ts";
import { checkInputs } from "./check.ts";
import type { EntraPerson, EntraUserInputs, EntraUserOutputs, UserSnapshot } from "./model.ts";
import { planRemoval, planUser } from "./plan.ts";

/** The resource inputs of a declared user (what `declare` gives the engine, as `check` leaves them). */
export function inputsOf(user: EntraPerson, context: Pick<DeclareContext, "objectId" | "provenance">) {
  return {
    upn: user.upn,
    displayName: user.displayName,
    usageLocation: user.usageLocation,
    enabled: user.enabled,
    manage: user.manage,
    onRemove: user.onRemove,
    licenses: user.licenses,
    managedLicenses: user.managedLicenses,
    ...(context.objectId !== undefined ? { objectId: context.objectId } : {}),
    ...(context.provenance === "created" ? { provenance: "created" as const } : {}),
  };
}

/** The declared inputs normalized as the provider's `check` does. */
export function checkedInputs(user: EntraPerson, objectId: string | undefined): EntraUserInputs {
  return checkInputs({ ...inputsOf(user, { objectId }) }).inputs;
}

const object = (upn: string) => `Entra user ${upn}`;

/** A user as Entra holds it right after `create` made it from the inputs. */
export function newUser(inputs: EntraUserInputs): UserSnapshot {
  return {
    upn: inputs.upn,
    displayName: inputs.displayName,
    usageLocation: inputs.usageLocation || undefined,
    enabled: inputs.enabled,
    directLicenses: [],
    inheritedSkus: [],
  };
}

/**
 * What `create` or `update` changes on `actual` (undefined: the user does not exist and is
 * created). `verb` says which: an adoption, a create, or an update.
 */
export function describeUser(
  inputs: EntraUserInputs,
  actual: UserSnapshot | undefined,
  verb: "adopts" | "updates",
): Change {
  if (!actual) {
    const plan = planUser(inputs, newUser(inputs), { created: true });
    return {
      verb: "creates",
      object: object(inputs.upn),
      changes: [inputs.enabled ? "sign-in enabled" : "sign-in disabled", ...plan.summary],
    };
  }
  const plan = planUser(inputs, actual);
  return {
    verb,
    object: object(inputs.upn),
    changes: plan.summary,
    ...(plan.drift.length ? { notes: plan.drift.map((d) => `left as AD has it: ${d}`) } : {}),
  };
}

/** What removing the user from users.yaml does (planRemoval, by the kit's removal rule). */
export function describeRemoval(
  outputs: Pick<EntraUserOutputs, "upn" | "managedLicenses" | "adopted" | "onRemove">,
  actual: UserSnapshot | undefined,
): Change {
  if (!actual) return { verb: "removes", object: object(outputs.upn), changes: [], notes: ["already gone"] };
  const changes: string[] = [];
  for (const op of planRemoval(actual, outputs)) {
    if (op.kind === "assignLicenses") changes.push(...op.remove.map((sku) => `remove license ${sku}`));
    else if (op.kind === "setSignIn") changes.push(op.enabled ? "enable sign-in" : "disable sign-in");
    else if (op.kind === "deleteUser") changes.push("delete the user");
  }
  const deletes = changes.includes("delete the user");
  const disables = changes.includes("disable sign-in");
  const notes =
    outputs.adopted === false
      ? deletes || disables
        ? []
        : [actual.enabled ? "sign-in is AD's (synced user)" : "already disabled"]
      : ["the user is left as found: adopted, its account serves more than Dynamics"];
  return { verb: "removes", object: object(outputs.upn), changes, ...(notes.length ? { notes } : {}) };
}
