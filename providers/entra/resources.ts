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
import { defineProvider, type ResourceSpec } from "../core/provider.ts";
import { type Runtime, waitFor } from "../core/runtime.ts";
import { ShimResource } from "../core/shim.ts";
import type { DeclareContext, Declared } from "../core/system.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import { apply, run } from "./apply.ts";
import { checkInputs } from "./check.ts";
import { inputsOf, newUser } from "./describe.ts";
import { fromLicenses, fromNewUser, toUserSnapshot, type UserDto } from "./dto.ts";
import type { EntraPerson, EntraUserInputs, EntraUserOutputs } from "./model.ts";
import { diff, planRemoval, planUser, sameUpn } from "./plan.ts";
import { client, reserveSeats, skus, USERS, usersById } from "./run.ts";

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
  return { id: user.id, outs: await apply(rt, inputs, user.id, actual, { adopted }) };
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
      outs: await apply(rt, inputs, user.id, actual, { adopted: false, password }),
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
  const outs = await apply(rt, inputs, user.id, empty, {
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
    return apply(rt, news, id, actual, { adopted: olds.adopted, ...(password ? { password } : {}) });
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
