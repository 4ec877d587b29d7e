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
import { containsUnknown, oneLineError, partialFailure } from "../core/provider.ts";
import { configureRuntime, type Runtime, runtime, waitFor } from "../core/runtime.ts";
import { type ProviderImplementation, ShimResource } from "../core/shim.ts";
import { createEntraClient, type EntraClient } from "./client.ts";
import { fromLicenses, type Sku, skuIdsOf, toSku, toUserSnapshot, type UserDto } from "./dto.ts";
import {
  checkSeats,
  type LicenseAssignment,
  normalizeLicenses,
  planUserChanges,
  sameUpn,
  seatDemand,
  type UserSnapshot,
} from "./plan.ts";
import { graph } from "./service.ts";

/** Resource inputs (model contract: names, not GUIDs). */
export interface EntraUserInputs {
  upn: string;
  displayName: string;
  /** ISO 3166-1 alpha-2; required when any license is declared. */
  usageLocation: string;
  enabled: boolean;
  manage: "adopt" | "create";
  onRemove: "disable" | "delete";
  licenses: LicenseAssignment[];
}

/** Resource outputs: the inputs as last applied, plus what removal needs. */
export interface EntraUserOutputs extends EntraUserInputs {
  objectId: string;
  /** The user existed before this resource managed it. */
  adopted: boolean;
  /** SKU part numbers this resource assigned directly: what removal revokes. */
  managedLicenses: string[];
  /** Only for users we created: the random initial password (a Pulumi secret). */
  initialPassword?: string;
}

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
        enabled: true,
        manage: "adopt",
        onRemove: "disable",
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
// Run-wide state (per provider process, through the runtime's caches)
// ---------------------------------------------------------------------------------------------

const SKUS = "entra:skus";
const USERS = "entra:users";
const RESERVED = "entra:seats-reserved";

function client(rt: Runtime): EntraClient {
  return createEntraClient(rt.client(graph));
}

/** The tenant's SKUs, read once per run. */
function skus(rt: Runtime): Promise<Sku[]> {
  return rt.cached(SKUS, async () => (await client(rt).listSubscribedSkus()).map(toSku));
}

/** Seats consumed or freed by this process since the SKUs were read (part number → delta). */
function reservations(rt: Runtime): Promise<Map<string, number>> {
  return rt.cached(RESERVED, async () => new Map<string, number>());
}

/** All users by lower-cased object id, read once per run (refresh: one request per 999 users). */
function usersById(rt: Runtime): Promise<Map<string, UserDto>> {
  return rt.cached(
    USERS,
    async () => new Map((await client(rt).listUsers()).map((u) => [u.id.toLowerCase(), u])),
  );
}

/**
 * Checks seats for `demand` against the SKUs read this run minus what this process already
 * consumed, and reserves them synchronously (no await in between) so concurrent creates in the
 * same process cannot both take the last seat. Returns a release function for failures.
 */
async function reserveSeats(rt: Runtime, demand: Record<string, number>): Promise<() => void> {
  const [tenantSkus, reserved] = await Promise.all([skus(rt), reservations(rt)]);
  const adjusted = tenantSkus.map((s) => ({
    partNumber: s.partNumber,
    enabled: s.enabled,
    consumed: s.consumed + (reserved.get(s.partNumber) ?? 0),
  }));
  const shortages = checkSeats(demand, adjusted);
  if (shortages.length > 0) throw new Error(shortages.map((s) => s.message).join("; "));
  const taken = Object.entries(demand).map(
    ([sku, n]) =>
      [
        tenantSkus.find((s) => s.partNumber.toLowerCase() === sku.toLowerCase())?.partNumber ?? sku,
        n,
      ] as const,
  );
  for (const [sku, n] of taken) reserved.set(sku, (reserved.get(sku) ?? 0) + n);
  return () => {
    for (const [sku, n] of taken) reserved.set(sku, (reserved.get(sku) ?? 0) - n);
  };
}

async function freeSeats(rt: Runtime, partNumbers: string[]): Promise<void> {
  const reserved = await reservations(rt);
  for (const p of partNumbers) reserved.set(p, (reserved.get(p) ?? 0) - 1);
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

/** The mail nickname Graph requires at creation: the UPN's local part, reduced to allowed characters. */
export function mailNicknameOf(upn: string): string {
  const local = upn.split("@")[0] ?? upn;
  return local.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "user";
}

function snapshotOfOutputs(o: EntraUserOutputs): UserSnapshot {
  return {
    upn: o.upn,
    displayName: o.displayName,
    usageLocation: o.usageLocation || undefined,
    enabled: o.enabled,
    directLicenses: o.licenses ?? [],
    inheritedSkus: [],
  };
}

function lowerSet(values: string[]): Set<string> {
  return new Set(values.map((v) => v.toLowerCase()));
}

/**
 * Licenses this resource owns after applying `desired` to a user whose direct licenses
 * before were `before`: a created user owns all declared ones; an adopted user owns what it
 * owned and still declares, plus what we added now.
 */
function ownedLicenses(
  adopted: boolean,
  desired: LicenseAssignment[],
  before: LicenseAssignment[],
  previouslyOwned: string[],
): string[] {
  const declared = desired.map((l) => l.sku);
  if (!adopted) return [...declared].sort();
  const hadBefore = lowerSet(before.map((l) => l.sku));
  const owned = lowerSet(previouslyOwned);
  return declared.filter((sku) => owned.has(sku.toLowerCase()) || !hadBefore.has(sku.toLowerCase())).sort();
}

/**
 * Applies a plan to an existing user: seats first (before any write), then properties, then
 * licenses. `justCreated` tolerates Graph's replication lag (assignLicense may 404 right after
 * a create: reference/graph.md §1.5).
 */
async function apply(
  rt: Runtime,
  objectId: string,
  desired: EntraUserInputs,
  actual: UserSnapshot,
  justCreated: boolean,
  release?: () => void,
): Promise<void> {
  const graph = client(rt);
  const changes = planUserChanges(desired, actual);
  const releaseSeats = release ?? (await reserveSeats(rt, seatDemand(changes.licenses, actual)));
  try {
    if (!justCreated && Object.keys(changes.properties).length > 0)
      await graph.updateUser(objectId, changes.properties);
    if (changes.licenses.add.length > 0 || changes.licenses.remove.length > 0) {
      const tenantSkus = await skus(rt);
      const body = {
        addLicenses: fromLicenses(changes.licenses.add, tenantSkus),
        removeLicenses: skuIdsOf(changes.licenses.remove, tenantSkus),
      };
      const assign = () => graph.assignLicense(objectId, body);
      if (justCreated) {
        await waitFor(
          {
            name: `Entra user ${desired.upn} visible to assignLicense`,
            timeoutMs: 60_000,
            attempts: 8,
            retryOn: ["NotFound"],
          },
          assign,
        );
      } else await assign();
      await freeSeats(rt, changes.licenses.remove);
    }
  } catch (e) {
    releaseSeats();
    throw e;
  } finally {
    rt.invalidate(USERS);
  }
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

// ---------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------

type Failure = { property: string; reason: string };

/** Validates and normalizes inputs (pure; exported for tests). */
export function checkInputs(news: Record<string, unknown>): { inputs: EntraUserInputs; failures: Failure[] } {
  const failures: Failure[] = [];
  const known = (v: unknown) => !containsUnknown(v);
  const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const upn = str(news.upn);
  if (known(news.upn) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(upn)) {
    failures.push({
      property: "upn",
      reason: `"${String(news.upn ?? "")}" is not a user principal name (alias@domain)`,
    });
  }
  const displayName = str(news.displayName);
  if (known(news.displayName) && !displayName)
    failures.push({ property: "displayName", reason: "displayName is required" });
  const usageLocation = str(news.usageLocation).toUpperCase();
  if (known(news.usageLocation) && usageLocation && !/^[A-Z]{2}$/.test(usageLocation)) {
    failures.push({
      property: "usageLocation",
      reason: `"${usageLocation}" is not an ISO 3166-1 alpha-2 country code`,
    });
  }
  const enabled = news.enabled === undefined ? true : news.enabled;
  if (known(enabled) && typeof enabled !== "boolean")
    failures.push({ property: "enabled", reason: "enabled must be true or false" });
  const manage = news.manage ?? "adopt";
  if (known(manage) && manage !== "adopt" && manage !== "create")
    failures.push({ property: "manage", reason: 'manage must be "adopt" or "create"' });
  const onRemove = news.onRemove ?? "disable";
  if (known(onRemove) && onRemove !== "disable" && onRemove !== "delete") {
    failures.push({ property: "onRemove", reason: 'onRemove must be "disable" or "delete"' });
  }
  if (manage === "adopt" && onRemove === "delete") {
    failures.push({
      property: "onRemove",
      reason:
        "onRemove: delete applies only to users d365-access creates (manage: create); an adopted user is left as found",
    });
  }
  const rawLicenses = news.licenses ?? [];
  const licenses: LicenseAssignment[] = [];
  if (known(rawLicenses)) {
    if (!Array.isArray(rawLicenses))
      failures.push({ property: "licenses", reason: "licenses must be a list" });
    else {
      const seen = new Set<string>();
      rawLicenses.forEach((l: unknown, i) => {
        const sku = str((l as { sku?: unknown })?.sku);
        const plans = (l as { disabledPlans?: unknown })?.disabledPlans ?? [];
        if (!sku)
          failures.push({
            property: `licenses[${i}].sku`,
            reason: "sku (a SKU part number such as DYN365_FINANCE) is required",
          });
        else if (seen.has(sku.toLowerCase()))
          failures.push({ property: `licenses[${i}].sku`, reason: `license ${sku} is declared twice` });
        seen.add(sku.toLowerCase());
        if (!Array.isArray(plans) || plans.some((p) => typeof p !== "string" || !p.trim())) {
          failures.push({
            property: `licenses[${i}].disabledPlans`,
            reason: "disabledPlans must be a list of service plan names",
          });
        } else licenses.push({ sku, disabledPlans: plans.map((p: string) => p.trim()) });
      });
      if (licenses.length > 0 && known(news.usageLocation) && !usageLocation) {
        failures.push({
          property: "usageLocation",
          reason:
            "usageLocation is required when licenses are declared (Graph refuses license assignment without it)",
        });
      }
    }
  }
  const inputs: EntraUserInputs = {
    upn: known(news.upn) ? upn : (news.upn as string),
    displayName: known(news.displayName) ? displayName : (news.displayName as string),
    usageLocation: known(news.usageLocation) ? usageLocation : (news.usageLocation as string),
    enabled: enabled as boolean,
    manage: manage as EntraUserInputs["manage"],
    onRemove: onRemove as EntraUserInputs["onRemove"],
    licenses: known(rawLicenses) ? normalizeLicenses(licenses) : (rawLicenses as LicenseAssignment[]),
  };
  return { inputs, failures };
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

async function createOrAdopt(inputs: EntraUserInputs & Record<string, unknown>) {
  const rt = await runtime();
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
    try {
      await apply(rt, user.id, inputs, actual, false);
    } catch (e) {
      throw partialFailure(
        user.id,
        { ...(await partialOutputs(rt, inputs, user.id, true, actual, [])) },
        inputs,
        e,
      );
    }
    return {
      id: user.id,
      outs: outputsOf(inputs, user.id, true, ownedLicenses(true, inputs.licenses, actual.directLicenses, [])),
    };
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
  const release = await reserveSeats(rt, seatDemand(planUserChanges(inputs, empty).licenses, empty));
  const password = randomPassword();
  try {
    user = await graph.createUser({
      accountEnabled: inputs.enabled,
      displayName: inputs.displayName,
      mailNickname: mailNicknameOf(inputs.upn),
      userPrincipalName: inputs.upn,
      ...(inputs.usageLocation ? { usageLocation: inputs.usageLocation } : {}),
      passwordProfile: { forceChangePasswordNextSignIn: true, password },
    });
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
      return createOrAdopt({ ...inputs, manage: "adopt" });
    }
  }
  const created = user as UserDto;
  rt.invalidate(USERS);
  try {
    await apply(rt, created.id, inputs, empty, true, release);
  } catch (e) {
    throw partialFailure(
      created.id,
      { ...(await partialOutputs(rt, inputs, created.id, false, empty, [], password)) },
      inputs,
      e,
    );
  }
  return {
    id: created.id,
    outs: outputsOf(inputs, created.id, false, ownedLicenses(false, inputs.licenses, [], []), password),
  };
}

/** The dynamic provider (all seven methods; reference/pulumi.md §1.3). */
export const provider: ProviderImplementation<EntraUserInputs, EntraUserOutputs> = {
  async configure(req) {
    configureRuntime(req.config);
  },

  async check(_olds, news) {
    const { inputs, failures } = checkInputs(news as unknown as Record<string, unknown>);
    return failures.length > 0 ? { inputs, failures } : { inputs };
  },

  async diff(_id, olds, news) {
    if (!sameUpn(olds.upn, news.upn)) return { changes: true, replaces: ["upn"] };
    const plan = planUserChanges(news, snapshotOfOutputs(olds));
    const settings = olds.manage !== news.manage || olds.onRemove !== news.onRemove;
    return { changes: plan.changed || settings };
  },

  async create(inputs) {
    try {
      return await createOrAdopt(inputs as EntraUserInputs & Record<string, unknown>);
    } catch (e) {
      if ((e as { id?: string }).id) throw e;
      throw oneLineError(e);
    }
  },

  async read(id, props) {
    try {
      const rt = await runtime();
      const [users, tenantSkus] = await Promise.all([usersById(rt), skus(rt)]);
      // A user missing from the run's bulk read may have been created after it: confirm singly
      // before reporting it deleted.
      const user = users.get(id.toLowerCase()) ?? (await client(rt).getUserById(id));
      if (!user) return { id: "" };
      const actual = toUserSnapshot(user, tenantSkus);
      const previous = props as EntraUserOutputs;
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
    } catch (e) {
      throw oneLineError(e);
    }
  },

  async update(id, olds, news) {
    try {
      const rt = await runtime();
      const graph = client(rt);
      const user = await graph.getUserById(id);
      if (!user)
        throw new Error(
          `Entra user ${olds.upn} (${id}) no longer exists: run refresh so it is created or adopted again`,
        );
      const tenantSkus = await skus(rt);
      fromLicenses(news.licenses, tenantSkus);
      const actual = toUserSnapshot(user, tenantSkus);
      const owned = ownedLicenses(
        olds.adopted,
        news.licenses,
        actual.directLicenses,
        olds.managedLicenses ?? [],
      );
      try {
        await apply(rt, id, news, actual, false);
      } catch (e) {
        const outs = await partialOutputs(
          rt,
          news,
          id,
          olds.adopted,
          actual,
          olds.managedLicenses ?? [],
          olds.initialPassword,
        );
        throw partialFailure(id, { ...outs }, news as unknown as Record<string, unknown>, e);
      }
      return {
        outs: {
          ...outputsOf(news, id, olds.adopted, owned),
          ...(olds.initialPassword ? { initialPassword: olds.initialPassword } : {}),
        },
      };
    } catch (e) {
      if ((e as { id?: string }).id) throw e;
      throw oneLineError(e);
    }
  },

  async delete(id, props) {
    try {
      const rt = await runtime();
      const graph = client(rt);
      const user = await graph.getUserById(id);
      if (!user) return; // already gone: done
      const tenantSkus = await skus(rt);
      const actual = toUserSnapshot(user, tenantSkus);
      const granted = lowerSet(props.managedLicenses ?? []);
      const revoke = actual.directLicenses.map((l) => l.sku).filter((s) => granted.has(s.toLowerCase()));
      if (revoke.length > 0) {
        await graph.assignLicense(id, { addLicenses: [], removeLicenses: skuIdsOf(revoke, tenantSkus) });
        await freeSeats(rt, revoke);
      }
      if (!props.adopted) {
        if (props.onRemove === "delete") await graph.deleteUser(id);
        else if (actual.enabled) await graph.updateUser(id, { accountEnabled: false });
      }
      rt.invalidate(USERS);
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw oneLineError(e);
    }
  },
};
