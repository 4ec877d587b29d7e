/**
 * The `fno:User` dynamic resource: one user's record, exact role set and per-role legal-entity
 * restrictions in one F&O environment (issue 6 items 4–7). The serialized state holds only the
 * shim's loader (core/shim.ts); the engine's provider process imports this module and calls
 * {@link provider}. Module-level code is cheap and captures nothing secret.
 *
 * Decisions (figures from bench/_requests-fno.ts against the lived-in sandbox: onboarding one user
 * with two roles, one restricted to a legal entity, takes 11 requests, the role writes read back in
 * two queries (the restriction before its role is enabled, the rest after);
 * refreshing 1,000 unchanged users 4; about 0.9 KB of state per resource, shim included):
 * - **Identity.** The record is found by `Alias` = UPN (case-insensitive) and adopted; otherwise
 *   created with the declared UserID. The resource id is the record's UserID (F&O's key) and
 *   stays its identity: a renamed person (a new UPN) is the same F&O user, its Alias and Email
 *   updated in place. A changed `userId` input never recreates anyone (plan.ts `diff`).
 * - **Never managed:** Microsoft's preconfigured accounts and the F&O user our own app acts as
 *   (SysAADClients); declaring them fails the check in preview, before any write.
 * - **Reads.** `create`/`update`/`delete` read their own user fresh (one filtered `SystemUsers`
 *   request, then its role and organization rows), because an exact role set must never be
 *   computed from a stale list. `read` (refresh) serves every user of an environment from three
 *   bulk paged reads per run (users, user roles, role organizations: one request per 10,000 rows
 *   each), except users written in this process, which are read fresh. The role catalog, the
 *   users and the app's own user are bulk reads per environment and run, also used by `check`
 *   so unknown roles and refused identities fail in preview. Only an OData 404 means "absent"
 *   (client.ts): a refresh during servicing fails instead of forgetting anyone.
 * - **Ownership** is the planner's (plan.ts): exact Manual, Enabled roles while declared;
 *   SYSTEMUSER, rule-based rows, exclusions and other users never touched. Removal revokes that
 *   whole owned scope and disables; it deletes only a user d365-access created and whose
 *   `onRemove` is "delete", and a delete F&O refuses (records reference the user) leaves it
 *   disabled with a warning.
 * - **Partial failures** throw `{ id, properties, reasons }` with properties read back from F&O,
 *   so the next `up` sees the difference, calls `update` and resumes.
 */
import type * as pulumi from "@pulumi/pulumi";
import { execute } from "../core/operation.ts";
import { defineProvider, type ResourceSpec } from "../core/provider.ts";
import { provenanceOf } from "../core/removal.ts";
import { settled } from "../core/runtime.ts";
import { ShimResource } from "../core/shim.ts";
import type { DeclareContext, Declared } from "../core/system.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import { apply, confirmPending, handlers } from "./apply.ts";
import { checkInputs, protectedIdentityProblems, resolveRoles } from "./check.ts";
import type { RoleWrite } from "./client.ts";
import { inputsOf } from "./describe.ts";
import type { FnoLiveState, FnoPerson, FnoUserInputs, FnoUserOutputs, ManagedRole } from "./model.ts";
import { describeOperation, diff, liveView, planRemoval } from "./plan.ts";
import {
  clientFor,
  loadAppUser,
  loadRoles,
  loadSnapshot,
  loadUsers,
  readUser,
  written,
  writtenKey,
} from "./run.ts";

export type { FnoUserInputs, FnoUserOutputs } from "./model.ts";

/** Arguments of {@link FnoUser}; the same names as the resource inputs (model contract). */
export interface FnoUserArgs {
  /** User principal name (F&O `Alias`); the identity, compared case-insensitively. */
  readonly upn: pulumi.Input<string>;
  /** Entra object id (the `entra:User` output); recorded for the report, not sent to F&O. */
  readonly objectId?: pulumi.Input<string>;
  /** Logical environment name from users.yaml; the stack config maps it to the F&O URL. */
  readonly environment: pulumi.Input<string>;
  /** UserID for a new user, 1–20 characters; ignored when a user with this Alias exists. */
  readonly userId: pulumi.Input<string>;
  /** Display name (F&O `UserName`). */
  readonly userName: pulumi.Input<string>;
  /** Default legal entity (F&O `Company`, DataAreaId). */
  readonly company: pulumi.Input<string>;
  /** Whether the F&O account is enabled. Default true. */
  readonly enabled?: pulumi.Input<boolean>;
  /** Roles by AOT name or label; `legalEntities` empty = every company. SYSTEMUSER is implicit. */
  readonly roles: pulumi.Input<pulumi.Input<{ role: string; legalEntities: string[] }>[]>;
  /** What removal from users.yaml does: `disable` (default) or `delete`. */
  readonly onRemove?: pulumi.Input<"disable" | "delete">;
}

/** One user's access in one F&O environment (type `pulumi-nodejs:dynamic/fno:User`). */
export class FnoUser extends ShimResource {
  /** True when the F&O user existed before d365-access managed it. */
  declare readonly adopted: pulumi.Output<boolean>;
  /** Role identifiers assigned by us, with legal-entity restrictions. */
  declare readonly managedRoles: pulumi.Output<ManagedRole[]>;

  constructor(name: string, args: FnoUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "fno",
      "User",
      "fno/resources",
      name,
      { ...args, adopted: undefined, managedRoles: undefined },
      opts,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

const NO_ROWS: FnoLiveState = { users: [], assignments: [], organizations: [] };

/** `fno:User` as the kit runs it (core/provider.ts). */
export const spec: ResourceSpec<FnoUserInputs, FnoUserOutputs> = {
  type: "fno:User",
  subject: (r) => ({ user: r.upn, environment: r.environment }),
  check: checkInputs,
  validates: ["environment", "roles", "upn", "userId"],

  // Role names are resolved now, and the identity checked against what d365-access never
  // manages, so an unknown role or a refused identity fails in preview, before any write;
  // create and update check again on their fresh read.
  async validate(inputs, r) {
    const client = clientFor(r, inputs.environment);
    const [catalog, users, appUserId] = await settled([
      loadRoles(r, client),
      loadUsers(r, client),
      loadAppUser(r, client),
    ]);
    return [
      ...protectedIdentityProblems(inputs, users, { appUserId }).map((reason) => ({
        property: "upn",
        reason,
      })),
      ...resolveRoles(inputs.roles, catalog).problems.map((reason) => ({ property: "roles", reason })),
    ];
  },

  diff(olds, news) {
    const result = diff(olds, news);
    return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace: false };
  },

  create: (inputs, r) => apply(r, inputs, { managedRoles: [] }),

  async update(id, olds, news, r) {
    const { outs } = await apply(r, news, {
      id,
      adopted: olds.adopted,
      managedRoles: olds.managedRoles ?? [],
    });
    return outs;
  },

  async read(id, previous, r) {
    const client = clientFor(r, previous.environment);
    const [catalog, marks] = await settled([loadRoles(r, client), written(r)]);
    const live = marks.has(writtenKey(previous.environment, id))
      ? await readUser(client, previous.upn, id, id)
      : ((await loadSnapshot(r, client)).get(id.toLowerCase()) ?? NO_ROWS);
    const view = liveView(id, live, catalog, previous.roles ?? []);
    if (!view) return undefined; // gone from F&O: refresh drops it
    const managedRoles = view.managedRoles.filter((m) =>
      (previous.managedRoles ?? []).some((p) => p.role.toLowerCase() === m.role.toLowerCase()),
    );
    return {
      id: view.record.userId,
      props: {
        ...previous,
        userName: view.record.userName,
        company: view.record.company,
        enabled: view.record.enabled,
        roles: view.roles,
        managedRoles,
      },
    };
  },

  async delete(id, props, r) {
    const client = clientFor(r, props.environment);
    const [record, assignments, organizations, appUserId] = await settled([
      client.getUser(id),
      client.listUserRoles(id),
      client.listUserRoleOrganizations(id),
      loadAppUser(r, client),
    ]);
    const live: FnoLiveState = { users: record ? [record] : [], assignments, organizations };
    const removal = {
      provenance: provenanceOf(props.adopted),
      onRemove: props.onRemove ?? USER_DEFAULTS.onRemove,
    };
    const operations = planRemoval(id, live, removal, { appUserId });
    (await written(r)).add(writtenKey(props.environment, id));
    const pending: RoleWrite[] = [];
    await execute(operations, handlers(client, props.upn, pending), { describe: describeOperation });
    await confirmPending(client, id, pending);
  },
};

/** The provider the engine's provider process calls through the shim. */
export const provider = defineProvider(spec);

/** Declares the user's resources (its registry entry's declarer). */
export function declare(user: FnoPerson, context: DeclareContext): Declared {
  const resources = user.fno.map(
    (access) =>
      new FnoUser(`${context.name}/${access.environment}`, inputsOf(user, access, context), {
        dependsOn: context.dependsOn,
        ...(context.parent ? { parent: context.parent } : {}),
      }),
  );
  return { resources };
}
