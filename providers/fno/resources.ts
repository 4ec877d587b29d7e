/**
 * The `fno:User` dynamic resource: one user's record, exact role set and per-role legal-entity
 * restrictions in one F&O environment (issue 6 items 4–7). The serialized state holds only the
 * shim's loader (core/shim.ts); the engine's provider process imports this module and calls
 * {@link provider}. Module-level code is cheap and captures nothing secret.
 *
 * Decisions (figures from bench/_requests-fno.ts against the sandbox: onboarding one user with two
 * roles, one restricted to a legal entity, takes 7 requests; refreshing 1,000 unchanged users 4;
 * about 0.9 KB of state per resource, shim included):
 * - **Identity.** The record is found by `Alias` = UPN (case-insensitive) and adopted; otherwise
 *   created with the declared UserID. The resource id is the record's UserID (F&O's key). A
 *   changed `userId` input never recreates anyone (plan.ts `planDiff`).
 * - **Reads.** `create`/`update`/`delete` read their own user fresh (one filtered `SystemUsers`
 *   request, then its role and organization rows), because an exact role set must never be
 *   computed from a stale list. `read` (refresh) serves every user of an environment from three
 *   bulk paged reads per run (users, user roles, role organizations: one request per 10,000 rows
 *   each), except users written in this process, which are read fresh. The role catalog is one
 *   bulk read per environment and run, also used by `check` so unknown roles fail in preview.
 * - **Ownership** is the planner's (plan.ts): exact manual roles while declared; SYSTEMUSER,
 *   rule-based rows, other users and Microsoft's service users never touched; removal revokes
 *   `managedRoles` and disables, deleting only with `onRemove: "delete"`.
 * - **Partial failures** throw `{ id, properties, reasons }` with properties read back from F&O,
 *   so the next `up` sees the difference, calls `update` and resumes.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isApiError } from "../core/errors.ts";
import { containsUnknown, oneLineError, partialFailure, withoutProvider } from "../core/provider.ts";
import { configureRuntime, type Runtime, runtime } from "../core/runtime.ts";
import { type ProviderImplementation, ShimResource } from "../core/shim.ts";
import { createFnoClient, type FnoClient } from "./client.ts";
import {
  type DeclaredRole,
  type FnoLiveState,
  type FnoOperation,
  FnoPlanError,
  type FnoRole,
  liveView,
  MAX_USER_ID_LENGTH,
  type ManagedRole,
  matchUser,
  normalizeLegalEntities,
  planDiff,
  planRemoval,
  planUser,
  resolveRoles,
} from "./plan.ts";
import { fno } from "./service.ts";

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

/** Resolved inputs as the provider receives them (after `check`). */
export interface FnoUserInputs {
  upn: string;
  objectId?: string;
  environment: string;
  userId: string;
  userName: string;
  company: string;
  enabled: boolean;
  roles: DeclaredRole[];
  onRemove?: "disable" | "delete";
}

/** Outputs: the inputs as applied plus what removal needs. */
export interface FnoUserOutputs extends FnoUserInputs {
  /** True when the record existed before we managed it. */
  adopted: boolean;
  /** Role identifiers we assigned, with their legal entities: what removal revokes. */
  managedRoles: ManagedRole[];
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
// Run state
// ---------------------------------------------------------------------------------------------

let configured: Promise<Runtime> | undefined;

/** The runtime, awaiting `configure` (which may race with other calls, reference/pulumi.md §1.2). */
function rt(): Promise<Runtime> {
  return configured ?? runtime();
}

function clientFor(r: Runtime, environment: string): FnoClient {
  return createFnoClient({
    environment,
    fno: r.client(fno, environment),
    appId: r.settings.credential.clientId,
  });
}

/**
 * `Promise.all` that waits for every request before failing, so no request outlives the
 * operation that started it (an orphan would keep retrying after the error was reported).
 */
async function settled<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The environment's role catalog: one bulk read per run. */
function loadRoles(r: Runtime, client: FnoClient): Promise<FnoRole[]> {
  return r.cached(`fno:${client.environment}:roles`, () => client.listRoles());
}

/**
 * Every user, role row and organization row of the environment: three bulk paged reads per run,
 * indexed by UserID (lower-case) so each `read` looks at its own rows only.
 */
function loadSnapshot(r: Runtime, client: FnoClient): Promise<Map<string, FnoLiveState>> {
  return r.cached(`fno:${client.environment}:snapshot`, async () => {
    const [users, assignments, organizations] = await settled([
      client.listUsers(),
      client.listUserRoles(),
      client.listUserRoleOrganizations(),
    ]);
    const byUser = new Map<string, { [K in keyof FnoLiveState]: FnoLiveState[K][number][] }>();
    const slot = (userId: string) => {
      const key = userId.toLowerCase();
      let entry = byUser.get(key);
      if (!entry) {
        entry = { users: [], assignments: [], organizations: [] };
        byUser.set(key, entry);
      }
      return entry;
    };
    for (const u of users) slot(u.userId).users.push(u);
    for (const a of assignments) slot(a.userId).assignments.push(a);
    for (const o of organizations) slot(o.userId).organizations.push(o);
    return byUser as Map<string, FnoLiveState>;
  });
}

const NO_ROWS: FnoLiveState = { users: [], assignments: [], organizations: [] };

/** UserIDs (lower-case, per environment) written in this process: the snapshot is stale for them. */
function written(r: Runtime): Promise<Set<string>> {
  return r.cached("fno:written", async () => new Set<string>());
}

const writtenKey = (environment: string, userId: string): string => `${environment}\n${userId.toLowerCase()}`;

/** One user's record and rows, read fresh: the record by Alias (or the given UserID), then its rows. */
async function readUser(client: FnoClient, upn: string, userId: string): Promise<FnoLiveState> {
  const users = await client.findUserByAlias(upn, userId);
  const record =
    matchUser({ upn, userId }, users).record ??
    users.find((u) => u.userId.toLowerCase() === userId.toLowerCase());
  if (!record) return { users, assignments: [], organizations: [] };
  const [assignments, organizations] = await settled([
    client.listUserRoles(record.userId),
    client.listUserRoleOrganizations(record.userId),
  ]);
  return { users, assignments, organizations };
}

/** Runs operations in order (the planner's order is a safety property). */
async function execute(client: FnoClient, operations: readonly FnoOperation[]): Promise<void> {
  for (const op of operations) {
    switch (op.kind) {
      case "createUser":
        await client.createUser(op.user);
        break;
      case "updateUser":
        await client.updateUser(op.userId, op.changes);
        break;
      case "deleteUser":
        await client.deleteUser(op.userId);
        break;
      case "assignRole":
        await client.assignRole(op.userId, op.roleId, op.roleName, op.enabled);
        break;
      case "enableRole":
        await client.enableRole(op.userId, op.roleId);
        break;
      case "removeRole":
        await client.removeRole(op.userId, op.roleId);
        break;
      case "addRoleOrganization":
        await client.addRoleOrganization(op.userId, op.roleId, op.organizationId);
        break;
      case "removeRoleOrganization":
        await client.removeRoleOrganization(op.userId, op.roleId, op.organizationId);
        break;
    }
  }
}

/** An error as one line naming the user and environment (plan errors keep one line per problem). */
function fail(inputs: { upn?: string; environment?: string }, e: unknown): Error {
  const where = `fno:User ${inputs.upn ?? "?"} in ${inputs.environment ?? "?"}`;
  const text = e instanceof FnoPlanError ? e.problems.join("; ") : oneLineError(e).message;
  const error = new Error(`${where}: ${text}`);
  error.stack = error.message;
  return error;
}

function sameManaged(a: readonly ManagedRole[], b: readonly ManagedRole[]): ManagedRole[] {
  const out = new Map<string, ManagedRole>();
  for (const m of [...a, ...b]) out.set(m.role.toLowerCase(), m);
  return [...out.values()].sort((x, y) => (x.role < y.role ? -1 : x.role > y.role ? 1 : 0));
}

/**
 * Outputs after a failure part-way: what F&O now holds (fields and roles), so `diff` reports the
 * remaining difference and the next run resumes. Falls back to "no roles" when even the read fails.
 */
async function partialOutputs(
  client: FnoClient,
  catalog: readonly FnoRole[],
  inputs: FnoUserInputs,
  userId: string,
  adopted: boolean,
  managedRoles: ManagedRole[],
): Promise<FnoUserOutputs> {
  try {
    const live = await readUser(client, inputs.upn, userId);
    const view = liveView(userId, live, catalog, inputs.roles);
    if (view) {
      return {
        ...inputs,
        userName: view.record.userName,
        company: view.record.company,
        enabled: view.record.enabled,
        roles: view.roles,
        adopted,
        managedRoles,
      };
    }
  } catch {
    // The original error is what the user needs; the outputs below still force an update.
  }
  return { ...inputs, roles: [], adopted, managedRoles };
}

/**
 * Brings F&O to `inputs`: read fresh, plan, execute. Returns the id and outputs; throws a
 * partial failure (with the id) when the user exists but a later operation failed.
 */
async function converge(
  inputs: FnoUserInputs,
  previous: { adopted?: boolean; managedRoles: ManagedRole[] },
): Promise<{ id: string; outs: FnoUserOutputs }> {
  const r = await rt();
  const client = clientFor(r, inputs.environment);
  const [catalog, live] = await settled([loadRoles(r, client), readUser(client, inputs.upn, inputs.userId)]);
  const plan = planUser(inputs, live, catalog);
  const adopted = previous.adopted ?? plan.adopted;
  const managedRoles = sameManaged(previous.managedRoles, plan.managedRoles);
  const marks = await written(r);
  let exists = plan.adopted;
  try {
    for (const op of plan.operations) {
      marks.add(writtenKey(inputs.environment, op.userId));
      await execute(client, [op]);
      if (op.kind === "createUser") exists = true;
    }
  } catch (e) {
    if (!exists) throw e;
    const outs = await partialOutputs(client, catalog, inputs, plan.userId, adopted, managedRoles);
    throw partialFailure(
      plan.userId,
      { ...outs },
      inputs as unknown as Record<string, unknown>,
      fail(inputs, e),
    );
  }
  return { id: plan.userId, outs: { ...inputs, adopted, managedRoles: plan.managedRoles } };
}

// ---------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------

const COMPANY = /^[A-Za-z0-9]{1,4}$/; // DataAreaId: up to 4 characters

function normalize(news: Record<string, unknown>): FnoUserInputs {
  const str = (v: unknown): string => (typeof v === "string" ? v.trim() : (v as string));
  const roles = Array.isArray(news.roles)
    ? (news.roles as { role?: unknown; legalEntities?: unknown }[]).map((r) => ({
        role: str(r?.role),
        legalEntities: Array.isArray(r?.legalEntities)
          ? containsUnknown(r.legalEntities)
            ? (r.legalEntities as string[])
            : normalizeLegalEntities(r.legalEntities as string[])
          : [],
      }))
    : (news.roles as DeclaredRole[]);
  if (Array.isArray(roles) && !containsUnknown(roles)) {
    roles.sort((a, b) =>
      a.role.toLowerCase() < b.role.toLowerCase() ? -1 : a.role.toLowerCase() > b.role.toLowerCase() ? 1 : 0,
    );
  }
  const out: FnoUserInputs = {
    upn: str(news.upn),
    environment: str(news.environment),
    userId: str(news.userId),
    userName: str(news.userName),
    company:
      typeof news.company === "string" && !containsUnknown(news.company)
        ? news.company.trim().toUpperCase()
        : (news.company as string),
    enabled: news.enabled === undefined ? true : (news.enabled as boolean),
    roles,
  };
  if (news.objectId !== undefined) out.objectId = str(news.objectId);
  if (news.onRemove !== undefined) out.onRemove = news.onRemove as "disable" | "delete";
  return out;
}

function validate(inputs: FnoUserInputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown) => !containsUnknown(v);
  const need = (property: string, ok: boolean, reason: string) => {
    if (!ok) failures.push({ property, reason });
  };
  if (known(inputs.upn)) {
    need(
      "upn",
      typeof inputs.upn === "string" && /^[^@\s]+@[^@\s]+$/.test(inputs.upn),
      `"${inputs.upn}" is not a UPN`,
    );
    // A guest's NetworkDomain must name its home tenant (reference §3.1), which we do not know.
    need(
      "upn",
      typeof inputs.upn !== "string" || !inputs.upn.toUpperCase().includes("#EXT#"),
      "guest (#EXT#) users are not supported for F&O: their provider must name their home tenant",
    );
  }
  if (known(inputs.environment))
    need("environment", typeof inputs.environment === "string" && inputs.environment !== "", "is required");
  if (known(inputs.userId)) {
    need(
      "userId",
      typeof inputs.userId === "string" &&
        inputs.userId.length >= 1 &&
        inputs.userId.length <= MAX_USER_ID_LENGTH,
      `must be 1 to ${MAX_USER_ID_LENGTH} characters (F&O stores UserID in 20)`,
    );
  }
  if (known(inputs.userName))
    need("userName", typeof inputs.userName === "string" && inputs.userName !== "", "is required");
  if (known(inputs.company)) {
    need(
      "company",
      typeof inputs.company === "string" && COMPANY.test(inputs.company),
      `"${inputs.company}" is not a legal entity code (1–4 letters or digits)`,
    );
  }
  if (known(inputs.enabled)) need("enabled", typeof inputs.enabled === "boolean", "must be true or false");
  if (inputs.onRemove !== undefined && known(inputs.onRemove)) {
    need(
      "onRemove",
      inputs.onRemove === "disable" || inputs.onRemove === "delete",
      'must be "disable" or "delete"',
    );
  }
  if (known(inputs.roles)) {
    if (!Array.isArray(inputs.roles)) {
      failures.push({ property: "roles", reason: "must be a list of {role, legalEntities}" });
    } else {
      inputs.roles.forEach((r, i) => {
        need(`roles[${i}].role`, typeof r.role === "string" && r.role !== "", "is required");
        r.legalEntities.forEach((le, j) => {
          need(`roles[${i}].legalEntities[${j}]`, COMPANY.test(le), `"${le}" is not a legal entity code`);
        });
      });
    }
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

/** The provider the engine's provider process calls through the shim. */
export const provider: ProviderImplementation<FnoUserInputs, FnoUserOutputs> = {
  async configure(req) {
    configured = Promise.resolve().then(() => configureRuntime(req.config));
    configured.catch(() => undefined); // reported by the first method that awaits it
    await configured;
  },

  async check(_olds, news) {
    const inputs = normalize(withoutProvider(news as unknown as Record<string, unknown>));
    const failures = validate(inputs);
    // Resolve role names now, so an unknown or ambiguous role fails in preview, before any write.
    // Skipped when the provider is not configured or the environment is unreachable: create
    // resolves again and reports the same problems.
    if (
      failures.length === 0 &&
      !containsUnknown(inputs.roles) &&
      !containsUnknown(inputs.environment) &&
      configured
    ) {
      try {
        const r = await configured;
        const catalog = await loadRoles(r, clientFor(r, inputs.environment));
        for (const problem of resolveRoles(inputs.roles, catalog).problems)
          failures.push({ property: "roles", reason: problem });
      } catch (e) {
        if (!isApiError(e) && !(e instanceof Error && e.name === "SettingsError")) throw e;
      }
    }
    return { inputs, failures };
  },

  async diff(_id, olds, news) {
    // Preview may send unknown values (e.g. a name computed from another resource): say "changes"
    // rather than guess; identity fields come from users.yaml and are always known.
    const unknown = (["userName", "company", "enabled", "roles", "onRemove"] as const).filter((k) =>
      containsUnknown(news[k]),
    );
    if (unknown.length > 0) return { changes: true, replaces: [], deleteBeforeReplace: false };
    // State written by an older version may lack a field: treat it as empty, never crash.
    const result = planDiff({ ...olds, roles: olds.roles ?? [] }, news);
    return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    try {
      return await converge(inputs, { managedRoles: [] });
    } catch (e) {
      throw (e as { id?: string }).id !== undefined ? e : fail(inputs, e);
    }
  },

  async update(_id, olds, news) {
    try {
      const { outs } = await converge(news, { adopted: olds.adopted, managedRoles: olds.managedRoles ?? [] });
      return { outs };
    } catch (e) {
      throw (e as { id?: string }).id !== undefined ? e : fail(news, e);
    }
  },

  async read(id, props) {
    const previous = props as FnoUserOutputs;
    try {
      const r = await rt();
      const client = clientFor(r, previous.environment);
      const [catalog, marks] = await settled([loadRoles(r, client), written(r)]);
      const live = marks.has(writtenKey(previous.environment, id))
        ? await readUser(client, previous.upn, id)
        : ((await loadSnapshot(r, client)).get(id.toLowerCase()) ?? NO_ROWS);
      const view = liveView(id, live, catalog, previous.roles ?? []);
      if (!view) return { id: "", props: {} as FnoUserOutputs }; // gone from F&O: refresh drops it
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
    } catch (e) {
      throw fail(previous, e);
    }
  },

  async delete(id, props) {
    try {
      const r = await rt();
      const client = clientFor(r, props.environment);
      const [record, assignments, organizations] = await settled([
        client.getUser(id),
        client.listUserRoles(id),
        client.listUserRoleOrganizations(id),
      ]);
      const live: FnoLiveState = { users: record ? [record] : [], assignments, organizations };
      const ops = planRemoval(id, live, props.managedRoles ?? [], props.onRemove ?? "disable");
      (await written(r)).add(writtenKey(props.environment, id));
      await execute(client, ops);
    } catch (e) {
      throw fail(props, e);
    }
  },
};
