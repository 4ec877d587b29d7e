/** The route table of the sign-in origin (`authorityHost`). */
import type { Route } from "../core/routes.ts";
import { discovery, type IdentityCall, keys, token } from "./handlers.ts";

export const IDENTITY_ROUTES: readonly Route<IdentityCall>[] = [
  {
    method: "GET",
    path: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/,
    handler: (call, [tenant]) => discovery(call, decodeURIComponent(tenant as string)),
  },
  { method: "GET", path: /^\/[^/]+\/discovery\/v2\.0\/keys$/, handler: keys },
  {
    method: "POST",
    path: /^\/([^/]+)\/oauth2\/v2\.0\/token$/,
    handler: (call, [tenant]) => token(call, decodeURIComponent(tenant as string)),
  },
];
