/**
 * What the identity service (the Entra token endpoint) reads from the directory: the tenant, its
 * verified domains and the app registrations with their credentials and granted permissions.
 * The directory itself is the Entra slice of the state (`SandboxState.entra`, graph/state.ts);
 * these are the parts of it the sign-in origin owns.
 */

/** The federated-credential issuer alias meaning "the sandbox's own test OIDC issuer" (`${adminUrl}/oidc`). */
export const SANDBOX_ISSUER_ALIAS = "sandbox";

/** An app registration / service principal the token endpoint knows. */
export interface EntraApp {
  appId: string;
  /** Object id of the service principal: the `oid` claim. */
  servicePrincipalId: string;
  displayName: string;
  /**
   * SHA-256 (hex) of each client secret. The secret itself is never stored: the state file must
   * not hold a credential in plain text, not even the published sandbox one.
   */
  clientSecretHashes: string[];
  /** Federated credentials for client assertions (workload identity). */
  federatedCredentials: { issuer: string; subject: string; audiences: string[] }[];
  /** Microsoft Graph application permissions granted (admin-consented), e.g. "User.ReadWrite.All". */
  graphAppRoles: string[];
  /**
   * Entra directory roles held by the app's service principal (e.g. "Privileged Authentication
   * Administrator"). Graph refuses app-only changes to privileged users without one
   * (https://learn.microsoft.com/graph/api/user-update, "Permissions" note).
   */
  directoryRoles?: string[];
}

/** The identity part of the directory. */
export interface IdentityState {
  tenantId: string;
  verifiedDomains: string[];
  apps: EntraApp[];
}
