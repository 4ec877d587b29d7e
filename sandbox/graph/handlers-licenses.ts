/**
 * Handlers of licensing: `assignLicense` (https://learn.microsoft.com/graph/api/user-assignlicense),
 * `licenseDetails` and `subscribedSkus` (https://learn.microsoft.com/graph/api/subscribedsku-list).
 */
import { applySelect, caseInsensitiveLookup } from "../core/odata/index.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { badRequest, graphForbidden, notFound, unsupportedQuery } from "./errors.ts";
import { asObject } from "./handlers-users.ts";
import { parseOptions } from "./query.ts";
import { findVisibleUser, findWritableUser, recordChange } from "./replication.ts";
import {
  ASSIGN_LICENSES,
  allowed,
  consumedUnits,
  effectiveLicenses,
  READ_SKUS,
  READ_USERS,
  sameGuid,
} from "./rules.ts";
import { ok, project, userResource } from "./views.ts";

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function missingParameter(req: SandboxRequest, name: string): SandboxResponse {
  return badRequest(
    req,
    `One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: ${name}.`,
  );
}

function notGuid(req: SandboxRequest): SandboxResponse {
  return badRequest(
    req,
    "Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details.",
  );
}

/**
 * `assignLicense` (graph.md §2.1–2.2, §7.4, §7.13): validates the body, then each added SKU must
 * be the tenant's, the user needs a usage location, a seat must be free for a SKU the user does
 * not hold yet; adding upserts by skuId (replacing `disabledPlans`), removing drops the direct
 * assignment. Idempotent: re-sending the same body changes nothing.
 */
export function assignLicense(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, ASSIGN_LICENSES)) return graphForbidden(req);
  const body = asObject(req);
  if ("error" in body) return body.error;
  const input = body.input;
  if (input.addLicenses === undefined) return missingParameter(req, "addLicenses");
  if (input.removeLicenses === undefined) return missingParameter(req, "removeLicenses");
  if (!Array.isArray(input.addLicenses) || !Array.isArray(input.removeLicenses)) {
    return badRequest(req, "Invalid value for the parameters 'addLicenses' or 'removeLicenses'.");
  }
  const adds: { skuId: string; disabledPlans: string[] }[] = [];
  for (const item of input.addLicenses as unknown[]) {
    const skuId = (item as { skuId?: unknown })?.skuId;
    const disabled = (item as { disabledPlans?: unknown })?.disabledPlans ?? [];
    if (typeof skuId !== "string" || !GUID.test(skuId)) return notGuid(req);
    if (!Array.isArray(disabled) || disabled.some((p) => typeof p !== "string" || !GUID.test(p)))
      return notGuid(req);
    adds.push({ skuId, disabledPlans: disabled as string[] });
  }
  const removes: string[] = [];
  for (const skuId of input.removeLicenses as unknown[]) {
    if (typeof skuId !== "string" || !GUID.test(skuId)) return notGuid(req);
    removes.push(skuId);
  }
  if (adds.length === 0 && removes.length === 0) {
    return badRequest(
      req,
      "No license changes provided. At least one license to add or remove must be specified.",
    );
  }
  const user = findWritableUser(ctx, key);
  if (!user) return notFound(req, key);
  const entra = ctx.state.entra;
  for (const skuId of [...adds.map((a) => a.skuId), ...removes]) {
    if (!entra.skus.some((s) => sameGuid(s.skuId, skuId))) {
      return badRequest(req, `License ${skuId} does not correspond to a valid company License.`);
    }
  }
  for (const add of adds) {
    // A disabled plan must be one of the SKU's own service plans. Graph refuses the others; the
    // wording is UNCONFIRMED (reported as "the service plan does not belong to the subscription",
    // https://github.com/MicrosoftDocs/azure-docs/issues/81269).
    const sku = entra.skus.find((s) => sameGuid(s.skuId, add.skuId));
    const foreign = add.disabledPlans.find(
      (p) => !sku?.servicePlans.some((sp) => sameGuid(sp.servicePlanId, p)),
    );
    if (sku && foreign !== undefined) {
      return badRequest(
        req,
        `The service plan ${foreign} does not belong to the subscription ${sku.skuPartNumber} (${sku.skuId}) and cannot be disabled for it.`,
      );
    }
  }
  if (adds.length > 0 && !user.usageLocation) {
    return badRequest(req, "License assignment cannot be done for user with invalid usage location.");
  }
  const held = effectiveLicenses(entra, user);
  for (const add of adds) {
    if (held.some((l) => sameGuid(l.skuId, add.skuId))) continue;
    const sku = entra.skus.find((s) => sameGuid(s.skuId, add.skuId));
    if (sku && consumedUnits(entra, sku.skuId) >= sku.prepaidUnits.enabled) {
      // Exact middle of this message is UNCONFIRMED (graph.md §2.2); clients match the tail.
      return badRequest(
        req,
        `Subscription for license ${sku.skuId} (${sku.skuPartNumber}) does not have any available licenses.`,
      );
    }
  }
  for (const skuId of removes) {
    const direct = user.assignedLicenses.some((l) => sameGuid(l.skuId, skuId));
    if (!direct) {
      const inherited = held.some((l) => sameGuid(l.skuId, skuId));
      // Wording UNCONFIRMED (graph.md §2.1); the refusal itself follows group-based licensing rules.
      return badRequest(
        req,
        inherited
          ? "User license is inherited from a group membership and it cannot be removed directly from the user."
          : `User does not have a corresponding license ${skuId}.`,
      );
    }
  }
  recordChange(ctx, user);
  const stamp = new Date(ctx.now()).toISOString();
  user.licenseTimestamps = { ...user.licenseTimestamps };
  for (const add of adds) {
    const canonical = entra.skus.find((s) => sameGuid(s.skuId, add.skuId))?.skuId ?? add.skuId;
    const existing = user.assignedLicenses.find((l) => sameGuid(l.skuId, canonical));
    if (existing) existing.disabledPlans = [...add.disabledPlans];
    else user.assignedLicenses.push({ skuId: canonical, disabledPlans: [...add.disabledPlans] });
    user.licenseTimestamps[canonical.toLowerCase()] = stamp;
  }
  user.assignedLicenses = user.assignedLicenses.filter((l) => !removes.some((r) => sameGuid(r, l.skuId)));
  ctx.changed();
  const full = userResource(ctx, user);
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#users/$entity`,
    ...project(full, undefined),
    assignedLicenses: full.assignedLicenses,
    assignedPlans: full.assignedPlans,
  });
}

export function licenseDetails(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, READ_USERS)) return graphForbidden(req);
  const user = findVisibleUser(ctx, key);
  if (!user) return notFound(req, key);
  const options = parseOptions(req);
  if ("status" in options) return options;
  if (options.filter)
    return unsupportedQuery(req, "Query filter expressions aren't supported on licenseDetails.");
  const entra = ctx.state.entra;
  const value = effectiveLicenses(entra, user).map((l) => {
    const sku = entra.skus.find((s) => sameGuid(s.skuId, l.skuId));
    const row = {
      id: Buffer.from(`${user.id}_${l.skuId}`).toString("base64url"),
      skuId: sku?.skuId ?? l.skuId,
      skuPartNumber: sku?.skuPartNumber ?? "",
      servicePlans: (sku?.servicePlans ?? []).map((p) => ({
        servicePlanId: p.servicePlanId,
        servicePlanName: p.servicePlanName,
        provisioningStatus: l.disabledPlans.some((d) => sameGuid(d, p.servicePlanId))
          ? "Disabled"
          : "Success",
        appliesTo: p.appliesTo,
      })),
    };
    return options.select ? applySelect(row, options.select, caseInsensitiveLookup) : row;
  });
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#users('${user.id}')/licenseDetails`,
    value,
  });
}

export function subscribedSkus(req: SandboxRequest, ctx: ServiceContext, id?: string): SandboxResponse {
  if (!allowed(req, READ_SKUS)) return graphForbidden(req);
  const options = parseOptions(req);
  if ("status" in options) return options;
  // subscribedSkus supports only $select (graph.md §1.4, §7.6).
  if (options.filter)
    return unsupportedQuery(req, "Query filter expressions aren't supported on subscribedSkus.");
  const entra = ctx.state.entra;
  const rows = entra.skus.map((s) => ({
    accountId: entra.tenantId,
    accountName: "Contoso (sandbox)",
    appliesTo: "User",
    capabilityStatus: "Enabled",
    consumedUnits: consumedUnits(entra, s.skuId),
    id: `${entra.tenantId}_${s.skuId}`,
    prepaidUnits: { ...s.prepaidUnits },
    servicePlans: s.servicePlans.map((p) => ({ ...p })),
    skuId: s.skuId,
    skuPartNumber: s.skuPartNumber,
    subscriptionIds: [`${s.skuId.slice(0, 8)}-5ub5-4c11-9000-${entra.tenantId.slice(-12)}`],
  }));
  const select = (row: Record<string, unknown>) =>
    options.select ? applySelect(row, options.select, caseInsensitiveLookup) : row;
  if (id !== undefined) {
    const row = rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
    if (!row) return notFound(req, id);
    return ok(req, 200, {
      "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#subscribedSkus/$entity`,
      ...select(row),
    });
  }
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#subscribedSkus`,
    value: rows.map(select),
  });
}
