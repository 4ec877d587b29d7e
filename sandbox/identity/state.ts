/**
 * What the identity service (the Entra token endpoint) reads from the directory: the tenant, its
 * verified domains and the app registrations with their credentials and granted permissions.
 * The directory itself is the Entra slice of the state (`SandboxState.entra`, graph/state.ts);
 * these are the parts of it the sign-in origin owns.
 */

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

/** The identity part of the directory. */
export interface IdentityState {
  tenantId: string;
  verifiedDomains: string[];
  apps: EntraApp[];
}
