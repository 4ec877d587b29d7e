/**
 * `entra:User`: one Entra user, adopted (default) or created, with its display name, usage
 * location, sign-in state and its DIRECT assignments of the SKUs users.yaml manages (issue 11).
 *
 * This module is imported by the program (for {@link EntraUser}) and by the engine's provider
 * process (for {@link provider}, through the thin shim). Module scope is cheap and holds no
 * settings or secrets; clients come from the per-process runtime inside each method.
 *
 * Identity and provenance: the program's bulk read finds the person and passes its object id
 * (`objectId`) and, for a user a crashed run created, `provenance: "created"`; `create` adopts
 * that object. Without an object id it looks the UPN up and creates the user when missing (with
 * `manage: create`). A create whose answer was lost, or which met its own earlier attempt, finds
 * the user by UPN and records it as created by us.
 *
 * Removal follows the kit's rule (core/removal.ts, plan.ts `planRemoval`): every direct license
 * of a managed SKU is revoked; a user we created is then disabled, or disabled and deleted with
 * `onRemove: delete`; a user we adopted is otherwise left as found (not disabled, not deleted,
 * its properties not reverted): its account usually serves more than Dynamics (mail, Teams).
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
import { inputsOf, newUser } from "./describe.ts";
import { fromLicenses, fromNewUser, skuIdsOf, toUserSnapshot, type UserDto } from "./dto.ts";
import type { EntraPerson, EntraUserInputs, EntraUserOutputs, UserSnapshot } from "./model.ts";
import {
  describeOperation,
  diff,
  type EntraOperation,
  type EntraUserPlan,
  planRemoval,
  planUser,
  sameUpn,
} from "./plan.ts";
import { client, freeSeats, reserveSeats, skus, USERS, usersById } from "./run.ts";

export type { EntraUserInputs, EntraUserOutputs } from "./model.ts";

/** Arguments of {@link EntraUser}. */
export interface EntraUserArgs {
  /** User principal name; compared case-insensitively. A new UPN (a rename) updates, never replaces. */
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
  /** The direct licenses users.yaml gives: SKU part numbers with disabled service plan names. */
  readonly licenses?: pulumi.Input<
    pulumi.Input<{ sku: pulumi.Input<string>; disabledPlans: pulumi.Input<string>[] }>[]
  >;
  /** The SKUs users.yaml manages (default: the declared ones); other direct licenses are never touched. */
  readonly managedLicenses?: pulumi.Input<pulumi.Input<string>[]>;
  /** The object id the program found for this person; absent when none exists yet. */
  readonly objectId?: pulumi.Input<string>;
  /** `created` when that object was created by an interrupted run of d365-access. Default `adopted`. */
  readonly provenance?: pulumi.Input<"adopted" | "created">;
}

/** One Entra user and its direct licenses. */
export class EntraUser extends ShimResource {
  /** Entra object id (the resource id). */
  declare readonly objectId: pulumi.Output<string>;
  /** Whether the user existed before this resource managed it. */
  declare readonly adopted: pulumi.Output<boolean>;
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
        managedLicenses: [],
        ...args,
        objectId: args.objectId,
        adopted: undefined,
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

// ---------------------------------------------------------------------------------------------
// Carrying out a plan: the Graph call behind each operation, the named waits eventual
// consistency needs, seats reserved before any write, and outputs recording what Entra holds.
//
// Two answers do not stop the user's other changes: Graph refusing to change the sign-in of a
// user who holds a privileged directory role (the app then needs a higher-privileged directory
// role of its own, https://learn.microsoft.com/graph/api/user-update#permissions): the rest is
// applied, then the resource fails with one line naming what is needed; and the properties
// on-premises AD masters, which are never planned for a synced user (plan.ts).
// ---------------------------------------------------------------------------------------------

/** How long Graph may take to show a write to the next call (its replicas catch up in seconds). */
const REPLICATION_WAIT = { timeoutMs: 60_000, attempts: 8 } as const;

/** The one line for a sign-in change Graph refused (403) while the rest of the user's changes apply. */
function signInRefused(upn: string, enabled: boolean): string {
  return (
    `Graph refused to ${enabled ? "enable" : "disable"} sign-in of Entra user ${upn} (403): a user holding a ` +
    "privileged directory role (e.g. Global Administrator) can only be changed by an app that itself holds a " +
    "higher-privileged directory role such as Privileged Authentication Administrator " +
    "(https://learn.microsoft.com/graph/api/user-update#permissions), or else the app lacks User.ReadWrite.All; " +
    "assign the role to the app, or declare the user's sign-in as it is; the user's other changes were applied"
  );
}

/** What happened to sign-in changes Graph refused (they do not stop the other operations). */
interface Refusals {
  lines: string[];
}

/**
 * The Graph call behind each operation. After a create, and after a usage-location change, the
 * next license call retries Graph's documented "not there yet" answers for a bounded, named
 * while (terraform-provider-azuread retries assignLicense on 404 after a create,
 * `internal/services/users/user_license_resource.go`; Microsoft's eventual-consistency guidance:
 * https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
 */
function handlers(
  rt: Runtime,
  objectId: string,
  upn: string,
  justCreated: boolean,
  refusals: Refusals,
): Handlers<EntraOperation> {
  const graph = client(rt);
  let usageLocationChanged = false;
  return {
    async updateUser(op) {
      await graph.updateUser(objectId, op.changes);
      if (op.changes.usageLocation) usageLocationChanged = true;
    },
    async setSignIn(op) {
      try {
        await graph.updateUser(objectId, { accountEnabled: op.enabled });
      } catch (e) {
        if (!isApiError(e, "Forbidden")) throw e;
        refusals.lines.push(signInRefused(upn, op.enabled));
      }
    },
    async assignLicenses(op) {
      const tenantSkus = await skus(rt);
      const body = {
        addLicenses: fromLicenses(op.add, tenantSkus),
        removeLicenses: skuIdsOf(op.remove, tenantSkus),
      };
      const assign = () => graph.assignLicense(objectId, body);
      if (justCreated)
        await waitFor(
          {
            name: `new Entra user ${upn} visible to assignLicense`,
            ...REPLICATION_WAIT,
            retryOn: ["NotFound"],
          },
          assign,
        );
      else if (usageLocationChanged && op.add.length > 0)
        await waitFor(
          {
            name: `usage location of ${upn} visible to assignLicense`,
            ...REPLICATION_WAIT,
            retryOn: ["Stale"],
          },
          assign,
        );
      else await assign();
      await freeSeats(rt, op.remove);
    },
    async deleteUser() {
      await graph.deleteUser(objectId);
    },
  };
}

/** Runs operations with {@link handlers}; returns the sign-in refusals. */
async function run(
  rt: Runtime,
  objectId: string,
  upn: string,
  operations: EntraOperation[],
  justCreated = false,
): Promise<string[]> {
  const refusals: Refusals = { lines: [] };
  try {
    await execute(operations, handlers(rt, objectId, upn, justCreated, refusals), {
      describe: describeOperation,
    });
  } finally {
    rt.invalidate(USERS);
  }
  return refusals.lines;
}

/** The outputs of a user whose plan ran: what Entra holds now, as far as the plan knows it. */
function outputsOf(
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  actual: UserSnapshot,
  plan: Pick<EntraUserPlan, "licensesAfter">,
  initialPassword?: string,
): EntraUserOutputs {
  const { provenance: _, ...declared } = inputs;
  const synced = actual.onPremisesSync === true;
  return {
    ...declared,
    // On-premises AD masters these for a synced user: record what Entra has.
    displayName: synced ? actual.displayName : inputs.displayName,
    enabled: synced ? actual.enabled : inputs.enabled,
    licenses: plan.licensesAfter,
    objectId,
    adopted,
    ...(synced ? { onPremisesSync: true } : {}),
    ...(initialPassword ? { initialPassword } : {}),
  };
}

/**
 * Outputs recording what Entra really has after a failed or refused step, so the next diff sees
 * the remaining work and `update` resumes it. Reads the user again; falls back to `before`.
 */
async function reached(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  before: UserSnapshot,
  password?: string,
): Promise<EntraUserOutputs> {
  let now = before;
  try {
    const fresh = await client(rt).getUserById(objectId);
    if (fresh) now = toUserSnapshot(fresh, await skus(rt));
  } catch {
    // keep the snapshot from before the failed step
  }
  const { provenance: _, ...declared } = inputs;
  return {
    ...declared,
    displayName: now.displayName,
    usageLocation: now.usageLocation ?? "",
    enabled: now.enabled,
    licenses: now.directLicenses,
    objectId,
    adopted,
    ...(now.onPremisesSync ? { onPremisesSync: true } : {}),
    ...(password ? { initialPassword: password } : {}),
  };
}

/**
 * Plans and applies `inputs` to an existing user: seats are checked and reserved before any
 * write (`release` hands over seats reserved before a create), then the operations run in the
 * plan's order. A failure, or a refused sign-in change, becomes a partial failure recording
 * what Entra has.
 */
async function applyOrRecord(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  actual: UserSnapshot,
  context: { adopted: boolean; created?: boolean; password?: string; release?: () => void },
): Promise<EntraUserOutputs> {
  const plan = planUser(inputs, actual, { created: context.created ?? false });
  const release = context.release ?? (await reserveSeats(rt, plan.seats));
  let refused: string[];
  try {
    refused = await run(rt, objectId, inputs.upn, plan.operations, context.created ?? false);
  } catch (e) {
    release();
    throw new PartialFailure(
      objectId,
      await reached(rt, inputs, objectId, context.adopted, actual, context.password),
      e,
    );
  }
  if (refused.length > 0) {
    const outs = await reached(rt, inputs, objectId, context.adopted, actual, context.password);
    throw new PartialFailure(objectId, outs, new Error(refused.join("; ")));
  }
  return outputsOf(inputs, objectId, context.adopted, actual, plan, context.password);
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

/**
 * How far a replayed create's user may predate the create that met it: Graph's clock and ours
 * differ, and a POST retried after a 429/503 that had in fact been applied meets its own user.
 */
const REPLAY_SKEW_MS = 5 * 60_000;

/** A user found by object id, waiting a bounded while for one a moment old (eventual consistency). */
async function userById(
  rt: Runtime,
  objectId: string,
  upn: string,
  fresh: boolean,
): Promise<UserDto | undefined> {
  const graph = client(rt);
  if (!fresh) return graph.getUserById(objectId);
  return waitFor(
    {
      name: `Entra user ${upn} (${objectId}) created by an earlier run`,
      timeoutMs: 60_000,
      attempts: 8,
      retryOn: [],
    },
    () => graph.getUserById(objectId),
  ).catch(() => undefined);
}

/** Adopts (or, for a resumed create, takes over) an existing user and applies the plan. */
async function takeOver(
  rt: Runtime,
  inputs: EntraUserInputs,
  user: UserDto,
  adopted: boolean,
): Promise<{ id: string; outs: EntraUserOutputs }> {
  const actual = toUserSnapshot(user, await skus(rt));
  return { id: user.id, outs: await applyOrRecord(rt, inputs, user.id, actual, { adopted }) };
}

/** After a create without a clear answer, the user with the UPN, once Graph shows it (bounded wait). */
function lookUpAfterCreate(rt: Runtime, upn: string): Promise<UserDto | undefined> {
  return waitFor(
    {
      name: `Entra user ${upn} after a create without a clear answer`,
      timeoutMs: 60_000,
      attempts: 6,
      retryOn: [],
    },
    () => client(rt).getUserByUpn(upn),
  ).catch(() => undefined);
}

async function createOrAdopt(
  rt: Runtime,
  inputs: EntraUserInputs,
): Promise<{ id: string; outs: EntraUserOutputs }> {
  const graph = client(rt);
  const tenantSkus = await skus(rt);
  fromLicenses(inputs.licenses, tenantSkus); // unknown SKU or plan: fail before any write

  if (inputs.objectId) {
    // The program found this person (or the user an interrupted run of ours created).
    const created = inputs.provenance === "created";
    const user = await userById(rt, inputs.objectId, inputs.upn, created);
    if (!user)
      throw new Error(
        `Entra user ${inputs.upn} (object id ${inputs.objectId}) no longer exists: run preview again to plan without it`,
      );
    if (!created) return takeOver(rt, inputs, user, true);
    // The run that created it was killed before recording its initial password: set a new one
    // (to be changed at first sign-in, as on create) so the state holds a password that works.
    const password = randomPassword();
    await graph.updateUser(user.id, { passwordProfile: { forceChangePasswordNextSignIn: true, password } });
    const actual = toUserSnapshot(user, tenantSkus);
    return {
      id: user.id,
      outs: await applyOrRecord(rt, inputs, user.id, actual, { adopted: false, password }),
    };
  }

  const existing = await graph.getUserByUpn(inputs.upn);
  if (existing) return takeOver(rt, inputs, existing, true);
  if (inputs.manage === "adopt")
    throw new Error(
      `Entra user ${inputs.upn} does not exist: fix the UPN, or set manage: create to create it`,
    );

  // Create. Seats are checked before the user exists, so a shortage writes nothing.
  const empty = newUser(inputs);
  const release = await reserveSeats(rt, planUser(inputs, empty, { created: true }).seats);
  const password = randomPassword();
  const started = Date.now();
  let user: UserDto | undefined;
  try {
    user = await graph.createUser(fromNewUser(inputs, password));
  } catch (e) {
    // No answer, or a conflict that may be our own earlier attempt: look the UPN up before
    // anything else; never POST again blindly.
    if (!isApiError(e, "Transient") && !isApiError(e, "Conflict")) {
      release();
      throw e;
    }
    user = await lookUpAfterCreate(rt, inputs.upn);
    if (!user) {
      release();
      throw e;
    }
    const made = Date.parse(user.createdDateTime ?? "");
    if (isApiError(e, "Conflict") && !(made >= started - REPLAY_SKEW_MS)) {
      // Someone else's user with this UPN, older than our create: adopt it, never claim it.
      release();
      return takeOver(rt, inputs, user, true);
    }
  }
  rt.invalidate(USERS);
  const outs = await applyOrRecord(rt, inputs, user.id, empty, {
    adopted: false,
    created: true,
    password,
    release,
  });
  return { id: user.id, outs };
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
    const { onPremisesSync: _, ...rest } = previous;
    return {
      id,
      props: {
        ...rest,
        // A rename in Entra is recorded (the program reports it against users.yaml).
        upn: sameUpn(previous.upn, actual.upn) ? previous.upn : actual.upn,
        displayName: actual.displayName,
        usageLocation: actual.usageLocation ?? "",
        enabled: actual.enabled,
        licenses: actual.directLicenses,
        objectId: user.id,
        ...(actual.onPremisesSync ? { onPremisesSync: true } : {}),
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
    const password = olds.initialPassword;
    // A new UPN is a rename Entra already made: it is recorded, never written back.
    return applyOrRecord(rt, news, id, actual, { adopted: olds.adopted, ...(password ? { password } : {}) });
  },

  async delete(id, props, rt) {
    try {
      const user = await client(rt).getUserById(id);
      if (!user) return; // already gone: done
      const actual = toUserSnapshot(user, await skus(rt));
      const refused = await run(rt, id, props.upn, planRemoval(actual, props));
      if (refused.length > 0) throw new Error(refused.join("; "));
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
  const resource = new EntraUser(
    context.name,
    inputsOf(user, context),
    context.parent ? { parent: context.parent } : undefined,
  );
  return { resources: [resource], objectId: resource.objectId };
}
