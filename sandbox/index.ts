/**
 * The sandbox's programmatic entry point: `startSandbox()` serves Entra sign-in, Microsoft Graph,
 * the Power Platform admin API and, per environment, Dataverse and F&O OData, each on its own
 * HTTPS origin on 127.0.0.1, with a generated local CA. Nothing in the product imports this.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createAdminModule } from "./core/admin.ts";
import { loadCertificates } from "./core/certs.ts";
import { defaultFaults, type FaultUpdate, mergeFaults } from "./core/faults.ts";
import { createJournal, type RequestJournal } from "./core/journal.ts";
import { loadSigningKey, signJwt } from "./core/jwt.ts";
import { type PortChoice, portOf, stablePorts as stablePortsFor } from "./core/ports.ts";
import { closeListeners, type Listener, listen, type MountedModule } from "./core/server.ts";
import { openStore, type Store, stateFilePath, writeFileAtomic } from "./core/store.ts";
import { DEMO_APP_ID, DEMO_APP_SECRET, demoSeedInfo } from "./core/tenant.ts";
import type {
  FaultSettings,
  SandboxEndpoints,
  SandboxState,
  SeedOptions,
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
export type { JournalFilter } from "./core/journal.ts";
export { STABLE_PORTS } from "./core/ports.ts";
export type {
  FaultSettings,
  JournalEntry,
  SandboxEndpoints,
  SandboxState,
  SeedOptions,
} from "./core/types.ts";

/** The services with a state slice, mounted once (`shared`) or once per environment. */
const SERVICES: { module: ServiceModule; slice: keyof SandboxState; perEnvironment: boolean }[] = [
  { module: graphService, slice: "entra", perEnvironment: false },
  { module: powerPlatformService, slice: "powerplatform", perEnvironment: false },
  { module: dataverseService, slice: "dataverse", perEnvironment: true },
  { module: fnoService, slice: "fno", perEnvironment: true },
];

/** Stable ports by origin key, shifted so that `admin` listens on `base` (default 47300). */
export function stablePorts(base?: number): Record<string, number> {
  return stablePortsFor(demoSeedInfo(), base);
}

/** Options of `startSandbox`. */
export interface StartSandboxOptions {
  /** Where the CA, keys, state and endpoints.json live; default a fresh temp dir removed on close. */
  stateDir?: string;
  /**
   * `"ephemeral"` (default): port 0 everywhere. `"stable"`: `STABLE_PORTS`. Or explicit ports by
   * origin key ("admin", "login", "graph", "powerplatform", "dataverse:<env>", "fno:<env>").
   */
  ports?: PortChoice;
  /**
   * Which tenant to seed: `"lived-in"` (a tenant in daily use, the default), `"demo"` (the clean one), or
   * `{ name: "lived-in", generatedUsers: N, seedNumber }` for a large tenant of the same variety.
   * An existing state file seeded otherwise is reseeded; without this option it is kept as is.
   */
  seed?: SeedOptions["name"] | SeedOptions;
  /** Initial fault settings (merged onto no-fault defaults). */
  faults?: FaultUpdate;
  /** Injected clock in ms (token lifetimes, sync delays, consistency lags); default `Date.now`. */
  clock?: () => number;
  /** Random numbers for injected faults; default `Math.random`. */
  random?: () => number;
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
  /** The seed the state was built from (and `reset()` restores). */
  seed: SeedOptions;
  /** The request journal (also `GET /journal` on the admin API). */
  journal: RequestJournal;
  /** Current fault settings. */
  faults(): FaultSettings;
  /** Changes fault settings at run time; returns the new settings. */
  setFaults(update: FaultUpdate): FaultSettings;
  /** Restores the seed (state file rewritten at once). */
  reset(): Promise<void>;
  /** Stops background work and listeners, flushes the state. */
  close(): Promise<void>;
}

/** The seed options `startSandbox({ seed })` means. */
function seedOptions(seed: StartSandboxOptions["seed"]): SeedOptions | undefined {
  if (seed === undefined) return undefined;
  return typeof seed === "string" ? { name: seed } : { ...seed };
}

/** Starts the sandbox; resolves once every origin listens. */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const temporary = options.stateDir === undefined;
  const stateDir = options.stateDir
    ? resolve(options.stateDir)
    : await mkdtemp(join(tmpdir(), "d365-sandbox-"));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const layout = demoSeedInfo();

  const [certs, signingKey, oidcKey] = await Promise.all([
    loadCertificates(stateDir),
    loadSigningKey(stateDir),
    loadSigningKey(stateDir, "oidc-issuer-key.pem"),
  ]);

  const buildSeed = (seed: SeedOptions): SandboxState => {
    const info = demoSeedInfo(seed);
    const state = {} as Record<keyof SandboxState, unknown>;
    for (const { module, slice } of SERVICES) state[slice] = module.seed?.(info) ?? {};
    return state as unknown as SandboxState;
  };
  const requested = seedOptions(options.seed);
  const store = await openStore({
    path: stateFilePath(stateDir),
    seed: buildSeed,
    ...(requested ? { requested } : {}),
    warn: log,
  });

  let endpoints: SandboxEndpoints | undefined;
  let faults = mergeFaults(defaultFaults(), options.faults ?? {});
  const journal = createJournal();
  const context: ServiceContext = {
    state: store.state,
    changed: () => store.changed(),
    revision: () => store.revision(),
    now: clock,
    random,
    journal,
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
    for (const { module, perEnvironment } of SERVICES) {
      if (!perEnvironment) add(module);
      else for (const e of layout.environments) add(module, e.name);
    }
    return list;
  };
  const identity = createIdentityModule({ signingKey, oidcKey, oidcIssuer, resources });
  const admin = createAdminModule({
    startedAt: Date.now(),
    endpoints: () => context.endpoints,
    state: () => store.state,
    faults: () => faults,
    setFaults: (next) => {
      faults = next;
    },
    reset: () => store.reset(),
    journal,
    context,
    services: [identity, ...SERVICES.map((s) => s.module)],
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

  const specs: { key: string; service: ServiceName; environment?: string; module: MountedModule }[] = [
    { key: "admin", service: "admin", module: admin },
    { key: "login", service: "login", module: identity },
  ];
  for (const { module, perEnvironment } of SERVICES) {
    if (!perEnvironment) specs.push({ key: module.name, service: module.name, module });
    else
      for (const e of layout.environments)
        specs.push({ key: `${module.name}:${e.name}`, service: module.name, environment: e.name, module });
  }
  const origins = await Promise.all(
    specs.map(async (s) => ({
      ...s,
      port: portOf(options.ports, layout, s.key),
      certificate: await certs.serverCertificate(s.key),
    })),
  );
  let listeners: Listener[];
  try {
    listeners = await listen(origins, { context, signingKey, random, log });
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
    environments: layout.environments.map((e) => ({
      name: e.name,
      dataverseUrl: url(`dataverse:${e.name}`),
      fnoUrl: url(`fno:${e.name}`),
      powerPlatformEnvironmentId: e.powerPlatformEnvironmentId,
    })),
  };
  await writeFileAtomic(join(stateDir, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`);

  const stops: (() => void)[] = [];
  for (const { module } of SERVICES) {
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
    get seed() {
      return store.seedOptions();
    },
    journal,
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
