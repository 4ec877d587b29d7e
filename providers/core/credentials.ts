/**
 * Credentials through `@azure/identity` only: client secret, certificate, workload identity (a
 * federated token file, e.g. GitHub OIDC written by a workflow step) and Azure CLI. Built at run
 * time inside the provider process from settings or the environment; nothing here is captured in
 * serialized provider code.
 *
 * Sovereign clouds and the sandbox pass `authorityHost`; the sandbox also needs
 * `disableInstanceDiscovery` (MSAL would otherwise ask login.microsoftonline.com whether the
 * authority is known: https://learn.microsoft.com/javascript/api/@azure/identity/authorityvalidationoptions)
 * and its CA.
 */
import {
  AzureCliCredential,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import { signInFailure } from "./signin.ts";

/** Which credential to build; `auto` picks the first that its settings allow, in the order listed. */
export type CredentialKind =
  | "auto"
  | "clientSecret"
  | "certificate"
  | "workloadIdentity"
  | "githubOidc"
  | "azureCli";

/** Credential settings (from stack config or the usual AZURE_* environment variables). */
export interface CredentialSettings {
  kind?: CredentialKind;
  tenantId?: string;
  clientId?: string;
  /** Client secret (stack config secret or AZURE_CLIENT_SECRET). */
  clientSecret?: string;
  /** PEM with certificate and private key (AZURE_CLIENT_CERTIFICATE_PATH). */
  certificatePath?: string;
  /** Federated token file (AZURE_FEDERATED_TOKEN_FILE), e.g. a GitHub OIDC token a workflow wrote. */
  federatedTokenFile?: string;
  /** e.g. `https://login.microsoftonline.us`; the sandbox's login origin. */
  authorityHost?: string;
  /** Skip MSAL's instance discovery (sandbox, private clouds). */
  disableInstanceDiscovery?: boolean;
  /** Extra CA (PEM) to trust for the token endpoint (the sandbox's CA). */
  caCert?: string;
}

/** Fills unset fields from @azure/identity's usual environment variables. */
export function credentialSettingsFromEnv(
  settings: CredentialSettings,
  env: Record<string, string | undefined> = process.env,
): CredentialSettings {
  return {
    ...settings,
    tenantId: settings.tenantId ?? env.AZURE_TENANT_ID,
    clientId: settings.clientId ?? env.AZURE_CLIENT_ID,
    clientSecret: settings.clientSecret ?? env.AZURE_CLIENT_SECRET,
    certificatePath: settings.certificatePath ?? env.AZURE_CLIENT_CERTIFICATE_PATH,
    federatedTokenFile: settings.federatedTokenFile ?? env.AZURE_FEDERATED_TOKEN_FILE,
    authorityHost: settings.authorityHost ?? env.AZURE_AUTHORITY_HOST,
  };
}

/** Which credential `auto` (or an explicit kind) resolves to for these settings. */
export function chooseCredentialKind(
  s: CredentialSettings,
  env: Record<string, string | undefined> = process.env,
): Exclude<CredentialKind, "auto"> {
  if (s.kind && s.kind !== "auto") return s.kind;
  if (s.clientId && s.clientSecret) return "clientSecret";
  if (s.clientId && s.certificatePath) return "certificate";
  if (s.clientId && s.federatedTokenFile) return "workloadIdentity";
  if (s.clientId && env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    return "githubOidc";
  return "azureCli";
}

function need(value: string | undefined, what: string, kind: string): string {
  if (!value) throw new Error(`credentials: ${kind} needs ${what}`);
  return value;
}

/**
 * Builds the TokenCredential. Throws a message naming the missing setting.
 * @param env consulted for GitHub's OIDC request variables (`ACTIONS_ID_TOKEN_REQUEST_*`).
 */
export function createCredential(
  settings: CredentialSettings,
  env: Record<string, string | undefined> = process.env,
): TokenCredential {
  return retryingUnanswered(credentialOf(settings, env));
}

/** Pauses before the second and third try of a sign-in the authority did not answer. */
const UNANSWERED_SIGN_IN_DELAYS_MS = [500, 1500];

/**
 * Tries a sign-in again when the authority did not answer it (MSAL's `endpoints_resolution_error`:
 * its metadata request met a throttled, failing or unreachable authority), a few times. Every
 * resource of a run signs in through one credential, so one such answer would otherwise fail
 * them all at once. A refused credential (AADSTS…) is never tried again.
 */
export function retryingUnanswered(credential: TokenCredential): TokenCredential {
  return {
    async getToken(scopes, options) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await credential.getToken(scopes, options);
        } catch (e) {
          const delay = UNANSWERED_SIGN_IN_DELAYS_MS[attempt];
          if (delay === undefined || signInFailure(e, "")?.code !== "endpoints_resolution_error") throw e;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    },
  };
}

function credentialOf(
  settings: CredentialSettings,
  env: Record<string, string | undefined>,
): TokenCredential {
  const s = settings;
  const kind = chooseCredentialKind(s, env);
  const options = {
    authorityHost: s.authorityHost,
    disableInstanceDiscovery: s.disableInstanceDiscovery,
    // The identity client is a core-rest-pipeline client too: trust the extra CA for the token call.
    ...(s.caCert ? { tlsOptions: { ca: s.caCert } } : {}),
  };
  switch (kind) {
    case "clientSecret":
      return new ClientSecretCredential(
        need(s.tenantId, "tenantId (or AZURE_TENANT_ID)", kind),
        need(s.clientId, "clientId (or AZURE_CLIENT_ID)", kind),
        need(s.clientSecret, "clientSecret (or AZURE_CLIENT_SECRET)", kind),
        options,
      );
    case "certificate":
      return new ClientCertificateCredential(
        need(s.tenantId, "tenantId", kind),
        need(s.clientId, "clientId", kind),
        {
          certificatePath: need(
            s.certificatePath,
            "certificatePath (or AZURE_CLIENT_CERTIFICATE_PATH)",
            kind,
          ),
        },
        options,
      );
    case "workloadIdentity":
      return new WorkloadIdentityCredential({
        ...options,
        tenantId: need(s.tenantId, "tenantId", kind),
        clientId: need(s.clientId, "clientId", kind),
        tokenFilePath: need(s.federatedTokenFile, "federatedTokenFile (or AZURE_FEDERATED_TOKEN_FILE)", kind),
      });
    case "githubOidc": {
      // @azure/identity has no GitHub credential: fetch the job's OIDC token for the Entra
      // audience on demand, as https://github.com/Azure/login does (the workflow needs
      // `permissions: id-token: write`).
      const url = need(env.ACTIONS_ID_TOKEN_REQUEST_URL, "ACTIONS_ID_TOKEN_REQUEST_URL", kind);
      const bearer = need(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", kind);
      return new ClientAssertionCredential(
        need(s.tenantId, "tenantId", kind),
        need(s.clientId, "clientId", kind),
        async () => {
          const response = await fetch(
            `${url}&audience=${encodeURIComponent("api://AzureADTokenExchange")}`,
            {
              headers: { authorization: `bearer ${bearer}` },
            },
          );
          if (!response.ok) throw new Error(`GitHub OIDC token request failed with HTTP ${response.status}`);
          const json = (await response.json()) as { value?: string };
          if (!json.value) throw new Error("GitHub OIDC token response had no value");
          return json.value;
        },
        options,
      );
    }
    case "azureCli":
      return new AzureCliCredential({ tenantId: s.tenantId });
  }
}
