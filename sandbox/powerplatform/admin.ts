/**
 * Admin routes of the Power Platform admin API (`/powerplatform/...` on the admin origin):
 *
 *   PUT    /powerplatform/management-applications/<appId> → 200: the app may call the admin API
 *   DELETE /powerplatform/management-applications/<appId> → 204: it may not
 */
import { adminJson } from "../core/admin-input.ts";
import type { Route } from "../core/routes.ts";
import type { AdminCall } from "../core/types.ts";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function allow({ ctx }: AdminCall, appId: string) {
  const apps = ctx.state.powerplatform.managementApplications;
  if (!apps.some((a) => same(a.applicationId, appId))) apps.push({ applicationId: appId });
  ctx.changed();
  return adminJson(200, { applicationId: appId });
}

function deny({ ctx }: AdminCall, appId: string) {
  const state = ctx.state.powerplatform;
  state.managementApplications = state.managementApplications.filter((a) => !same(a.applicationId, appId));
  ctx.changed();
  return adminJson(204);
}

export const POWER_PLATFORM_ADMIN_ROUTES: Route<AdminCall>[] = [
  {
    method: "PUT",
    path: /^\/management-applications\/([^/]+)$/,
    handler: (c, [id]) => allow(c, decodeURIComponent(id as string)),
  },
  {
    method: "DELETE",
    path: /^\/management-applications\/([^/]+)$/,
    handler: (c, [id]) => deny(c, decodeURIComponent(id as string)),
  },
];
