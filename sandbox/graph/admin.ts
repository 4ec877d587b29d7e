/**
 * Admin routes of the directory (`/graph/...` on the admin origin): add users, SKUs and
 * licensing groups and change seats, so a test sets up a tenant case without editing state.
 * Objects added here are replicated at once (no eventual-consistency lag).
 *
 *   POST  /graph/users {userPrincipalName, displayName, id?, givenName?, surname?, usageLocation?,
 *                       accountEnabled?, userType?, onPremisesSyncEnabled?, directoryRoles?,
 *                       licenses?: [skuPartNumber | {sku, disabledPlans?}], groups?: [id | displayName],
 *                       groupLicenseErrors?: {group: error}}              → 201 {id}
 *   POST  /graph/skus {skuPartNumber, skuId, servicePlans: [{servicePlanId, servicePlanName}], seats?}
 *                                                                          → 201
 *   PATCH /graph/skus/{skuId | skuPartNumber} {seats}                      → 200 the SKU
 *   POST  /graph/groups {displayName, id?, licenses?: [...], members?: [userId | upn]} → 201 {id}
 */
import { randomUUID } from "node:crypto";
import { AdminInputError, adminJson, flag, records, text, texts } from "../core/admin-input.ts";
import type { Route } from "../core/routes.ts";
import type { AdminCall, ServiceContext } from "../core/types.ts";
import { findUser, sameGuid } from "./rules.ts";
import type { EntraGroup, EntraSku, EntraUser } from "./state.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Body = Record<string, unknown>;

function skuOf(ctx: ServiceContext, key: string): EntraSku {
  const sku = ctx.state.entra.skus.find((s) => sameGuid(s.skuId, key) || s.skuPartNumber === key);
  if (!sku) throw new AdminInputError(`no SKU '${key}'`);
  return sku;
}

/** `licenses`: skuPartNumbers, skuIds or `{sku, disabledPlans: [plan name or id]}`. */
function licensesOf(ctx: ServiceContext, body: Body): { skuId: string; disabledPlans: string[] }[] {
  const raw = body.licenses ?? [];
  if (!Array.isArray(raw)) throw new AdminInputError("'licenses' must be an array");
  return raw.map((item) => {
    const spec = typeof item === "string" ? { sku: item } : (item as Body);
    const sku = skuOf(ctx, text(spec, "sku"));
    const disabledPlans = texts(spec, "disabledPlans").map((p) => {
      const plan = sku.servicePlans.find((sp) => sameGuid(sp.servicePlanId, p) || sp.servicePlanName === p);
      if (!plan) throw new AdminInputError(`${sku.skuPartNumber} has no plan '${p}'`);
      return plan.servicePlanId;
    });
    return { skuId: sku.skuId, disabledPlans };
  });
}

function groupOf(ctx: ServiceContext, key: string): EntraGroup {
  const group = ctx.state.entra.groups.find((g) => sameGuid(g.id, key) || g.displayName === key);
  if (!group) throw new AdminInputError(`no group '${key}'`);
  return group;
}

function addUser({ ctx, body }: AdminCall) {
  const upn = text(body, "userPrincipalName");
  if (findUser(ctx, upn)) throw new AdminInputError(`a user ${upn} exists already`);
  const id = text(body, "id", true) ?? randomUUID();
  if (!GUID.test(id)) throw new AdminInputError("'id' must be a GUID");
  const alias = upn.slice(0, upn.indexOf("@"));
  const user: EntraUser = {
    id,
    userPrincipalName: upn,
    displayName: text(body, "displayName"),
    mail: text(body, "mail", true) ?? upn,
    mailNickname: alias,
    accountEnabled: flag(body, "accountEnabled") ?? true,
    usageLocation: text(body, "usageLocation", true) ?? null,
    userType: body.userType === "Guest" ? "Guest" : "Member",
    createdDateTime: new Date(ctx.now()).toISOString().replace(/\.\d+Z$/, "Z"),
    assignedLicenses: licensesOf(ctx, body),
    memberOf: texts(body, "groups").map((g) => groupOf(ctx, g).id),
    givenName: text(body, "givenName", true) ?? null,
    surname: text(body, "surname", true) ?? null,
    businessPhones: [],
  };
  if (flag(body, "onPremisesSyncEnabled")) {
    user.onPremisesSyncEnabled = true;
    user.onPremisesImmutableId = Buffer.from(id.replace(/-/g, ""), "hex").toString("base64");
  }
  const roles = texts(body, "directoryRoles");
  if (roles.length > 0) user.directoryRoles = roles;
  const errors = body.groupLicenseErrors;
  if (errors !== undefined) {
    if (typeof errors !== "object" || errors === null)
      throw new AdminInputError("'groupLicenseErrors' must be an object");
    user.groupLicenseErrors = Object.fromEntries(
      Object.entries(errors).map(([g, e]) => [
        groupOf(ctx, g).id,
        e as NonNullable<EntraUser["groupLicenseErrors"]>[string],
      ]),
    );
  }
  ctx.state.entra.users.push(user);
  ctx.changed();
  return adminJson(201, { id });
}

function addSku({ ctx, body }: AdminCall) {
  const skuId = text(body, "skuId");
  if (!GUID.test(skuId)) throw new AdminInputError("'skuId' must be a GUID");
  const part = text(body, "skuPartNumber");
  if (ctx.state.entra.skus.some((s) => sameGuid(s.skuId, skuId) || s.skuPartNumber === part))
    throw new AdminInputError(`SKU ${part} exists already`);
  const sku: EntraSku = {
    skuId,
    skuPartNumber: part,
    prepaidUnits: { enabled: seats(body) ?? 25, suspended: 0, warning: 0, lockedOut: 0 },
    servicePlans: records(body, "servicePlans").map((p) => ({
      servicePlanId: text(p, "servicePlanId"),
      servicePlanName: text(p, "servicePlanName"),
      provisioningStatus: "Success",
      appliesTo: "User",
    })),
  };
  ctx.state.entra.skus.push(sku);
  ctx.changed();
  return adminJson(201, sku);
}

function seats(body: Body): number | undefined {
  const value = body.seats;
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new AdminInputError("'seats' must be a non-negative integer");
  return value;
}

function changeSku({ ctx, body }: AdminCall, key: string) {
  const sku = skuOf(ctx, key);
  const enabled = seats(body);
  if (enabled !== undefined) sku.prepaidUnits.enabled = enabled;
  ctx.changed();
  return adminJson(200, sku);
}

function addGroup({ ctx, body }: AdminCall) {
  const id = text(body, "id", true) ?? randomUUID();
  const group: EntraGroup = {
    id,
    displayName: text(body, "displayName"),
    assignedLicenses: licensesOf(ctx, body),
  };
  ctx.state.entra.groups.push(group);
  for (const member of texts(body, "members")) {
    const user = findUser(ctx, member);
    if (!user) throw new AdminInputError(`no user '${member}'`);
    user.memberOf.push(id);
  }
  ctx.changed();
  return adminJson(201, { id });
}

export const GRAPH_ADMIN_ROUTES: Route<AdminCall>[] = [
  { method: "POST", path: /^\/users$/, handler: addUser },
  { method: "POST", path: /^\/skus$/, handler: addSku },
  {
    method: "PATCH",
    path: /^\/skus\/([^/]+)$/,
    handler: (call, [key]) => changeSku(call, decodeURIComponent(key as string)),
  },
  { method: "POST", path: /^\/groups$/, handler: addGroup },
];
