/**
 * Runtime settings: how to sign in, which environments the stack maps, and where each service
 * is with the scope of its tokens. Read from the stack config (namespace `d365-access`),
 * optionally seeded from a sandbox `endpoints.json`, with the usual AZURE_* environment
 * variables as fallback for credentials. Which keys a service reads, and its defaults per
 * cloud, are the service's own declaration (service.ts); a scope is `<origin>/.default` unless
 * the service says otherwise.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { CredentialKind, CredentialSettings } from "./credentials.ts";
import { credentialSettingsFromEnv } from "./credentials.ts";
import type { ServiceSpec } from "./service.ts";

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

/** One logical environment (users.yaml `environments[].name`) and what the stack maps it to. */
export interface EnvironmentSettings {
  name: string;
  /**
   * The entry's other keys, as written (e.g. a service URL such as `fnoUrl`, or an id). Keys
   * ending in `Url` are checked to be https URLs and reduced to their origin.
   */
  values: Readonly<Record<string, string>>;
}

/** Everything the providers need at run time. Never put any of it in resource state. */
export interface Settings {
  tenantId: string;
  authorityHost: string;
  /** The authority host when it is a known cloud (listed in {@link CLOUDS}); undefined otherwise (the sandbox). */
  cloud: string | undefined;
  disableInstanceDiscovery: boolean;
  environments: EnvironmentSettings[];
  credential: CredentialSettings;
  /** Extra CA to trust (PEM text, read from `caCertPath`). */
  caCert?: string;
  /**
   * A tenant-wide value by key, for the keys services declare (explicit config first, then the
   * endpoints file); see {@link serviceEndpoint}.
   */
  lookup(key: string): string | undefined;
}

/**
 * Known clouds, by authority host (https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud).
 * Each service declares its own URL per cloud (service.ts); an unknown host (the sandbox, a
 * private cloud) must configure every URL.
 */
export const CLOUDS: readonly string[] = [
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
];

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

/** A sandbox's endpoints.json: tenant-wide keys (service URLs among them) and environments. */
interface EndpointsFile {
  environments?: RawEnvironment[];
  [key: string]: unknown;
}

type RawEnvironment = Record<string, unknown>;

function projectPath(path: string, env: Record<string, string | undefined>): string {
  return isAbsolute(path) ? path : resolve(env.D365_ACCESS_ROOT ?? process.cwd(), path);
}

/**
 * Loads the settings. Each key is read as `d365-access:<key>` (then `<key>`, for a
 * `pulumi.Config("d365-access")`). Generic keys: tenantId, authorityHost, environments (JSON
 * list of {name, <service>Url…, ids…}), clientId, clientSecret, certificatePath,
 * federatedTokenFile, credential (auto|clientSecret|certificate|workloadIdentity|githubOidc|azureCli),
 * caCertPath, disableInstanceDiscovery, endpointsFile (a sandbox endpoints.json supplying the
 * others). Each service adds its own keys (service.ts), read through `lookup` and resolved by
 * {@link serviceEndpoint}. Explicit keys win over the endpoints file; credentials fall back to
 * AZURE_* variables.
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
  const pick = (key: string): string | undefined => {
    const fromFile = file[key];
    return get(key) ?? (typeof fromFile === "string" && fromFile !== "" ? fromFile : undefined);
  };

  const authorityHost = origin(
    pick("authorityHost") ?? env.AZURE_AUTHORITY_HOST ?? "https://login.microsoftonline.com",
    "authorityHost",
  );
  const host = new URL(authorityHost).host;
  const cloud = CLOUDS.includes(host) ? host : undefined;
  const tenantId = pick("tenantId") ?? env.AZURE_TENANT_ID;
  if (!tenantId)
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:tenantId is required (or AZURE_TENANT_ID)`);

  let rawEnvironments: unknown = file.environments ?? [];
  const environmentsJson = get("environments");
  if (environmentsJson) {
    try {
      rawEnvironments = JSON.parse(environmentsJson);
    } catch (e) {
      throw new SettingsError(
        `config ${CONFIG_NAMESPACE}:environments must be a JSON list: ${(e as Error).message}`,
      );
    }
  }
  if (!Array.isArray(rawEnvironments))
    throw new SettingsError(`config ${CONFIG_NAMESPACE}:environments must be a JSON list`);
  const environments = (rawEnvironments as RawEnvironment[]).map((e, i): EnvironmentSettings => {
    if (!e || typeof e.name !== "string" || !e.name) {
      throw new SettingsError(`config ${CONFIG_NAMESPACE}:environments[${i}].name is required`);
    }
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(e)) {
      if (key === "name" || typeof value !== "string" || value === "") continue;
      values[key] = key.endsWith("Url") ? origin(value, `environments[${i}].${key}`) : value;
    }
    return { name: e.name, values };
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
    cloud,
    disableInstanceDiscovery,
    environments,
    credential,
    ...(caCert ? { caCert } : {}),
    lookup: pick,
  };
}

/**
 * Where a service is and which scope its tokens take, or undefined when the stack does not
 * configure it (and the cloud has no default). `environment` is required for a per-environment
 * service; an unknown environment throws, naming the configured ones.
 */
export function serviceEndpoint(
  settings: Settings,
  service: Pick<ServiceSpec, "endpoint">,
  environment?: string,
): ServiceEndpoint | undefined {
  const endpoint = service.endpoint;
  if (endpoint.kind === "environment") {
    if (environment === undefined)
      throw new Error(`${endpoint.urlKey}: a per-environment service needs an environment name`);
    const url = findEnvironment(settings, environment).values[endpoint.urlKey];
    return url ? { origin: url, scope: defaultScope(url) } : undefined;
  }
  const explicit = settings.lookup(endpoint.urlKey);
  const cloud = settings.cloud ? endpoint.clouds[settings.cloud] : undefined;
  const url = explicit ?? cloud?.url;
  if (!url) return undefined;
  const at = origin(url, endpoint.urlKey);
  return {
    origin: at,
    scope: settings.lookup(endpoint.scopeKey) ?? cloud?.scope ?? endpoint.scope ?? defaultScope(at),
  };
}

/** Like {@link serviceEndpoint}, but a service that is not configured is an error naming the key. */
export function requireServiceEndpoint(
  settings: Settings,
  service: Pick<ServiceSpec, "endpoint">,
  environment?: string,
): ServiceEndpoint {
  const found = serviceEndpoint(settings, service, environment);
  if (found) return found;
  const key = service.endpoint.urlKey;
  if (service.endpoint.kind === "environment") {
    throw new SettingsError(
      `environment "${environment}" has no ${key} in config ${CONFIG_NAMESPACE}:environments`,
    );
  }
  throw new SettingsError(
    `config ${CONFIG_NAMESPACE}:${key} is required for authority ${settings.authorityHost}${settings.cloud ? "" : " (unknown cloud)"}`,
  );
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
