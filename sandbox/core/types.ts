/**
 * The contract between the sandbox's framework (sandbox/core) and its service modules
 * (sandbox/entra, sandbox/graph, sandbox/dataverse, sandbox/powerplatform, sandbox/fno).
 *
 * The framework owns the listeners, TLS, request ids, token verification, fault injection and
 * persistence; a service module owns its routes, its error shapes and its slice of the state.
 * The sandbox imports nothing from providers/ (design.md, principle 8).
 */

import type { DataverseEnvironmentState } from "../dataverse/state.ts";
import type { FnoEnvironmentState } from "../fno/state.ts";
import type { EntraState } from "../graph/state.ts";
import type { EntraApp } from "../identity/state.ts";
import type { PowerPlatformState } from "../powerplatform/state.ts";
import type { Route } from "./routes.ts";

export type { EntraGroup, EntraSku, EntraState, EntraUser } from "../graph/state.ts";
export type { EntraApp } from "../identity/state.ts";

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

// ---------------------------------------------------------------------------------------------
// Framework ↔ service-module contract (added by S1). Slice types live in their owners' folders:
//   sandbox/powerplatform/state.ts  exports `PowerPlatformState`
//   sandbox/dataverse/state.ts      exports `DataverseEnvironmentState` (one per environment)
//   sandbox/fno/state.ts            exports `FnoEnvironmentState`       (one per environment)
// They are imported type-only (top of this file), so nothing here runs their code.
// Each service folder's index.ts exports its module under a fixed name, which sandbox/core mounts:
//   sandbox/dataverse/index.ts     `dataverseService: ServiceModule<Record<string, DataverseEnvironmentState>>`
//   sandbox/powerplatform/index.ts `powerPlatformService: ServiceModule<PowerPlatformState>`
//   sandbox/fno/index.ts           `fnoService: ServiceModule<Record<string, FnoEnvironmentState>>`
// Per-environment services get one HTTPS origin per environment and `req.environment` set.
// ---------------------------------------------------------------------------------------------

/** The whole sandbox state: one JSON document persisted atomically under `.sandbox/state.json`. */
export interface SandboxState {
  /** Tenant, app registrations, users, SKUs, groups (Entra sign-in and Graph share it). */
  entra: EntraState;
  /** Power Platform admin API (environments, management applications). */
  powerplatform: PowerPlatformState;
  /** Dataverse, keyed by environment name (e.g. "contoso-demo"). */
  dataverse: Record<string, DataverseEnvironmentState>;
  /** F&O, keyed by environment name (e.g. "contoso-demo"). */
  fno: Record<string, FnoEnvironmentState>;
}

/** One linked environment pair as clients see it; the shape of `endpoints.json` `environments[]`. */
export interface SandboxEnvironmentEndpoints {
  /** Logical name, e.g. "contoso-demo"; also the key of `SandboxState.dataverse` / `.fno`. */
  name: string;
  /** Dataverse origin, no trailing slash (e.g. "https://127.0.0.1:7443"). */
  dataverseUrl: string;
  /** F&O origin, no trailing slash. */
  fnoUrl: string;
  /** The Power Platform environment id (a GUID) the admin API lists. */
  powerPlatformEnvironmentId: string;
}

/**
 * Where everything is; written to `.sandbox/endpoints.json` with exactly these keys (issue 4,
 * item 11). Every URL is an origin without a trailing slash.
 */
export interface SandboxEndpoints {
  tenantId: string;
  /** Pass to `@azure/identity` as `authorityHost` (with `disableInstanceDiscovery: true`). */
  authorityHost: string;
  /** Graph origin; clients call `${graphUrl}/v1.0/...`. */
  graphUrl: string;
  /** The Power Platform admin API (BAP) origin. */
  powerPlatformUrl: string;
  /** The sandbox's own admin API (faults, reset, test OIDC issuer); no auth, loopback only. */
  adminUrl: string;
  /** PEM of the sandbox CA; trust it with NODE_EXTRA_CA_CERTS or an explicit `ca` option. */
  caCertPath: string;
  /** The demo app registration (sandbox only). */
  clientId: string;
  /** The demo app's secret (sandbox only; never a real secret). */
  clientSecret: string;
  environments: SandboxEnvironmentEndpoints[];
}

/** Fault injection for one service (or the defaults for all). Rates are probabilities 0..1. */
export interface FaultProfile {
  /** Fixed latency added before every response, in ms. */
  latencyMs: number;
  /** Uniform random extra latency 0..jitterMs, in ms. */
  jitterMs: number;
  /** Probability of answering 429 with `Retry-After` instead of handling the request. */
  rate429: number;
  /** The `Retry-After` seconds sent with injected 429s. */
  retryAfterSeconds: number;
  /** Probability of answering 503 instead of handling the request. */
  rate503: number;
}

/**
 * An environment being serviced or recycled: every request to `service` (in `environment`, or
 * all of them) answers `status` until `untilMs` on the injected clock, valid token or not.
 */
export interface ServicingWindow {
  service: ServiceName;
  environment?: string;
  status: 404 | 503;
  /** End of the window (ms on the injected clock); absent = until cleared. */
  untilMs?: number;
}

/**
 * Dataverse service protection limits, counted per caller (application user) per environment
 * (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits). 0 = no limit.
 */
export interface DataverseLimits {
  /** Requests allowed per caller in the sliding window (documented default 6000). */
  requestsPerWindow: number;
  /** The sliding window, in seconds (documented 300). */
  windowSeconds: number;
  /** Requests a caller may have in flight at once (documented default 52). */
  concurrentRequests: number;
}

/** Behaviours of the real services that can be switched on one by one (see `FaultSettings.fidelity`). */
export interface FidelitySwitches {
  /**
   * Dataverse: every row of a collection query carries `<navigation>@odata.nextLink` beside a
   * complete single-level `$expand` of a collection (the documented answer).
   */
  expandNextLinks: boolean;
  /**
   * Power Platform `addUser`: `userNotLicensed` only inside the error message (a JSON string,
   * with a generic `BadRequest` code), instead of as the code.
   */
  notLicensedInMessage: boolean;
}

/** All fault settings; settable at start and at run time through the admin API. */
export interface FaultSettings extends FaultProfile {
  /** Delay before a licensed Entra user appears in Dataverse (the background sync), in seconds. */
  syncDelaySeconds: number;
  /**
   * Graph eventual consistency: for this long after a user is created, reads of it answer 404
   * (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
   */
  graphNewUserDelaySeconds: number;
  /** Graph eventual consistency: for this long after a change, reads still show the old values. */
  graphPropertyDelaySeconds: number;
  /** Dataverse service protection limits (counted, not random). */
  dataverseLimits: DataverseLimits;
  /** Environments being serviced (every request 404 or 503 for a while). */
  servicing: ServicingWindow[];
  /**
   * Real-service answers today's providers do not handle yet, off by default so the suite stays
   * green until the providers are fixed (docs/fidelity.md lists them and the failing tests).
   */
  fidelity: FidelitySwitches;
  /** Per-service overrides of the defaults above (issue 4, item 9: faults are per service). */
  services: Partial<Record<ServiceName, Partial<FaultProfile>>>;
}

/** One request as the journal records it: never a body, a header or a secret. */
export interface JournalEntry {
  /** ISO time on the injected clock. */
  time: string;
  service: ServiceName;
  environment?: string;
  method: string;
  /** Path with query string, as the client sent it (credential-like parameters redacted). */
  path: string;
  status: number;
  /** The calling application (token `appid`; `client_id` on the token endpoint), when known. */
  appId?: string;
  requestId: string;
  /** Whether the request can change the tenant (not a read, a token request or a batch envelope). */
  write: boolean;
  /** For an item of a Graph `$batch`: the request id of its envelope. */
  batchOf?: string;
}

/** The request journal the pipeline (and batch handlers, for their items) write to. */
export interface Journal {
  record(entry: JournalEntry): void;
}

/** What a service handler gets besides the request. */
export interface ServiceContext {
  /** The whole state; mutate it in place, then call `changed()`. */
  state: SandboxState;
  /** Schedules an atomic, debounced persist of `state`. */
  changed(): void;
  /**
   * A counter that moves on every `changed()` (and reset), so work derived from the whole state
   * can be skipped while nothing changed. Absent in hand-built test contexts: never skip.
   */
  revision?(): number;
  /** The injected clock, in ms since the epoch (tests can move time). */
  now(): number;
  /** Origins of every service and the environments. */
  endpoints: SandboxEndpoints;
  /** The current fault settings (read `syncDelaySeconds` here; it can change at run time). */
  faults: FaultSettings;
  /** Random numbers for injected faults (injectable so tests are deterministic). */
  random(): number;
  /** The request journal (batch handlers record their items here). */
  journal: Journal;
}

/** Which tenant a seed builds: today's demo tenant, or the lived-in one (optionally enlarged). */
export interface SeedOptions {
  /** `demo`: the clean demo tenant; `lived-in`: a tenant in daily use around the demo users. */
  name: "demo" | "lived-in";
  /** Lived-in only: this many generated users added with the same variety (default 0). */
  generatedUsers?: number;
  /** Lived-in only: the number the generator derives every generated value from (default 1). */
  seedNumber?: number;
}

/** Constants a seed may use (tenant, environments, which tenant) without importing another service. */
export interface SeedInfo {
  tenantId: string;
  environments: { name: string; powerPlatformEnvironmentId: string }[];
  seed: SeedOptions;
}

/** An admin-API request routed to a service (`/<prefix>/...` on the admin origin). */
export interface AdminCall {
  req: SandboxRequest;
  ctx: ServiceContext;
  /** The JSON body as an object ({} when absent). */
  body: Record<string, unknown>;
}

/**
 * One service as the framework mounts it. The framework runs, in this order: request id →
 * token verification against `audiences()` (refusals rendered by `unauthorized`) → faults
 * (`throttled` / `unavailable`) → `handle` → error renderer (an exception becomes a 500).
 */
export interface ServiceModule<Slice = unknown> {
  name: ServiceName;
  /**
   * Exact token audiences this service accepts (e.g. Graph: its origin and
   * "00000003-0000-0000-c000-000000000000"). Per-environment services (dataverse, fno) are asked
   * once per environment with `environment` set and return that environment's audiences only.
   * The token endpoint knows a resource exactly when some service lists it here (else AADSTS500011).
   */
  audiences(ctx: ServiceContext, environment?: string): string[];
  /** App roles (the `roles` claim) a token for `audience` carries for `app`; omitted → no `roles` claim. */
  appRoles?(app: EntraApp, audience: string, ctx: ServiceContext): string[];
  /** Renders the service's own 401 for a refused token. */
  unauthorized(failure: AuthFailure, req: SandboxRequest): SandboxResponse;
  /** Renders the service's own 429 (with Retry-After) body for an injected fault. */
  throttled(retryAfterSeconds: number, req: SandboxRequest): SandboxResponse;
  /** Renders the service's own 503 body for an injected fault. */
  unavailable(req: SandboxRequest): SandboxResponse;
  /** Routes and handles one authenticated request; answers 501 naming method and path when unrouted. */
  handle(req: SandboxRequest, ctx: ServiceContext): Promise<SandboxResponse> | SandboxResponse;
  /** The service's seed slice of the demo tenant (absent for services that own no slice, e.g. Graph). */
  seed?(info: SeedInfo): Slice;
  /** Optional background work (e.g. the Dataverse user sync); returns a function that stops it. */
  background?(ctx: ServiceContext): () => void;
  /**
   * Admission before the handler (after authentication, before latency), for limits a service
   * counts itself (Dataverse service protection): a refusal, or a release called once answered.
   */
  admit?(req: SandboxRequest, ctx: ServiceContext): { refuse: SandboxResponse } | { release: () => void };
  /**
   * True when injected 429/503 apply to the items of this request rather than to it (Graph
   * `$batch`: items are throttled individually inside a 200 envelope).
   */
  faultsPerItem?(req: SandboxRequest): boolean;
  /** Whether a request can change the tenant (journal `write`); default: any method but GET/HEAD/OPTIONS. */
  isWrite?(req: SandboxRequest): boolean;
  /** Routes of the admin API that set up this service's state, mounted under `/<prefix>/`. */
  admin?: { prefix: string; routes: Route<AdminCall>[] };
}
