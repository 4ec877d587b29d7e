/**
 * Runtime settings: where each service is, which token scope it takes, and how to sign in.
 * Read from the stack config (namespace `d365-access`, /tmp/model-contract.md "Runtime
 * settings"), optionally seeded from a sandbox `endpoints.json`, with the usual AZURE_*
 * environment variables as fallback for credentials.
 *
 * Scopes (issue 6 item 1): `<origin>/.default` for Graph, Dataverse and F&O; the Power Platform
 * admin API's host is not an audience, its tokens are for `https://service.powerapps.com/`, hence
 * the double slash in `https://service.powerapps.com//.default` (reference/dataverse.md §8.2).
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { CredentialKind, CredentialSettings } from "./credentials.ts";
import { credentialSettingsFromEnv } from "./credentials.ts";

/** The config namespace of every key. */
export const CONFIG_NAMESPACE = "d365-access";

/** A source of config values (Pulumi's dynamic-provider `Config`, `pulumi.Config`, or a plain map). */
export interface ConfigSource {
  get(key: string): string | undefined;
}

/** A service origin and the scope of its tokens. */
export interface ServiceEndpoint {
  /** Origin without trailing slash, e.g. `https://graph.microsoft.com`. */
  origin: string;
  /** Token scope, e.g. `https://graph.microsoft.com/.default`. */
  scope: string;
}

/** One logical environment (users.yaml `environments[].name`). */
export interface EnvironmentSettings {
  name: string;
  dataverse?: ServiceEndpoint;
  fno?: ServiceEndpoint;
  powerPlatformEnvironmentId?: string;
}

/** Everything the providers need at run time. Never put any of it in resource state. */
export interface Settings {
  tenantId: string;
  authorityHost: string;
  disableInstanceDiscovery: boolean;
  graph: ServiceEndpoint;
  /** Undefined when the cloud has no known default and none was configured. */
  powerPlatform?: ServiceEndpoint;
  environments: EnvironmentSettings[];
  credential: CredentialSettings;
  /** Extra CA to trust (PEM text, read from `caCertPath`). */
  caCert?: string;
}

interface Cloud {
  authorityHost: string;
  graphUrl: string;
  powerPlatformUrl?: string;
  powerPlatformScope?: string;
}

/** Known clouds, by authority host (reference/graph.md §3.4). Unknown hosts (the sandbox) must configure URLs. */
export const CLOUDS: Readonly<Record<string, Cloud>> = {
  "login.microsoftonline.com": {
    authorityHost: "https://login.microsoftonline.com",
    graphUrl: "https://graph.microsoft.com",
    powerPlatformUrl: "https://api.bap.microsoft.com",
    powerPlatformScope: "https://service.powerapps.com//.default",
  },
  // GCC High; DoD uses https://dod-graph.microsoft.us and must set graphUrl. Power Platform
  // admin endpoints of the US government clouds are not in our references: configure them.
  "login.microsoftonline.us": {
    authorityHost: "https://login.microsoftonline.us",
    graphUrl: "https://graph.microsoft.us",
  },
  "login.chinacloudapi.cn": {
    authorityHost: "https://login.chinacloudapi.cn",
    graphUrl: "https://microsoftgraph.chinacloudapi.cn",
  },
};

/** Thrown for missing or malformed settings; the message names the key. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

/** `<origin>/.default`. */
export function defaultScope(origin: string): string {
  return `${origin}/.default`;
}

function origin(url: string, key: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:${key}: "${url}" is not a URL`);
  }
  if (parsed.protocol !== "https:")
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:${key}: "${url}" must use https`);
  return parsed.origin;
}

interface EndpointsFile {
  tenantId?: string;
  authorityHost?: string;
  graphUrl?: string;
  powerPlatformUrl?: string;
  caCertPath?: string;
  clientId?: string;
  clientSecret?: string;
  environments?: RawEnvironment[];
}

interface RawEnvironment {
  name?: string;
  dataverseUrl?: string;
  fnoUrl?: string;
  powerPlatformEnvironmentId?: string;
}

function projectPath(path: string, env: Record<string, string | undefined>): string {
  return isAbsolute(path) ? path : resolve(env.D365_ACCESS_ROOT ?? process.cwd(), path);
}

/**
 * Loads the settings. Each key is read as `d365-access:<key>` (then `<key>`, for a
 * `pulumi.Config("d365-access")`). Keys: tenantId, authorityHost, graphUrl, graphScope,
 * powerPlatformUrl, powerPlatformScope, environments (JSON list of {name, dataverseUrl, fnoUrl,
 * powerPlatformEnvironmentId}), clientId, clientSecret, certificatePath, federatedTokenFile,
 * credential (auto|clientSecret|certificate|workloadIdentity|githubOidc|azureCli), caCertPath,
 * disableInstanceDiscovery, endpointsFile (a sandbox endpoints.json supplying the others).
 * Explicit keys win over the endpoints file; credentials fall back to AZURE_* variables.
 */
export function loadSettings(
  config: ConfigSource,
  env: Record<string, string | undefined> = process.env,
): Settings {
  const get = (key: string): string | undefined => {
    const v = config.get(`${CONFIG_NAMESPACE}:${key}`) ?? config.get(key);
    return v === undefined || v === "" ? undefined : v;
  };

  let file: EndpointsFile = {};
  const endpointsFile = get("endpointsFile");
  if (endpointsFile) {
    const path = projectPath(endpointsFile, env);
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as EndpointsFile;
    } catch (e) {
      throw new SettingsError(
        `config ${CONFIG_NAMESPACE}:endpointsFile: cannot read ${endpointsFile}: ${(e as Error).message.split("\n")[0]} (start the sandbox first?)`,
      );
    }
  }
  const pick = (key: keyof EndpointsFile): string | undefined =>
    get(key) ?? (file[key] as string | undefined);

  const authorityHost = origin(
    pick("authorityHost") ?? env.AZURE_AUTHORITY_HOST ?? "https://login.microsoftonline.com",
    "authorityHost",
  );
  const cloud = CLOUDS[new URL(authorityHost).host];
  const tenantId = pick("tenantId") ?? env.AZURE_TENANT_ID;
  if (!tenantId)
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:tenantId is required (or AZURE_TENANT_ID)`);

  const graphUrl = pick("graphUrl") ?? cloud?.graphUrl;
  if (!graphUrl) {
    throw new SettingsError(
      `config ${CONFIG_NAMESPACE}:graphUrl is required for authority ${authorityHost} (unknown cloud)`,
    );
  }
  const graphOrigin = origin(graphUrl, "graphUrl");

  const ppUrl = pick("powerPlatformUrl") ?? cloud?.powerPlatformUrl;
  const powerPlatform = ppUrl
    ? {
        origin: origin(ppUrl, "powerPlatformUrl"),
        scope:
          get("powerPlatformScope") ?? cloud?.powerPlatformScope ?? "https://service.powerapps.com//.default",
      }
    : undefined;

  let rawEnvironments: RawEnvironment[] = file.environments ?? [];
  const environmentsJson = get("environments");
  if (environmentsJson) {
    try {
      rawEnvironments = JSON.parse(environmentsJson) as RawEnvironment[];
    } catch (e) {
      throw new SettingsError(
        `config ${CONFIG_NAMESPACE}:environments must be a JSON list: ${(e as Error).message}`,
      );
    }
  }
  if (!Array.isArray(rawEnvironments))
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:environments must be a JSON list`);
  const environments = rawEnvironments.map((e, i): EnvironmentSettings => {
    if (!e || typeof e.name !== "string" || !e.name) {
      throw new SettingsError(`config ${CONFIG_NAMESPACE}:environments[${i}].name is required`);
    }
    const dv = e.dataverseUrl ? origin(e.dataverseUrl, `environments[${i}].dataverseUrl`) : undefined;
    const fno = e.fnoUrl ? origin(e.fnoUrl, `environments[${i}].fnoUrl`) : undefined;
    return {
      name: e.name,
      ...(dv ? { dataverse: { origin: dv, scope: defaultScope(dv) } } : {}),
      ...(fno ? { fno: { origin: fno, scope: defaultScope(fno) } } : {}),
      ...(e.powerPlatformEnvironmentId ? { powerPlatformEnvironmentId: e.powerPlatformEnvironmentId } : {}),
    };
  });

  const caCertPath = pick("caCertPath");
  let caCert: string | undefined;
  if (caCertPath) {
    try {
      caCert = readFileSync(projectPath(caCertPath, env), "utf8");
    } catch (e) {
      throw new SettingsError(
        `config ${CONFIG_NAMESPACE}:caCertPath: cannot read ${caCertPath}: ${(e as Error).message.split("\n")[0]}`,
      );
    }
  }

  const disableInstanceDiscovery = get("disableInstanceDiscovery")
    ? get("disableInstanceDiscovery") === "true"
    : cloud === undefined; // unknown authority (sandbox, private cloud): MSAL cannot discover it

  const kind = get("credential") as CredentialKind | undefined;
  const kinds: CredentialKind[] = [
    "auto",
    "clientSecret",
    "certificate",
    "workloadIdentity",
    "githubOidc",
    "azureCli",
  ];
  if (kind && !kinds.includes(kind)) {
    throw new SettingsError(
      `config ${CONFIG_NAMESPACE}:credential must be one of ${kinds.join(", ")}, got "${kind}"`,
    );
  }
  const credential = credentialSettingsFromEnv(
    {
      kind,
      tenantId,
      clientId: pick("clientId"),
      clientSecret: pick("clientSecret"),
      certificatePath: get("certificatePath"),
      federatedTokenFile: get("federatedTokenFile"),
      authorityHost,
      disableInstanceDiscovery,
      caCert,
    },
    env,
  );

  return {
    tenantId,
    authorityHost,
    disableInstanceDiscovery,
    graph: { origin: graphOrigin, scope: get("graphScope") ?? defaultScope(graphOrigin) },
    ...(powerPlatform ? { powerPlatform } : {}),
    environments,
    credential,
    ...(caCert ? { caCert } : {}),
  };
}

/** The environment named `name`, or an error listing the configured ones. */
export function findEnvironment(settings: Settings, name: string): EnvironmentSettings {
  const found = settings.environments.find((e) => e.name === name);
  if (!found) {
    const known = settings.environments.map((e) => e.name).join(", ") || "none";
    throw new SettingsError(
      `environment "${name}" is not in config ${CONFIG_NAMESPACE}:environments (configured: ${known})`,
    );
  }
  return found;
}
