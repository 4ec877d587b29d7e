/**
 * The contract between the sandbox's framework (sandbox/core) and its service modules
 * (sandbox/entra, sandbox/graph, sandbox/dataverse, sandbox/powerplatform, sandbox/fno).
 *
 * The framework owns the listeners, TLS, request ids, token verification, fault injection and
 * persistence; a service module owns its routes, its error shapes and its slice of the state.
 * The sandbox imports nothing from providers/ (design.md, principle 8).
 */

/** The services the sandbox serves, each on its own HTTPS origin. */
export type ServiceName = "login" | "graph" | "powerplatform" | "dataverse" | "fno" | "admin";

/** Claims of an access token the sandbox issued and verified (v1-style, as Entra issues for these resources). */
export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  oid: string;
  ver: "1.0";
  roles?: string[];
  iat: number;
  nbf: number;
  exp: number;
  [claim: string]: unknown;
}

/** Why the framework refused a bearer token; the service renders it in its own 401 shape. */
export type AuthFailure =
  | { kind: "missing" }
  | { kind: "malformed" }
  | { kind: "expired" }
  | { kind: "badSignature" }
  | { kind: "wrongAudience"; audience: string };

/** A parsed HTTP request as service handlers see it. */
export interface SandboxRequest {
  method: string;
  /** Full URL, origin included; `url.pathname` is still percent-encoded. */
  url: URL;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body when the request sent JSON, else undefined. */
  body: unknown;
  rawBody: string;
  /** The request id the framework generated (echoed in `request-id` / `x-ms-request-id` style headers by services). */
  requestId: string;
  /** The verified token; always set when the service requires authentication. */
  token: TokenClaims;
  /** For per-environment services (dataverse, fno): the environment's logical name. */
  environment?: string;
}

/** A response; an object `body` is sent as JSON, a string as-is. */
export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One Entra user as the sandbox stores it (Microsoft Graph's own names). */
export interface EntraUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  mailNickname: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  userType: "Member" | "Guest";
  createdDateTime: string;
  passwordProfile?: { forceChangePasswordNextSignIn: boolean };
  /** Direct assignments; group-inherited ones are derived from `groups`. */
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  /** Group ids the user is a member of (group-based licensing). */
  memberOf: string[];
}

/** A subscribed SKU (Graph subscribedSku, trimmed). */
export interface EntraSku {
  skuId: string;
  skuPartNumber: string;
  prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut: number };
  servicePlans: { servicePlanId: string; servicePlanName: string; provisioningStatus: string; appliesTo: string }[];
}

/** A security group that carries licenses (group-based licensing). */
export interface EntraGroup {
  id: string;
  displayName: string;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
}

/** An app registration / service principal the token endpoint knows. */
export interface EntraApp {
  appId: string;
  /** Object id of the service principal: the `oid` claim. */
  servicePrincipalId: string;
  displayName: string;
  clientSecrets: string[];
  /** Federated credentials for client assertions (workload identity). */
  federatedCredentials: { issuer: string; subject: string; audiences: string[] }[];
  /** Microsoft Graph application permissions granted (admin-consented), e.g. "User.ReadWrite.All". */
  graphAppRoles: string[];
}

/** The Entra slice of the sandbox state, shared read-only with the Dataverse sync. */
export interface EntraState {
  tenantId: string;
  verifiedDomains: string[];
  apps: EntraApp[];
  users: EntraUser[];
  skus: EntraSku[];
  groups: EntraGroup[];
}
