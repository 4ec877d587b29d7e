/**
 * The app registrations of the sandbox tenant: the demo app the tool signs in with (Graph
 * permissions it needs, a federated credential for the sandbox's test OIDC issuer) and an app
 * with no permission anywhere, so every service's 401/403 path is testable with real tokens.
 */
import {
  DEMO_APP_ID,
  DEMO_APP_SECRET,
  NO_PERMISSIONS_APP_ID,
  NO_PERMISSIONS_APP_SECRET,
} from "../core/tenant.ts";
import { secretHash } from "./rules.ts";
import { type EntraApp, SANDBOX_ISSUER_ALIAS } from "./state.ts";

/** The app registrations every seed starts with. */
export function seedApps(): EntraApp[] {
  return [
    {
      appId: DEMO_APP_ID,
      servicePrincipalId: "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
      displayName: "d365-access demo (sandbox)",
      clientSecretHashes: [secretHash(DEMO_APP_SECRET)],
      federatedCredentials: [
        {
          issuer: SANDBOX_ISSUER_ALIAS,
          subject: "repo:contoso/d365-access:environment:sandbox",
          audiences: ["api://AzureADTokenExchange"],
        },
      ],
      // What the tool needs: create/update users, assign licenses, read SKUs.
      graphAppRoles: ["User.ReadWrite.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All"],
    },
    {
      appId: NO_PERMISSIONS_APP_ID,
      servicePrincipalId: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
      displayName: "no-permissions app (sandbox)",
      clientSecretHashes: [secretHash(NO_PERMISSIONS_APP_SECRET)],
      federatedCredentials: [],
      graphAppRoles: [],
    },
  ];
}
