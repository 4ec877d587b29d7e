/**
 * How Graph renders directory objects: the full user resource, the default property set a read
 * returns without `$select` (https://learn.microsoft.com/graph/api/resources/user), and the
 * success envelope with Graph's headers.
 */
import { applySelect, caseInsensitiveLookup } from "../core/odata/index.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { graphHeaders } from "./errors.ts";
import { effectiveLicenses, licenseAssignmentStates, sameGuid } from "./rules.ts";
import type { EntraUser } from "./state.ts";

/** The properties a user read returns without `$select` (https://learn.microsoft.com/graph/api/resources/user). */
export const DEFAULT_USER_PROPERTIES = [
  "businessPhones",
  "displayName",
  "givenName",
  "jobTitle",
  "mail",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
  "id",
];

export const ODATA_JSON =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

export function ok(
  req: SandboxRequest,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): SandboxResponse {
  const response: SandboxResponse = {
    status,
    headers: graphHeaders(req, body === undefined ? headers : { "content-type": ODATA_JSON, ...headers }),
  };
  if (body !== undefined) response.body = body;
  return response;
}

/**
 * The full user as Graph would return it with every property selected. The licence views are
 * computed on first access only (getters), so filtering thousands of users by id or UPN stays
 * cheap.
 */
export function userResource(ctx: ServiceContext, user: EntraUser): Record<string, unknown> {
  const entra = ctx.state.entra;
  const resource: Record<string, unknown> = {
    id: user.id,
    businessPhones: user.businessPhones ?? [],
    displayName: user.displayName,
    givenName: user.givenName ?? null,
    jobTitle: user.jobTitle ?? null,
    mail: user.mail,
    mobilePhone: user.mobilePhone ?? null,
    officeLocation: user.officeLocation ?? null,
    preferredLanguage: user.preferredLanguage ?? null,
    surname: user.surname ?? null,
    userPrincipalName: user.userPrincipalName,
    accountEnabled: user.accountEnabled,
    usageLocation: user.usageLocation,
    userType: user.userType,
    mailNickname: user.mailNickname,
    department: user.department ?? null,
    createdDateTime: user.createdDateTime,
    // Cloud-only users carry null, not false (https://learn.microsoft.com/graph/api/resources/user).
    onPremisesSyncEnabled: user.onPremisesSyncEnabled ?? null,
    onPremisesImmutableId: user.onPremisesImmutableId ?? null,
    onPremisesSamAccountName: user.onPremisesSamAccountName ?? null,
    onPremisesLastSyncDateTime: user.onPremisesLastSyncDateTime ?? null,
  };
  let aggregate: { skuId: string; disabledPlans: string[] }[] | undefined;
  const licenses = () => {
    aggregate ??= effectiveLicenses(entra, user);
    return aggregate;
  };
  const lazy = (name: string, compute: () => unknown) =>
    Object.defineProperty(resource, name, { enumerable: true, configurable: true, get: compute });
  lazy("assignedLicenses", licenses);
  lazy("assignedPlans", () =>
    licenses().flatMap((l) => {
      const sku = entra.skus.find((s) => sameGuid(s.skuId, l.skuId));
      return (sku?.servicePlans ?? [])
        .filter((p) => !l.disabledPlans.some((d) => sameGuid(d, p.servicePlanId)))
        .map((p) => ({
          assignedDateTime: user.createdDateTime,
          capabilityStatus: "Enabled",
          service: p.servicePlanName,
          servicePlanId: p.servicePlanId,
        }));
    }),
  );
  lazy("licenseAssignmentStates", () => licenseAssignmentStates(entra, user));
  return resource;
}
/** A user resource projected on `$select` (or the default property set). */
export function project(
  full: Record<string, unknown>,
  select: string[] | undefined,
): Record<string, unknown> {
  if (!select) {
    const out: Record<string, unknown> = {};
    for (const p of DEFAULT_USER_PROPERTIES) out[p] = full[p];
    return out;
  }
  return applySelect(full, select, caseInsensitiveLookup);
}
