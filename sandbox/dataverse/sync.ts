/**
 * The background process that copies Entra users into Dataverse `systemusers`, and the
 * on-demand adds (PP `addUser`, role association through the alternate key) that share its rules.
 *
 * Rules (reference /work/shared/reference/dataverse.md §8.1, §10; Microsoft Learn
 * https://learn.microsoft.com/power-platform/admin/create-users and
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/power-platform/authentication-and-authorization):
 * - eligible = enabled in Entra, not deleted, holding a license with a Dataverse service plan
 *   (direct or group-inherited, not listed in `disabledPlans`);
 * - an eligible user appears in the environment's root business unit after the configured delay;
 *   users licensed for finance and operations in an F&O-linked environment get
 *   "Finance and Operations Basic User" and "Environment Maker" when created;
 * - a user who stops being eligible (disabled, unlicensed or deleted in Entra) keeps the row,
 *   disabled, after the same delay; one who becomes eligible again is re-enabled;
 * - synced fields are UPN, names and `internalemailaddress` (from `mail`); `fullname` is not updated.
 *
 * Time is the injected clock: each Entra user's eligibility is observed (on every Dataverse or
 * PP request and by the background timer) and the change applies `syncDelaySeconds` after the
 * observation, so a 0 s delay is instant and an N s delay is exact to the observation tick.
 */

import { stableGuid } from "../core/ids.ts";
import type { EntraState, EntraUser, ServiceContext } from "../core/types.ts";
import type { DataverseEnvironmentState, SystemUserRow } from "./state.ts";

/**
 * Service plans that carry Dataverse ("Common Data Service") use rights, by servicePlanName.
 * Names from reference graph.md §4 (licensing service plan reference): the `DYN365_CDS_*` plans
 * of the F&O SKUs and the Power Apps for Dynamics 365 plans. Any other `DYN365_CDS_` plan counts too.
 * The Operations – Activity SKU lists none, so Activity-only users are not synced (UNCONFIRMED).
 */
export const DATAVERSE_SERVICE_PLANS: readonly string[] = [
  "DYN365_CDS_FINANCE",
  "DYN365_CDS_SUPPLYCHAINMANAGEMENT",
  "POWERAPPS_DYN_APPS",
  "POWERAPPS_DYN_TEAM",
];

/** Plans that make a user "licensed for finance and operations" (reference graph.md §4). */
export const FINANCE_AND_OPERATIONS_SERVICE_PLANS: readonly string[] = [
  "D365_Finance",
  "D365_Finance_Attach",
  "D365_SCM",
  "DYN365_CDS_FINANCE",
  "DYN365_CDS_SUPPLYCHAINMANAGEMENT",
  "Dynamics_365_for_Operations_Team_members",
];

/** Roles the service assigns to users it creates in an F&O-linked environment (reference §10). */
export const AUTO_ASSIGNED_ROLES: readonly string[] = [
  "Finance and Operations Basic User",
  "Environment Maker",
];

/**
 * The servicePlanNames a user holds through direct and group licenses, minus disabled plans. A
 * group licence in error for the user (e.g. `CountViolation`) is not held.
 */
export function effectiveServicePlans(user: EntraUser, entra: EntraState): Set<string> {
  const assignments = [...user.assignedLicenses];
  for (const group of entra.groups) {
    if (user.memberOf.includes(group.id) && !user.groupLicenseErrors?.[group.id])
      assignments.push(...group.assignedLicenses);
  }
  const plans = new Set<string>();
  for (const a of assignments) {
    const sku = entra.skus.find((s) => s.skuId === a.skuId);
    if (!sku) continue;
    for (const p of sku.servicePlans) {
      if (!a.disabledPlans.includes(p.servicePlanId)) plans.add(p.servicePlanName);
    }
  }
  return plans;
}

/**
 * The free Dataverse plans of Microsoft 365 licences (`DYN365_CDS_O365_P1..P3`, `CDS_O365_P*`):
 * they count for on-demand adds only, never for the background sync
 * (https://learn.microsoft.com/power-platform/admin/create-users, "free Dataverse plans").
 */
function isFreeMicrosoft365Plan(name: string): boolean {
  return /^(DYN365_)?CDS_O365_/.test(name);
}

/**
 * How a user is being added: by the background sync, or on demand (admin center, `addUser`,
 * first access or JIT), which also accepts the free Microsoft 365 Dataverse plans.
 */
export type AddMode = "background" | "onDemand";

/** Whether a plan name grants Dataverse use rights for `mode`. */
function isDataversePlan(name: string, mode: AddMode): boolean {
  if (isFreeMicrosoft365Plan(name)) return mode === "onDemand";
  return DATAVERSE_SERVICE_PLANS.includes(name) || name.startsWith("DYN365_CDS_");
}

/** For each SKU and group, the Dataverse plan ids each add mode accepts: built once per evaluation. */
interface LicenseIndex {
  skus: Map<string, Record<AddMode, string[]>>;
  groups: Map<string, { skuId: string; disabledPlans: string[] }[]>;
}

function licenseIndex(entra: EntraState): LicenseIndex {
  const skus = new Map<string, Record<AddMode, string[]>>();
  for (const sku of entra.skus) {
    const of = (mode: AddMode) =>
      sku.servicePlans.filter((p) => isDataversePlan(p.servicePlanName, mode)).map((p) => p.servicePlanId);
    skus.set(sku.skuId.toLowerCase(), { background: of("background"), onDemand: of("onDemand") });
  }
  const groups = new Map(entra.groups.map((g) => [g.id, g.assignedLicenses]));
  return { skus, groups };
}

function holdsDataversePlan(user: EntraUser, index: LicenseIndex, mode: AddMode): boolean {
  const grants = (l: { skuId: string; disabledPlans: string[] }) =>
    (index.skus.get(l.skuId.toLowerCase())?.[mode] ?? []).some((id) => !l.disabledPlans.includes(id));
  if (user.assignedLicenses.some(grants)) return true;
  for (const groupId of user.memberOf) {
    if (user.groupLicenseErrors?.[groupId]) continue;
    if ((index.groups.get(groupId) ?? []).some(grants)) return true;
  }
  return false;
}

/** Whether an Entra user holds a license with a Dataverse service plan. */
export function hasDataverseLicense(
  user: EntraUser,
  entra: EntraState,
  mode: AddMode = "background",
  index: LicenseIndex = licenseIndex(entra),
): boolean {
  return holdsDataversePlan(user, index, mode);
}

/** Whether the background sync (or, with `onDemand`, an on-demand add) would put this user into Dataverse. */
export function isEligibleForDataverse(
  user: EntraUser,
  entra: EntraState,
  mode: AddMode = "background",
  index: LicenseIndex = licenseIndex(entra),
): boolean {
  return user.accountEnabled && holdsDataversePlan(user, index, mode);
}

function nameParts(user: EntraUser): { firstname: string | null; lastname: string } {
  // Entra givenName/surname when the slice has them; else split the display name.
  const named = user as EntraUser & { givenName?: string | null; surname?: string | null };
  if (named.givenName || named.surname) {
    return { firstname: named.givenName ?? null, lastname: named.surname ?? named.displayName };
  }
  const i = user.displayName.lastIndexOf(" ");
  return i < 0
    ? { firstname: null, lastname: user.displayName }
    : { firstname: user.displayName.slice(0, i), lastname: user.displayName.slice(i + 1) };
}

/** The root business unit (the one without a parent). */
export function rootBusinessUnitId(env: DataverseEnvironmentState): string {
  const root = env.businessUnits.find((b) => b.parentbusinessunitid === null);
  if (!root) throw new Error("Dataverse environment without a root business unit");
  return root.businessunitid;
}

/**
 * Creates the row of an eligible Entra user (or re-enables and refreshes an existing one).
 * Returns the row. Used by the background sync, `addUser` and JIT creation by role association.
 */
export function provisionSystemUser(
  env: DataverseEnvironmentState,
  user: EntraUser,
  entra: EntraState,
  nowMs: number,
  rowsByOid?: Map<string, SystemUserRow>,
): SystemUserRow {
  const now = new Date(nowMs).toISOString();
  const plans = effectiveServicePlans(user, entra);
  const existing = rowsByOid
    ? rowsByOid.get(user.id)
    : env.systemUsers.find((u) => u.azureactivedirectoryobjectid === user.id && u.applicationid === null);
  const { firstname, lastname } = nameParts(user);
  if (existing) {
    existing.isdisabled = false;
    existing.islicensed = true;
    existing.domainname = user.userPrincipalName;
    existing.windowsliveid = user.userPrincipalName;
    existing.internalemailaddress = user.mail;
    existing.firstname = firstname;
    existing.lastname = lastname;
    existing.versionnumber = env.nextVersion++;
    existing.modifiedon = now;
    return existing;
  }
  const root = rootBusinessUnitId(env);
  const foLicensed = [...plans].some((p) => FINANCE_AND_OPERATIONS_SERVICE_PLANS.includes(p));
  const roleids =
    env.linkedToFinanceAndOperations && foLicensed
      ? env.roles
          .filter((r) => r.businessunitid === root && AUTO_ASSIGNED_ROLES.includes(r.name))
          .map((r) => r.roleid)
      : [];
  const row: SystemUserRow = {
    systemuserid: stableGuid(env.organizationId, "systemuser", user.id),
    azureactivedirectoryobjectid: user.id,
    domainname: user.userPrincipalName,
    internalemailaddress: user.mail,
    windowsliveid: user.userPrincipalName,
    fullname: user.displayName,
    firstname,
    lastname,
    isdisabled: false,
    islicensed: true,
    accessmode: 0,
    // 7 as in the TF fixture of a synced, licensed user (meaning of the value UNCONFIRMED).
    caltype: 7,
    applicationid: null,
    businessunitid: root,
    setupuser: false,
    issyncwithdirectory: true,
    deletedstate: 0,
    versionnumber: env.nextVersion++,
    createdon: now,
    modifiedon: now,
    roleids,
  };
  env.systemUsers.push(row);
  return row;
}

function disableSystemUser(
  env: DataverseEnvironmentState,
  row: SystemUserRow,
  licensed: boolean,
  nowMs: number,
): void {
  row.isdisabled = true;
  row.islicensed = licensed;
  row.versionnumber = env.nextVersion++;
  row.modifiedon = new Date(nowMs).toISOString();
}

/**
 * When a user's eligibility changed, as exactly as the Entra slice tells: Graph stamps license
 * assignments (`licenseTimestamps`), so a stamp since the previous evaluation is the moment the
 * user became licensed; other changes (account enabled, removals) count from this observation.
 */
function changedAt(user: EntraUser, previous: number | undefined, now: number): number {
  if (previous === undefined) return now;
  let latest: number | undefined;
  for (const stamp of Object.values(user.licenseTimestamps ?? {})) {
    const t = Date.parse(stamp);
    // `>=`: a stamp in the same ms as the previous evaluation came after it, or that evaluation
    // would have seen the user eligible already and nothing would have changed now.
    if (t >= previous && t <= now && (latest === undefined || t > latest)) latest = t;
  }
  return latest ?? now;
}

/**
 * One evaluation of the sync for every environment. Mutates the state and calls `ctx.changed()`
 * when anything changed. Linear in users; it runs on every request, but is skipped while the
 * state has not changed since the last evaluation and no delayed change has fallen due.
 */
export function runDataverseSync(ctx: ServiceContext): void {
  const entra = ctx.state.entra;
  const now = ctx.now();
  const delayMs = Math.max(0, ctx.faults.syncDelaySeconds) * 1000;
  const last = lastEvaluation.get(ctx.state);
  const revision = ctx.revision?.();
  if (
    last &&
    revision !== undefined &&
    last.revision === revision &&
    last.delayMs === delayMs &&
    now < last.nextDueMs
  )
    return;
  let changed = false;
  let nextDueMs = Number.POSITIVE_INFINITY;
  const pending = (at: number) => {
    if (at < nextDueMs) nextDueMs = at;
  };
  // Eligibility does not depend on the environment: compute it once per evaluation (O(users)).
  // `eligible`: the background sync adds the user; `keepable`: an on-demand add would, and the
  // background sync leaves an existing row enabled.
  const eligibility = new Map<string, { eligible: boolean; keepable: boolean }>();
  const index = licenseIndex(entra);
  for (const user of entra.users) {
    const eligible = isEligibleForDataverse(user, entra, "background", index);
    eligibility.set(user.id, {
      eligible,
      keepable: eligible || isEligibleForDataverse(user, entra, "onDemand", index),
    });
  }
  for (const env of Object.values(ctx.state.dataverse)) {
    // Application users carry their service principal's object id (owned by the Entra slice).
    for (const row of env.systemUsers) {
      if (row.applicationid && !row.azureactivedirectoryobjectid) {
        const app = entra.apps.find((a) => a.appId === row.applicationid);
        if (app) {
          row.azureactivedirectoryobjectid = app.servicePrincipalId;
          changed = true;
        }
      }
    }
    const initial = !env.sync.initialSyncDone;
    const rowsByOid = new Map<string, SystemUserRow>();
    for (const row of env.systemUsers) {
      if (row.azureactivedirectoryobjectid && row.applicationid === null)
        rowsByOid.set(row.azureactivedirectoryobjectid, row);
    }
    const seen = new Set<string>();
    for (const user of entra.users) {
      seen.add(user.id);
      const { eligible, keepable } = eligibility.get(user.id) ?? { eligible: false, keepable: false };
      let obs = env.sync.observations[user.id];
      if (!obs || obs.eligible !== eligible || (obs.keepable ?? obs.eligible) !== keepable) {
        // At environment creation every eligible user is added at once (environment creation
        // adds all licensed users). (0, not -Infinity: the state is persisted as JSON.)
        obs = {
          eligible,
          keepable,
          since: initial ? 0 : changedAt(user, env.sync.lastEvaluatedAt, now),
          forcedAt: obs?.forcedAt,
        };
        if (obs.forcedAt === undefined) delete obs.forcedAt;
        env.sync.observations[user.id] = obs;
        changed = true;
      }
      const row = rowsByOid.get(user.id);
      // The background sync adds eligible users; an on-demand add also the others it accepts,
      // counted from the request.
      const addAt = eligible
        ? Math.min(obs.since, obs.forcedAt ?? Number.POSITIVE_INFINITY) + delayMs
        : obs.forcedAt !== undefined && keepable
          ? obs.forcedAt + delayMs
          : Number.POSITIVE_INFINITY;
      if ((eligible || keepable) && (!row || row.isdisabled)) {
        if (addAt <= now) {
          rowsByOid.set(user.id, provisionSystemUser(env, user, entra, now, rowsByOid));
          delete obs.forcedAt;
          changed = true;
        } else pending(addAt);
      } else if (!keepable && row && !row.isdisabled) {
        if (obs.since + delayMs <= now) {
          disableSystemUser(env, row, hasDataverseLicense(user, entra, "background", index), now);
          changed = true;
        } else pending(obs.since + delayMs);
      }
    }
    // Users deleted in Entra: their rows become disabled (reference §8.5 step 2).
    for (const row of env.systemUsers) {
      const oid = row.azureactivedirectoryobjectid;
      if (!oid || row.applicationid !== null || seen.has(oid)) continue;
      let obs = env.sync.observations[oid];
      if (!obs || obs.eligible) {
        obs = { eligible: false, since: now };
        env.sync.observations[oid] = obs;
        changed = true;
      }
      if (!row.isdisabled) {
        if (obs.since + delayMs <= now) {
          disableSystemUser(env, row, false, now);
          changed = true;
        } else pending(obs.since + delayMs);
      }
    }
    if (initial) {
      env.sync.initialSyncDone = true;
      changed = true;
    }
    env.sync.lastEvaluatedAt = now;
  }
  if (changed) ctx.changed();
  const after = ctx.revision?.();
  if (after !== undefined) lastEvaluation.set(ctx.state, { revision: after, delayMs, nextDueMs });
}

/** Per state: the store revision of the last evaluation, and when its next delayed change falls due. */
const lastEvaluation = new WeakMap<object, { revision: number; delayMs: number; nextDueMs: number }>();

/**
 * An on-demand sync of one user into one environment (PP `addUser`): the row appears after the
 * configured delay counted from now (or earlier if the background sync was already due).
 */
export function requestUserSync(ctx: ServiceContext, environment: string, objectId: string): void {
  const env = ctx.state.dataverse[environment];
  if (!env) return;
  const obs = env.sync.observations[objectId];
  const now = ctx.now();
  if (obs) obs.forcedAt = now;
  else env.sync.observations[objectId] = { eligible: false, since: now, forcedAt: now };
  ctx.changed();
  runDataverseSync(ctx);
}
