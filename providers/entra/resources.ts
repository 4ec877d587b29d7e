/**
 * `entra:User`: one Entra user, adopted by UPN (default) or created, with its display name,
 * usage location, sign-in state and the exact set of its DIRECT licenses (issue 6 item 2).
 *
 * This module is imported by the program (for {@link EntraUser}) and by the engine's provider
 * process (for {@link provider}, through the thin shim). Module scope is cheap and holds no
 * settings or secrets; clients come from the per-process runtime inside each method.
 *
 * Removal ("as found"): we revoke the direct licenses this resource granted (`managedLicenses`).
 * A user we created is then disabled, or deleted when `onRemove: delete`. A user we adopted is
 * otherwise left exactly as it is at removal time: not disabled, not deleted, its properties not
 * reverted (Graph cannot reset `usageLocation` to empty, and re-enabling someone could grant
 * access that was removed on purpose). An adopted account usually serves more than Dynamics
 * (mail, Teams), so removing it from users.yaml must not lock the person out; Dynamics access
 * itself goes with the licenses here and the Dataverse/F&O resources.
 */
import { randomInt } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { isApiError } from "../core/errors.ts";
import { execute, type Handlers } from "../core/operation.ts";
import { defineProvider, PartialFailure, type ResourceSpec } from "../core/provider.ts";
import { type Runtime, waitFor } from "../core/runtime.ts";
import { ShimResource } from "../core/shim.ts";
import type { DeclareContext, Declared } from "../core/system.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import { checkInputs } from "./check.ts";
import { fromLicenses, fromNewUser, skuIdsOf, toUserSnapshot, type UserDto } from "./dto.ts";
import type { EntraPerson, EntraUserInputs, EntraUserOutputs, UserSnapshot } from "./model.ts";
import {
  describeOperation,
  diff,
  type EntraOperation,
  ownedLicenses,
  planRemoval,
  planUser,
  sameUpn,
} from "./plan.ts";
import { client, freeSeats, reserveSeats, skus, USERS, usersById } from "./run.ts";

export type { EntraUserInputs, EntraUserOutputs } from "./model.ts";

/** Arguments of {@link EntraUser}. */
export interface EntraUserArgs {
  /** User principal name; compared case-insensitively. Changing it replaces the resource. */
  readonly upn: pulumi.Input<string>;
  /** Display name. */
  readonly displayName: pulumi.Input<string>;
  /** ISO 3166-1 alpha-2 usage location, e.g. "FR"; required when licenses are declared. */
  readonly usageLocation: pulumi.Input<string>;
  /** Whether sign-in is enabled. Default true. */
  readonly enabled?: pulumi.Input<boolean>;
  /** "adopt" (default): the user must exist. "create": created when missing, adopted when present. */
  readonly manage?: pulumi.Input<"adopt" | "create">;
  /** For a user we created: "disable" (default) or "delete" on removal. Adopted users are left as found. */
  readonly onRemove?: pulumi.Input<"disable" | "delete">;
  /** The exact set of direct licenses: SKU part numbers with disabled service plan names. */
  readonly licenses?: pulumi.Input<
    pulumi.Input<{ sku: pulumi.Input<string>; disabledPlans: pulumi.Input<string>[] }>[]
  >;
}

/** One Entra user and its direct licenses. */
export class EntraUser extends ShimResource {
  /** Entra object id (the resource id). */
  declare readonly objectId: pulumi.Output<string>;
  /** Whether the user existed before this resource managed it. */
  declare readonly adopted: pulumi.Output<boolean>;
  /** SKU part numbers this resource assigned. */
  declare readonly managedLicenses: pulumi.Output<string[]>;
  /** Initial password of a created user (secret); undefined for adopted users. */
  declare readonly initialPassword: pulumi.Output<string | undefined>;

  constructor(name: string, args: EntraUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "entra",
      "User",
      "entra/resources",
      name,
      {
        ...USER_DEFAULTS,
        licenses: [],
        ...args,
        objectId: undefined,
        adopted: undefined,
        managedLicenses: undefined,
        initialPassword: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "initialPassword"] },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER = "abcdefghijkmnopqrstuvwxyz";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@_";

/** A random 20-character password with every character class Entra's policy counts. */
export function randomPassword(): string {
  const all = UPPER + LOWER + DIGITS + SYMBOLS;
  const pick = (set: string) => set[randomInt(set.length)] as string;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < 20) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join("");
}

function lowerSet(values: string[]): Set<string> {
  return new Set(values.map((v) => v.toLowerCase()));
}

/**
 * The Graph call behind each operation. `justCreated` tolerates Graph's replication lag
 * (assignLicense may answer 404 right after a create:
 * https://learn.microsoft.com/graph/api/user-post-users).
 */
function handlers(
  rt: Runtime,
  objectId: string,
  upn: string,
  justCreated: boolean,
): Handlers<EntraOperation> {
  const graph = client(rt);
  return {
    updateUser: (op) => graph.updateUser(objectId, op.changes),
    async assignLicenses(op) {
      const tenantSkus = await skus(rt);
      const body = {
        addLicenses: fromLicenses(op.add, tenantSkus),
        removeLicenses: skuIdsOf(op.remove, tenantSkus),
      };
      const assign = () => graph.assignLicense(objectId, body);
      if (justCreated) {
        await waitFor(
          {
            name: `Entra user ${upn} visible to assignLicense`,
            timeoutMs: 60_000,
            attempts: 8,
            retryOn: ["NotFound"],
          },
          assign,
        );
      } else await assign();
      await freeSeats(rt, op.remove);
    },
    async deleteUser() {
      await graph.deleteUser(objectId);
    },
  };
}

/**
 * Applies the plan to an existing user: seats are checked and reserved before any write, then
 * the operations run in the plan's order. `release` hands over seats reserved before a create.
 */
async function apply(
  rt: Runtime,
  objectId: string,
  desired: EntraUserInputs,
  actual: UserSnapshot,
  context: { adopted: boolean; managedLicenses: string[]; created?: boolean },
  release?: () => void,
): Promise<string[]> {
  const plan = planUser(desired, actual, context);
  const releaseSeats = release ?? (await reserveSeats(rt, plan.seats));
  try {
    await execute(plan.operations, handlers(rt, objectId, desired.upn, context.created ?? false), {
      describe: describeOperation,
    });
  } catch (e) {
    releaseSeats();
    throw e;
  } finally {
    rt.invalidate(USERS);
  }
  return plan.managedLicenses;
}

function outputsOf(
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  managedLicenses: string[],
  initialPassword?: string,
): EntraUserOutputs {
  return {
    upn: inputs.upn,
    displayName: inputs.displayName,
    usageLocation: inputs.usageLocation,
    enabled: inputs.enabled,
    manage: inputs.manage,
    onRemove: inputs.onRemove,
    licenses: inputs.licenses,
    objectId,
    adopted,
    managedLicenses,
    ...(initialPassword ? { initialPassword } : {}),
  };
}

/**
 * Outputs recording what Entra really has after a failed step, so the next diff sees the
 * remaining work and `update` resumes it. Reads the user again; falls back to `before`.
 */
async function partialOutputs(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  before: UserSnapshot,
  previouslyOwned: string[],
  password?: string,
): Promise<EntraUserOutputs> {
  let now = before;
  try {
    const fresh = await client(rt).getUserById(objectId);
    if (fresh) now = toUserSnapshot(fresh, await skus(rt));
  } catch {
    // keep the snapshot from before the failed step
  }
  const present = lowerSet(now.directLicenses.map((l) => l.sku));
  const owned = ownedLicenses(adopted, inputs.licenses, before.directLicenses, previouslyOwned).filter((s) =>
    present.has(s.toLowerCase()),
  );
  return {
    ...outputsOf(inputs, objectId, adopted, owned, password),
    displayName: now.displayName,
    usageLocation: now.usageLocation ?? "",
    enabled: now.enabled,
    licenses: now.directLicenses,
  };
}

/** Applies to an existing user; a failure becomes a partial failure recording what Entra has. */
async function applyOrRecord(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  actual: UserSnapshot,
  context: { adopted: boolean; managedLicenses: string[]; created?: boolean },
  password?: string,
  release?: () => void,
): Promise<string[]> {
  try {
    return await apply(rt, objectId, inputs, actual, context, release);
  } catch (e) {
    const outs = await partialOutputs(
      rt,
      inputs,
      objectId,
      context.adopted,
      actual,
      context.managedLicenses,
      password,
    );
    throw new PartialFailure(objectId, outs, e);
  }
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

async function createOrAdopt(
  rt: Runtime,
  inputs: EntraUserInputs,
): Promise<{ id: string; outs: EntraUserOutputs }> {
  const graph = client(rt);
  const tenantSkus = await skus(rt);
  fromLicenses(inputs.licenses, tenantSkus); // unknown SKU or plan: fail before any write

  let user = await graph.getUserByUpn(inputs.upn);
  if (!user && inputs.manage === "adopt") {
    throw new Error(
      `Entra user ${inputs.upn} does not exist: fix the UPN, or set manage: create to create it`,
    );
  }
  if (user) {
    const actual = toUserSnapshot(user, tenantSkus);
    const owned = await applyOrRecord(rt, inputs, user.id, actual, { adopted: true, managedLicenses: [] });
    return { id: user.id, outs: outputsOf(inputs, user.id, true, owned) };
  }

  // Create. Seats are checked before the user exists, so a shortage writes nothing.
  const empty: UserSnapshot = {
    upn: inputs.upn,
    displayName: inputs.displayName,
    usageLocation: inputs.usageLocation || undefined,
    enabled: inputs.enabled,
    directLicenses: [],
    inheritedSkus: [],
  };
  const context = { adopted: false, managedLicenses: [], created: true };
  const release = await reserveSeats(rt, planUser(inputs, empty, context).seats);
  const password = randomPassword();
  try {
    user = await graph.createUser(fromNewUser(inputs, password));
  } catch (e) {
    // Ambiguous outcome (no answer) or a duplicate: look the UPN up before anything else
    // (style.md principle 6); never POST again blindly.
    if (isApiError(e, "Transient") || isApiError(e, "Conflict")) user = await graph.getUserByUpn(inputs.upn);
    if (!user) {
      release();
      throw e;
    }
    if (isApiError(e, "Conflict")) {
      // Someone else's user with this UPN appeared meanwhile: adopt it instead.
      release();
      return createOrAdopt(rt, { ...inputs, manage: "adopt" });
    }
  }
  const created = user as UserDto;
  rt.invalidate(USERS);
  const owned = await applyOrRecord(rt, inputs, created.id, empty, context, password, release);
  return { id: created.id, outs: outputsOf(inputs, created.id, false, owned, password) };
}

/** `entra:User` as the kit runs it (core/provider.ts). */
export const spec: ResourceSpec<EntraUserInputs, EntraUserOutputs> = {
  type: "entra:User",
  subject: (r) => ({ user: r.upn }),
  check: checkInputs,
  diff,
  create: (inputs, rt) => createOrAdopt(rt, inputs),

  async read(id, previous, rt) {
    const [users, tenantSkus] = await Promise.all([usersById(rt), skus(rt)]);
    // A user missing from the run's bulk read may have been created after it: confirm singly
    // before reporting it deleted.
    const user = users.get(id.toLowerCase()) ?? (await client(rt).getUserById(id));
    if (!user) return undefined;
    const actual = toUserSnapshot(user, tenantSkus);
    const direct = lowerSet(actual.directLicenses.map((l) => l.sku));
    return {
      id,
      props: {
        ...previous,
        upn: sameUpn(previous.upn, actual.upn) ? previous.upn : actual.upn,
        displayName: actual.displayName,
        usageLocation: actual.usageLocation ?? "",
        enabled: actual.enabled,
        licenses: actual.directLicenses,
        objectId: user.id,
        managedLicenses: (previous.managedLicenses ?? []).filter((s) => direct.has(s.toLowerCase())),
      },
    };
  },

  async update(id, olds, news, rt) {
    const user = await client(rt).getUserById(id);
    if (!user)
      throw new Error(
        `Entra user ${olds.upn} (${id}) no longer exists: run refresh so it is created or adopted again`,
      );
    const tenantSkus = await skus(rt);
    fromLicenses(news.licenses, tenantSkus);
    const actual = toUserSnapshot(user, tenantSkus);
    const context = { adopted: olds.adopted, managedLicenses: olds.managedLicenses ?? [] };
    const owned = await applyOrRecord(rt, news, id, actual, context, olds.initialPassword);
    return {
      ...outputsOf(news, id, olds.adopted, owned),
      ...(olds.initialPassword ? { initialPassword: olds.initialPassword } : {}),
    };
  },

  async delete(id, props, rt) {
    try {
      const user = await client(rt).getUserById(id);
      if (!user) return; // already gone: done
      const actual = toUserSnapshot(user, await skus(rt));
      await execute(planRemoval(actual, props), handlers(rt, id, props.upn, false), {
        describe: describeOperation,
      });
      rt.invalidate(USERS);
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw e;
    }
  },
};

/** The dynamic provider (all seven methods) the shim loads. */
export const provider = defineProvider(spec);

/** Declares the user's resources (its registry entry's declarer). */
export function declare(user: EntraPerson, context: DeclareContext): Declared {
  const resource = new EntraUser(context.name, {
    upn: user.upn,
    displayName: user.displayName,
    usageLocation: user.usageLocation,
    enabled: user.enabled,
    manage: user.manage,
    onRemove: user.onRemove,
    licenses: user.licenses,
  });
  return { resources: [resource], objectId: resource.objectId };
}
