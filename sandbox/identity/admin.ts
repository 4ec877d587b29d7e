/**
 * Admin routes of the identity service (`/identity/...` on the admin origin): register an app
 * and change what it is granted, so a test can set up a permission case without editing state.
 *
 *   POST /identity/apps {displayName, appId?, secret?}     → 201 {appId, servicePrincipalId}
 *   PUT  /identity/apps/{appId} {graphAppRoles?, directoryRoles?}
 *                                                          → 200 the app (without credentials)
 */
import { randomUUID } from "node:crypto";
import { AdminInputError, adminJson, text, texts } from "../core/admin-input.ts";
import type { Route } from "../core/routes.ts";
import type { AdminCall } from "../core/types.ts";
import { findApp, secretHash } from "./rules.ts";
import type { EntraApp } from "./state.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function shown(app: EntraApp) {
  const { clientSecretHashes: _hidden, ...rest } = app;
  return rest;
}

function register({ ctx, body }: AdminCall) {
  const appId = text(body, "appId", true) ?? randomUUID();
  if (!GUID.test(appId)) throw new AdminInputError("'appId' must be a GUID");
  if (findApp(ctx, appId)) throw new AdminInputError(`app ${appId} is already registered`);
  const secret = text(body, "secret", true);
  const app: EntraApp = {
    appId,
    servicePrincipalId: randomUUID(),
    displayName: text(body, "displayName"),
    clientSecretHashes: secret ? [secretHash(secret)] : [],
    federatedCredentials: [],
    graphAppRoles: texts(body, "graphAppRoles"),
  };
  const roles = texts(body, "directoryRoles");
  if (roles.length > 0) app.directoryRoles = roles;
  ctx.state.entra.apps.push(app);
  ctx.changed();
  return adminJson(201, { appId: app.appId, servicePrincipalId: app.servicePrincipalId });
}

function grant({ ctx, body }: AdminCall, appId: string) {
  const app = findApp(ctx, appId);
  if (!app) return adminJson(404, { error: { code: "NotFound", message: `no app ${appId}` } });
  if (body.graphAppRoles !== undefined) app.graphAppRoles = texts(body, "graphAppRoles");
  if (body.directoryRoles !== undefined) app.directoryRoles = texts(body, "directoryRoles");
  ctx.changed();
  return adminJson(200, shown(app));
}

export const IDENTITY_ADMIN_ROUTES: Route<AdminCall>[] = [
  { method: "POST", path: /^\/apps$/, handler: register },
  {
    method: "PUT",
    path: /^\/apps\/([^/]+)$/,
    handler: (call, [appId]) => grant(call, decodeURIComponent(appId as string)),
  },
];
