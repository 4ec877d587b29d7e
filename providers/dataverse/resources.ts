/**
 * The `dataverse:User` dynamic resource: one user's presence, business unit and exact DIRECT
 * role set in one Dataverse environment (issue 6 items 3, 5–7). The serialized state holds only
 * the shim's loader (core/shim.ts); the engine's provider process imports this module and calls
 * {@link provider}. Module-level code is cheap and captures nothing secret.
 *
 * Decisions (numbers from bench/requests-dataverse.ts against the sandbox, F&O-linked
 * environment, 2 declared roles: JIT onboarding 8 requests in 61 ms; addUser onboarding with a
 * 5 s sync lag 10 requests in 7 s, polls growing with the lag; refresh of 1,000 unchanged users
 * 1 request; preview of them 2 requests; ~830 bytes of state per resource, shim included):
 * - **Presence.** A user already synced (background sync, F&O auto-provisioning, an earlier run)
 *   is adopted. Otherwise, when a role is declared, the documented just-in-time association
 *   (`systemusers(azureactivedirectoryobjectid=…)/systemuserroles_association/$ref`) creates the
 *   user and grants its first role in ONE request with no polling; Power Platform admin `addUser`
 *   costs the same request plus at least one poll (more while the sync lags, up to an hour for
 *   F&O-licensed users in real tenants) and waiting for the background sync costs only polls and
 *   unbounded time. So: JIT first; `addUser` + bounded polling when no role is declared or
 *   Dataverse would not create the user just in time (not yet eligible, e.g. a license assigned
 *   seconds ago). https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 *   https://learn.microsoft.com/power-platform/admin/create-users
 * - **Reads.** `create`/`update`/`delete` read their own user fresh (one GET), because an exact
 *   role set must never be computed from a stale list; `read` (refresh) serves every user from one
 *   bulk read per environment and run (one request per 5,000 users), and `check` validates names
 *   against the environment's catalog (two requests per environment and run) so an unknown role
 *   fails in preview, before any write.
 * - **Ownership** is the planner's (plan.ts header): exact direct roles while declared; team roles
 *   never touched; removal revokes only `managedRoles`; the Dataverse user is never deleted or
 *   disabled by us (its enabled state follows Entra).
 */
import type * as pulumi from "@pulumi/pulumi";
import { ApiError, isApiError } from "../core/errors.ts";
import {
  type Clock,
  configureRuntime,
  type Runtime,
  runtime,
  WaitTimeoutError,
  waitFor,
} from "../core/runtime.ts";
import { findEnvironment } from "../core/settings.ts";
import { type ProviderImplementation, ShimResource } from "../core/shim.ts";
import { createDataverseClient, type DataverseClient } from "./client.ts";
import type { Role, SystemUser } from "./dto.ts";
import {
  type ActualUser,
  type Catalog,
  choosePresence,
  type DataverseUserInputs,
  type DataverseUserOutputs,
  diffUser,
  nameKey,
  normalizeNames,
  PlanError,
  planRemoval,
  planUser,
  resolveBusinessUnit,
  resolveRoles,
  sameNames,
  UNKNOWN,
} from "./plan.ts";
import { dataverse, powerPlatform } from "./service.ts";

export type { DataverseUserInputs, DataverseUserOutputs } from "./plan.ts";

/** Arguments of {@link DataverseUser}; the same names as the resource inputs (model contract). */
export interface DataverseUserArgs {
  /** User principal name, as in users.yaml (display and messages; compared case-insensitively). */
  readonly upn: pulumi.Input<string>;
  /** Entra object id of the user: the `entra:User` resource's `objectId` output. */
  readonly objectId: pulumi.Input<string>;
  /** Logical environment name from users.yaml; the stack config maps it to the Dataverse URL. */
  readonly environment: pulumi.Input<string>;
  /** Business unit name; omitted = the environment's root business unit. */
  readonly businessUnit?: pulumi.Input<string>;
  /** Security role names, resolved within the business unit (case-insensitive). */
  readonly roles: pulumi.Input<pulumi.Input<string>[]>;
}

/** One user's access in one Dataverse environment. */
export class DataverseUser extends ShimResource {
  /** `systemuserid` of the Dataverse user. */
  declare readonly systemUserId: pulumi.Output<string>;
  /** The business unit the user is in. */
  declare readonly businessUnitId: pulumi.Output<string>;
  /** Role names this resource granted: what removing it revokes. */
  declare readonly managedRoles: pulumi.Output<string[]>;
  /** Whether the Dataverse user existed before this resource managed it. */
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: DataverseUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "dataverse",
      "User",
      "dataverse/resources",
      name,
      {
        ...args,
        systemUserId: undefined,
        businessUnitId: undefined,
        managedRoles: undefined,
        adopted: undefined,
      },
      opts,
    );
  }
}

/** Bounds of the wait for a user to appear after `addUser` (tests and benchmarks shorten them). */
export interface PresenceWaitOptions {
  timeoutMs: number;
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  clock?: Clock;
}

/**
 * Defaults: about 10 minutes, polls backing off from 2 s to 20 s. Microsoft's Terraform provider
 * polls up to 30 times with 10–20 s pauses (reference/dataverse.md §8.2); F&O-licensed users may
 * take up to an hour to sync on their own, which is why we ask for the sync instead of waiting.
 */
export const presenceWait: PresenceWaitOptions = {
  timeoutMs: 10 * 60_000,
  attempts: 40,
  initialDelayMs: 2_000,
  maxDelayMs: 20_000,
};

/**
 * A create/update that changed something and then failed: the engine records `id` and
 * `properties` (the state reached), so the next `up` resumes from there (reference/pulumi.md §1.3).
 */
export class DataversePartialFailure extends Error {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
  constructor(message: string, id: string, properties: Record<string, unknown>) {
    super(message);
    this.name = "DataversePartialFailure";
    this.id = id;
    this.properties = properties;
    this.reasons = [message];
  }
}

// ---------------------------------------------------------------------------------------------
// Run-wide state: clients and bulk reads shared by every resource in the provider process.
// ---------------------------------------------------------------------------------------------

function clientFor(rt: Runtime, environment: string): DataverseClient {
  const env = findEnvironment(rt.settings, environment);
  return createDataverseClient({
    environment,
    dataverse: rt.client(dataverse, environment),
    powerPlatform: rt.has(powerPlatform) ? rt.client(powerPlatform) : undefined,
    powerPlatformEnvironmentId: env.values.powerPlatformEnvironmentId,
  });
}

function loadCatalog(rt: Runtime, client: DataverseClient): Promise<Catalog> {
  return rt.cached(`dataverse:${client.environment}:catalog`, async () => {
    // allSettled: when one read fails, the other still finishes before we report, so no request
    // is left running (and retrying) behind a failed operation.
    const [units, roles] = await Promise.allSettled([client.listBusinessUnits(), client.listRoles()]);
    if (units.status === "rejected") throw units.reason;
    if (roles.status === "rejected") throw roles.reason;
    return { environment: client.environment, businessUnits: units.value, roles: roles.value };
  });
}

function loadUsers(rt: Runtime, client: DataverseClient): Promise<Map<string, SystemUser>> {
  return rt.cached(`dataverse:${client.environment}:users`, async () => {
    const byObjectId = new Map<string, SystemUser>();
    for (const u of await client.listSystemUsers()) if (u.objectId) byObjectId.set(u.objectId, u);
    return byObjectId;
  });
}

/** After a write the bulk user list of that environment is stale. */
function forgetUsers(rt: Runtime, environment: string): void {
  rt.invalidate(`dataverse:${environment}:users`);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function describe(inputs: { upn?: string; environment?: string }): string {
  return `dataverse:User ${inputs.upn ?? "?"} in environment "${inputs.environment ?? "?"}"`;
}

/** One actionable line for any failure (ApiError.toString() carries status, code, request id, hint). */
function oneLine(e: unknown): string {
  if (e instanceof ApiError) return e.toString();
  if (e instanceof Error) return e.message.replace(/\s*\n\s*/g, "; ");
  return String(e);
}

/**
 * The error a provider method throws. A partial failure keeps the serialized shim (`__provider`)
 * of the raw inputs in its properties: the engine stores them as the outputs, and a later
 * update or delete loads the provider from there.
 */
function fail(inputs: { upn?: string; environment?: string }, e: unknown, raw?: object): Error {
  if (e instanceof DataversePartialFailure) {
    return new DataversePartialFailure(e.message, e.id, { ...e.properties, ...providerKey(raw ?? {}) });
  }
  return new Error(`${describe(inputs)}: ${oneLine(e)}`);
}

/** Pulumi's Struct conversion rejects `undefined`: drop such keys. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toActual(user: SystemUser): ActualUser {
  return {
    systemUserId: user.systemUserId,
    businessUnitId: user.businessUnitId,
    disabled: user.disabled,
    roles: user.roles ?? [],
  };
}

function normalizeInputs(news: DataverseUserInputs): DataverseUserInputs {
  return compact({
    upn: news.upn.trim(),
    objectId: news.objectId === UNKNOWN ? news.objectId : news.objectId.trim().toLowerCase(),
    environment: news.environment.trim(),
    businessUnit: news.businessUnit?.trim() ? news.businessUnit.trim() : undefined,
    roles: normalizeNames(news.roles),
  });
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The role names to show for a user's direct roles: foreign-unit roles carry their unit's name. */
function roleNames(roles: readonly Role[], businessUnitId: string, catalog: Catalog | undefined): string[] {
  return normalizeNames(
    roles.map((r) => {
      if (r.businessUnitId === businessUnitId) return r.name;
      const unit = catalog?.businessUnits.find((b) => b.businessUnitId === r.businessUnitId);
      return `${r.name} [${unit?.name ?? r.businessUnitId}]`;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reconciliation
// ---------------------------------------------------------------------------------------------

/** What a reconciliation has reached so far, so a failure can report a resumable state. */
interface Progress {
  user: SystemUser | undefined;
  present: Role[];
  /** Name keys of roles we granted in this call. */
  granted: Set<string>;
}

function outputsOf(
  inputs: DataverseUserInputs,
  catalog: Catalog,
  progress: Progress,
  previouslyManaged: readonly string[],
  adopted: boolean,
): DataverseUserOutputs | undefined {
  const user = progress.user;
  if (!user) return undefined;
  const ours = new Set([...previouslyManaged.map(nameKey), ...progress.granted]);
  const inUnit = progress.present.filter((r) => r.businessUnitId === user.businessUnitId);
  const managedRoles = normalizeNames(inUnit.filter((r) => ours.has(nameKey(r.name))).map((r) => r.name));
  let target: string | undefined;
  try {
    target = resolveBusinessUnit(catalog, inputs.businessUnit).businessUnitId;
  } catch {
    target = undefined;
  }
  const inTarget = target === user.businessUnitId;
  const actualNames = roleNames(progress.present, user.businessUnitId, catalog);
  return compact({
    upn: inputs.upn,
    objectId: inputs.objectId,
    environment: inputs.environment,
    // Report what was reached: a difference from the inputs makes the next `diff` resume the work.
    businessUnit: inTarget
      ? inputs.businessUnit
      : (catalog.businessUnits.find((b) => b.businessUnitId === user.businessUnitId)?.name ??
        user.businessUnitId),
    roles: inTarget && sameNames(actualNames, inputs.roles) ? inputs.roles : actualNames,
    systemUserId: user.systemUserId,
    businessUnitId: user.businessUnitId,
    managedRoles,
    adopted,
  });
}

/** Brings a missing user into the environment; returns the fresh row. */
async function bringIntoEnvironment(
  client: DataverseClient,
  catalog: Catalog,
  inputs: DataverseUserInputs,
  progress: Progress,
): Promise<SystemUser> {
  const strategy = choosePresence({ exists: false, catalog, desired: inputs });
  if (strategy.kind === "jit") {
    if (await client.associateRoleByObjectId(inputs.objectId, strategy.role.roleId)) {
      progress.granted.add(nameKey(strategy.role.name));
      const user = await client.getSystemUserByObjectId(inputs.objectId);
      if (user) return user;
    }
    // Dataverse would not create the user just in time (not eligible yet): ask for a sync and poll.
  }
  const where = `Dataverse environment "${client.environment}"`;
  let lastSync = "";
  const wait = presenceWait;
  try {
    return await waitFor(
      {
        name: `${where}: user ${inputs.upn} (Entra object id ${inputs.objectId}) to appear`,
        timeoutMs: wait.timeoutMs,
        attempts: wait.attempts,
        initialDelayMs: wait.initialDelayMs,
        maxDelayMs: wait.maxDelayMs,
        retryOn: ["NotFound"],
        ...(wait.clock ? { clock: wait.clock } : {}),
      },
      async () => {
        const found = await client.getSystemUserByObjectId(inputs.objectId);
        if (found) return found;
        // One accepted sync request is enough; ask again only while `userNotLicensed` says the
        // license is still propagating (the Terraform provider retries that for 9 minutes, §8.2).
        if (lastSync === "sync requested") return undefined;
        try {
          await client.forceUserSync(inputs.objectId);
          lastSync = "sync requested";
        } catch (e) {
          if (!isApiError(e, "Unlicensed")) throw e;
          lastSync = `addUser answered ${e.code || "Unlicensed"}: ${e.message}`;
        }
        return undefined;
      },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    throw new Error(
      `${where}: user ${inputs.upn} is still missing: no systemusers row with azureactivedirectoryobjectid ${inputs.objectId} ` +
        `after ${Math.round(wait.timeoutMs / 1000)} s or ${wait.attempts} checks (${lastSync || "no sync answer"}). ` +
        "Check that the Entra user is enabled, holds a license with Dataverse, and is in the environment's security group",
    );
  }
}

/** Create-or-adopt, then converge business unit and exact direct roles. */
async function reconcile(
  inputs: DataverseUserInputs,
  previous: DataverseUserOutputs | undefined,
): Promise<DataverseUserOutputs> {
  const rt = await runtime();
  const client = clientFor(rt, inputs.environment);
  const catalog = await loadCatalog(rt, client);
  // Names are resolved before any write, so a typo changes nothing.
  resolveRoles(catalog, resolveBusinessUnit(catalog, inputs.businessUnit), inputs.roles);
  const previouslyManaged = previous?.managedRoles ?? [];
  const progress: Progress = { user: undefined, present: [], granted: new Set() };
  let adopted = previous?.adopted ?? false;
  try {
    let user = await client.getSystemUserByObjectId(inputs.objectId);
    if (!previous) adopted = user !== undefined;
    if (!user) {
      forgetUsers(rt, inputs.environment);
      user = await bringIntoEnvironment(client, catalog, inputs, progress);
    }
    progress.user = user;
    progress.present = [...(user.roles ?? [])];

    // At most two rounds: a business-unit move strips roles in Dataverse by default, so the
    // roles are re-planned from a fresh read after it.
    for (let round = 0; round < 2; round++) {
      const managed = [
        ...previouslyManaged,
        ...progress.present.filter((r) => progress.granted.has(nameKey(r.name))).map((r) => r.name),
      ];
      const plan = planUser({
        desired: inputs,
        catalog,
        actual: toActual(progress.user),
        managedRoles: managed,
      });
      if (plan.operations.length === 0) break;
      let moved = false;
      for (const op of plan.operations) {
        forgetUsers(rt, inputs.environment);
        const systemUserId = progress.user.systemUserId;
        if (op.kind === "setBusinessUnit") {
          if (round > 0)
            throw new Error(`the business unit of user ${systemUserId} did not change to "${op.to.name}"`);
          await client.setBusinessUnit(systemUserId, op.to.businessUnitId);
          const fresh = await client.getSystemUser(systemUserId);
          if (!fresh) throw new Error(`user ${systemUserId} disappeared after its business unit changed`);
          progress.user = fresh;
          progress.present = [...(fresh.roles ?? [])];
          moved = true;
          break;
        }
        if (op.kind === "revokeRole") {
          await client.disassociateRole(systemUserId, op.role.roleId);
          progress.present = progress.present.filter((r) => r.roleId !== op.role.roleId);
        } else {
          await client.associateRole(systemUserId, op.role.roleId);
          progress.present.push(op.role);
          progress.granted.add(nameKey(op.role.name));
        }
      }
      if (!moved) break;
    }
  } catch (e) {
    const reached = outputsOf(inputs, catalog, progress, previouslyManaged, adopted);
    if (reached) {
      throw new DataversePartialFailure(`${describe(inputs)}: ${oneLine(e)}`, reached.systemUserId, {
        ...reached,
      });
    }
    throw e;
  }
  const out = outputsOf(inputs, catalog, progress, previouslyManaged, adopted);
  if (!out) throw new Error("internal: no Dataverse user after reconciliation");
  return out;
}

/** Keeps the serialized shim in partial-failure state, so later update/delete can load the provider. */
function providerKey(inputs: object): Record<string, unknown> {
  const p = (inputs as Record<string, unknown>).__provider;
  return p === undefined ? {} : { __provider: p };
}

function stripProvider<T extends object>(value: T): T {
  const { __provider: _, ...rest } = value as Record<string, unknown>;
  return rest as T;
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

/** The dynamic provider the shim loads (all seven methods). */
export const provider: ProviderImplementation<DataverseUserInputs, DataverseUserOutputs> = {
  async configure(req) {
    configureRuntime(req.config);
  },

  async check(_olds, news) {
    const failures: { property: string; reason: string }[] = [];
    const str = (key: "upn" | "objectId" | "environment") => {
      const v = news[key];
      if (typeof v !== "string" || v.trim() === "")
        failures.push({ property: key, reason: `${key} must be a non-empty string` });
    };
    str("upn");
    str("objectId");
    str("environment");
    // The whole list is unknown in a preview where it depends on another resource's output.
    if ((news.roles as unknown) === UNKNOWN) return failures.length > 0 ? { failures } : { inputs: news };
    if (
      typeof news.objectId === "string" &&
      news.objectId !== UNKNOWN &&
      news.objectId.trim() !== "" &&
      !GUID.test(news.objectId.trim())
    ) {
      failures.push({
        property: "objectId",
        reason: `objectId must be an Entra object id (a GUID), got "${news.objectId}"`,
      });
    }
    if (
      news.businessUnit !== undefined &&
      news.businessUnit !== null &&
      typeof news.businessUnit !== "string"
    ) {
      failures.push({ property: "businessUnit", reason: "businessUnit must be a string when set" });
    }
    if (!Array.isArray(news.roles) || news.roles.some((r) => typeof r !== "string")) {
      failures.push({ property: "roles", reason: "roles must be a list of role names" });
    }
    if (failures.length > 0) return { failures };
    const inputs = normalizeInputs({ ...stripProvider(news), businessUnit: news.businessUnit ?? undefined });
    // Unknown values (preview) cannot be resolved; the engine checks again with real values.
    const resolvable =
      inputs.environment !== UNKNOWN && inputs.businessUnit !== UNKNOWN && !inputs.roles.includes(UNKNOWN);
    if (resolvable) {
      try {
        const rt = await runtime();
        const catalog = await loadCatalog(rt, clientFor(rt, inputs.environment));
        resolveRoles(catalog, resolveBusinessUnit(catalog, inputs.businessUnit), inputs.roles);
      } catch (e) {
        // Bad names fail here, in preview. Other failures (network, permissions) surface, with
        // their one-line explanation, from the operation that needs the call.
        if (e instanceof PlanError)
          return { failures: e.problems.map((reason) => ({ property: e.property, reason })) };
      }
    }
    return { inputs };
  },

  async diff(_id, olds, news) {
    return diffUser(stripProvider(olds), normalizeInputs(stripProvider(news)));
  },

  async create(inputs) {
    const desired = normalizeInputs(stripProvider(inputs));
    try {
      const outs = await reconcile(desired, undefined);
      return { id: outs.systemUserId, outs: compact(outs) };
    } catch (e) {
      throw fail(desired, e, inputs);
    }
  },

  async update(_id, olds, news) {
    const desired = normalizeInputs(stripProvider(news));
    try {
      const outs = await reconcile(desired, stripProvider(olds));
      return { outs: compact(outs) };
    } catch (e) {
      throw fail(desired, e, news);
    }
  },

  async read(id, props) {
    const olds = stripProvider(props ?? ({} as DataverseUserOutputs));
    try {
      const rt = await runtime();
      const client = clientFor(rt, olds.environment);
      const users = await loadUsers(rt, client);
      const objectId = (olds.objectId ?? "").toLowerCase();
      const user = users.get(objectId);
      // Gone (or soft-deleted): refresh drops the resource; the next `up` brings the user back.
      if (!user) return { id: "" };
      const roles = user.roles ?? [];
      const sameUnit = user.businessUnitId === olds.businessUnitId;
      const foreign = roles.some((r) => r.businessUnitId !== user.businessUnitId);
      const plainNames = normalizeNames(roles.map((r) => r.name));
      // The catalog (two requests per environment and run) is needed only to name drift.
      const catalog = sameUnit && !foreign ? undefined : await loadCatalog(rt, client);
      const businessUnit = sameUnit
        ? olds.businessUnit
        : (catalog?.businessUnits.find((b) => b.businessUnitId === user.businessUnitId)?.name ??
          user.businessUnitId);
      const names = foreign ? roleNames(roles, user.businessUnitId, catalog) : plainNames;
      const props2: DataverseUserOutputs = compact({
        upn: olds.upn,
        objectId: olds.objectId,
        environment: olds.environment,
        businessUnit,
        roles: !foreign && sameNames(plainNames, olds.roles ?? []) ? olds.roles : names,
        systemUserId: user.systemUserId,
        businessUnitId: user.businessUnitId,
        managedRoles: olds.managedRoles ?? [],
        adopted: olds.adopted ?? false,
      });
      return { id: id || user.systemUserId, props: props2 };
    } catch (e) {
      throw fail(olds, e);
    }
  },

  async delete(_id, props) {
    const olds = stripProvider(props);
    try {
      const managed = olds.managedRoles ?? [];
      if (managed.length === 0) return; // nothing of ours to revoke: no request at all
      const rt = await runtime();
      const client = clientFor(rt, olds.environment);
      const user = await client.getSystemUserByObjectId(olds.objectId);
      if (!user) return; // NotFound means done
      forgetUsers(rt, olds.environment);
      for (const op of planRemoval(toActual(user), managed)) {
        if (op.kind === "revokeRole") await client.disassociateRole(user.systemUserId, op.role.roleId);
      }
    } catch (e) {
      throw fail(olds, e);
    }
  },
};
