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
import type { EntraState, EntraUser, ServiceContext } from "../core/types.ts";
import { stableGuid } from "./ids.ts";
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

/** The servicePlanNames a user holds through direct and group licenses, minus disabled plans. */
export function effectiveServicePlans(user: EntraUser, entra: EntraState): Set<string> {
  const assignments = [...user.assignedLicenses];
  for (const group of entra.groups) {
    if (user.memberOf.includes(group.id)) assignments.push(...group.assignedLicenses);
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

/** Whether a plan name grants Dataverse use rights. */
function isDataversePlan(name: string): boolean {
  return DATAVERSE_SERVICE_PLANS.includes(name) || name.startsWith("DYN365_CDS_");
}

/** Whether an Entra user holds a license with a Dataverse service plan. */
export function hasDataverseLicense(user: EntraUser, entra: EntraState): boolean {
  for (const p of effectiveServicePlans(user, entra)) if (isDataversePlan(p)) return true;
  return false;
}

/** Whether the background sync / an on-demand add would put this user into Dataverse. */
export function isEligibleForDataverse(user: EntraUser, entra: EntraState): boolean {
  return user.accountEnabled && hasDataverseLicense(user, entra);
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
): SystemUserRow {
  const now = new Date(nowMs).toISOString();
  const plans = effectiveServicePlans(user, entra);
  const existing = env.systemUsers.find(
    (u) => u.azureactivedirectoryobjectid === user.id && u.applicationid === null,
  );
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
 * when anything changed. Cheap (linear in users), so it runs on every request.
 */
export function runDataverseSync(ctx: ServiceContext): void {
  const entra = ctx.state.entra;
  const now = ctx.now();
  const delayMs = Math.max(0, ctx.faults.syncDelaySeconds) * 1000;
  let changed = false;
  // Eligibility does not depend on the environment: compute it once per evaluation (O(users)).
  const eligibility = new Map<string, boolean>();
  for (const user of entra.users) eligibility.set(user.id, isEligibleForDataverse(user, entra));
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
      const eligible = eligibility.get(user.id) === true;
      let obs = env.sync.observations[user.id];
      if (!obs || obs.eligible !== eligible) {
        // At environment creation every eligible user is added at once (reference §10 (1)).
        // (0, not -Infinity: the state is persisted as JSON.)
        obs = {
          eligible,
          since: initial ? 0 : changedAt(user, env.sync.lastEvaluatedAt, now),
          forcedAt: obs?.forcedAt,
        };
        if (obs.forcedAt === undefined) delete obs.forcedAt;
        env.sync.observations[user.id] = obs;
        changed = true;
      }
      const row = rowsByOid.get(user.id);
      const due = Math.min(obs.since, obs.forcedAt ?? Number.POSITIVE_INFINITY) + delayMs <= now;
      if (eligible && (!row || row.isdisabled) && due) {
        rowsByOid.set(user.id, provisionSystemUser(env, user, entra, now));
        delete obs.forcedAt;
        changed = true;
      } else if (!eligible && row && !row.isdisabled && obs.since + delayMs <= now) {
        disableSystemUser(env, row, hasDataverseLicense(user, entra), now);
        changed = true;
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
      if (!row.isdisabled && obs.since + delayMs <= now) {
        disableSystemUser(env, row, false, now);
        changed = true;
      }
    }
    if (initial) {
      env.sync.initialSyncDone = true;
      changed = true;
    }
    env.sync.lastEvaluatedAt = now;
  }
  if (changed) ctx.changed();
}

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
