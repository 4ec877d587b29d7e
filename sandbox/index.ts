/**
 * The sandbox's programmatic entry point: `startSandbox()` serves Entra sign-in, Microsoft Graph,
 * the Power Platform admin API and, per environment, Dataverse and F&O OData, each on its own
 * HTTPS origin on 127.0.0.1, with a generated local CA. Nothing in the product imports this.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createAdminModule } from "./core/admin.ts";
import { loadCertificates } from "./core/certs.ts";
import { defaultFaults, type FaultUpdate, mergeFaults } from "./core/faults.ts";
import { loadSigningKey, signJwt } from "./core/jwt.ts";
import { closeListeners, type Listener, listen, type MountedModule, type OriginSpec } from "./core/server.ts";
import { openStore, type Store, stateFilePath, writeFileAtomic } from "./core/store.ts";
import { DEMO_APP_ID, DEMO_APP_SECRET, demoSeedInfo } from "./core/tenant.ts";
import type {
  FaultSettings,
  SandboxEndpoints,
  SandboxState,
  ServiceContext,
  ServiceModule,
  ServiceName,
} from "./core/types.ts";
import { dataverseService } from "./dataverse/index.ts";
import { fnoService } from "./fno/index.ts";
import { graphService } from "./graph/index.ts";
import { accessTokenClaims, createIdentityModule, type KnownResource } from "./identity/index.ts";
import { powerPlatformService } from "./powerplatform/index.ts";

export type { FaultUpdate } from "./core/faults.ts";
export type { FaultSettings, SandboxEndpoints, SandboxState } from "./core/types.ts";

/** Ports the CLI uses so a restart keeps the same origins (and clients' config stays valid). */
export const STABLE_PORTS = {
  admin: 47300,
  login: 47301,
  graph: 47302,
  powerplatform: 47303,
  environmentBase: 47310,
} as const;

/** Stable ports by origin key, shifted so that `admin` listens on `base` (default 47300). */
export function stablePorts(base: number = STABLE_PORTS.admin): Record<string, number> {
  const shift = base - STABLE_PORTS.admin;
  const ports: Record<string, number> = {
    admin: STABLE_PORTS.admin + shift,
    login: STABLE_PORTS.login + shift,
    graph: STABLE_PORTS.graph + shift,
    powerplatform: STABLE_PORTS.powerplatform + shift,
  };
  demoSeedInfo().environments.forEach((e, i) => {
    ports[`dataverse:${e.name}`] = STABLE_PORTS.environmentBase + shift + 2 * i;
    ports[`fno:${e.name}`] = STABLE_PORTS.environmentBase + shift + 2 * i + 1;
  });
  return ports;
}

/** Options of `startSandbox`. */
export interface StartSandboxOptions {
  /** Where the CA, keys, state and endpoints.json live; default a fresh temp dir removed on close. */
  stateDir?: string;
  /**
   * `"ephemeral"` (default): port 0 everywhere. `"stable"`: `STABLE_PORTS`. Or explicit ports by
   * origin key ("admin", "login", "graph", "powerplatform", "dataverse:<env>", "fno:<env>").
   */
  ports?: "ephemeral" | "stable" | Record<string, number>;
  /** Initial fault settings (merged onto no-fault defaults). */
  faults?: FaultUpdate;
  /** Injected clock in ms (token lifetimes, sync delays); default `Date.now`. */
  clock?: () => number;
  /** Where warnings and handler failures go (default stderr). */
  log?: (line: string) => void;
}

/** A running sandbox. */
export interface RunningSandbox {
  endpoints: SandboxEndpoints;
  /** PEM of the sandbox CA (pass as `ca` to clients). */
  caCert: string;
  stateDir: string;
  /** The live state (mutate only through the APIs, or call `store.changed()`). */
  state: SandboxState;
  store: Store;
  /** Current fault settings. */
  faults(): FaultSettings;
  /** Changes fault settings at run time; returns the new settings. */
  setFaults(update: FaultUpdate): FaultSettings;
  /** Restores the seed (state file rewritten at once). */
  reset(): Promise<void>;
  /** Stops background work and listeners, flushes the state. */
  close(): Promise<void>;
}

/** Starts the sandbox; resolves once every origin listens. */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const temporary = options.stateDir === undefined;
  const stateDir = options.stateDir
    ? resolve(options.stateDir)
    : await mkdtemp(join(tmpdir(), "d365-sandbox-"));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const clock = options.clock ?? Date.now;
  const info = demoSeedInfo();
  const envNames = info.environments.map((e) => e.name);

  const [certs, signingKey, oidcKey] = await Promise.all([
    loadCertificates(stateDir),
    loadSigningKey(stateDir),
    loadSigningKey(stateDir, "oidc-issuer-key.pem"),
  ]);

  let endpoints: SandboxEndpoints | undefined;
  const dataverse = dataverseService;
  const powerplatform = powerPlatformService;
  const fno = fnoService;

  const seed = (): SandboxState => ({
    entra: graphService.seed?.(info) as SandboxState["entra"],
    powerplatform: (powerplatform.seed?.(info) ?? {}) as SandboxState["powerplatform"],
    dataverse: (dataverse.seed?.(info) ?? {}) as SandboxState["dataverse"],
    fno: (fno.seed?.(info) ?? {}) as SandboxState["fno"],
  });
  const store = await openStore({ path: stateFilePath(stateDir), seed, warn: log });

  let faults = mergeFaults(defaultFaults(), options.faults ?? {});
  const context: ServiceContext = {
    state: store.state,
    changed: () => store.changed(),
    now: clock,
    get endpoints(): SandboxEndpoints {
      if (!endpoints) throw new Error("sandbox endpoints are not known before the listeners start");
      return endpoints;
    },
    get faults(): FaultSettings {
      return faults;
    },
  };

  const oidcIssuer = () => `${context.endpoints.adminUrl}/oidc`;
  const resources = (ctx: ServiceContext): KnownResource[] => {
    const list: KnownResource[] = [];
    const add = (module: ServiceModule, environment?: string) => {
      for (const audience of module.audiences(ctx, environment)) {
        list.push({ audience, roles: (app) => module.appRoles?.(app, audience, ctx) });
      }
    };
    add(graphService);
    add(powerplatform);
    for (const name of envNames) {
      add(dataverse, name);
      add(fno, name);
    }
    return list;
  };
  const identity = createIdentityModule({ signingKey, oidcKey, oidcIssuer, resources });
  const startedAt = Date.now();
  const admin = createAdminModule({
    startedAt,
    endpoints: () => context.endpoints,
    state: () => store.state,
    faults: () => faults,
    setFaults: (next) => {
      faults = next;
    },
    reset: () => store.reset(),
    mintToken: ({ appId, audience, expiresInSeconds, notBeforeSeconds }) => {
      const app = store.state.entra.apps.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
      if (!app) throw new Error(`unknown appId '${appId}'`);
      const known = resources(context).find((r) => r.audience === audience);
      const tokenOptions: { lifetimeSeconds?: number; notBeforeSeconds?: number } = {};
      if (expiresInSeconds !== undefined) tokenOptions.lifetimeSeconds = expiresInSeconds;
      if (notBeforeSeconds !== undefined) tokenOptions.notBeforeSeconds = notBeforeSeconds;
      return signJwt(
        accessTokenClaims(context, app, audience, known?.roles?.(app), tokenOptions),
        signingKey,
      );
    },
    oidcIssuer,
    oidcJwks: () => ({ keys: [oidcKey.jwk] }),
    oidcToken: ({ subject, audience, expiresInSeconds }) => {
      const iat = Math.floor(clock() / 1000);
      return signJwt(
        {
          iss: oidcIssuer(),
          sub: subject,
          aud: audience ?? "api://AzureADTokenExchange",
          iat,
          nbf: iat,
          exp: iat + (expiresInSeconds ?? 600),
          jti: randomUUID(),
        },
        oidcKey,
      );
    },
  });

  const explicit = typeof options.ports === "object" ? options.ports : undefined;
  const stable = options.ports === "stable";
  const portFor = (key: string, stablePort: number) => explicit?.[key] ?? (stable ? stablePort : 0);
  const specs: {
    key: string;
    service: ServiceName;
    environment?: string;
    module: MountedModule;
    port: number;
  }[] = [
    { key: "admin", service: "admin", module: admin, port: portFor("admin", STABLE_PORTS.admin) },
    { key: "login", service: "login", module: identity, port: portFor("login", STABLE_PORTS.login) },
    { key: "graph", service: "graph", module: graphService, port: portFor("graph", STABLE_PORTS.graph) },
    {
      key: "powerplatform",
      service: "powerplatform",
      module: powerplatform,
      port: portFor("powerplatform", STABLE_PORTS.powerplatform),
    },
  ];
  envNames.forEach((name, i) => {
    specs.push({
      key: `dataverse:${name}`,
      service: "dataverse",
      environment: name,
      module: dataverse,
      port: portFor(`dataverse:${name}`, STABLE_PORTS.environmentBase + 2 * i),
    });
    specs.push({
      key: `fno:${name}`,
      service: "fno",
      environment: name,
      module: fno,
      port: portFor(`fno:${name}`, STABLE_PORTS.environmentBase + 2 * i + 1),
    });
  });
  const origins: OriginSpec[] = await Promise.all(
    specs.map(async (s) => ({ ...s, certificate: await certs.serverCertificate(s.key) })),
  );
  let listeners: Listener[];
  try {
    listeners = await listen(origins, { context, signingKey, random: Math.random, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  const url = (key: string) => listeners.find((l) => l.key === key)?.url as string;
  endpoints = {
    tenantId: store.state.entra.tenantId,
    authorityHost: url("login"),
    graphUrl: url("graph"),
    powerPlatformUrl: url("powerplatform"),
    adminUrl: url("admin"),
    caCertPath: certs.caCertPath,
    clientId: DEMO_APP_ID,
    clientSecret: DEMO_APP_SECRET,
    environments: info.environments.map((e) => ({
      name: e.name,
      dataverseUrl: url(`dataverse:${e.name}`),
      fnoUrl: url(`fno:${e.name}`),
      powerPlatformEnvironmentId: e.powerPlatformEnvironmentId,
    })),
  };
  await writeFileAtomic(join(stateDir, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`);

  const stops: (() => void)[] = [];
  for (const module of [graphService, powerplatform, dataverse, fno]) {
    const stop = module.background?.(context);
    if (stop) stops.push(stop);
  }

  let closed = false;
  return {
    endpoints,
    caCert: certs.caCert,
    stateDir,
    state: store.state,
    store,
    faults: () => faults,
    setFaults(update) {
      faults = mergeFaults(faults, update);
      return faults;
    },
    reset: () => store.reset(),
    async close() {
      if (closed) return;
      closed = true;
      for (const stop of stops) stop();
      await closeListeners(listeners);
      await store.close();
      if (temporary) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
