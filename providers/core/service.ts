/**
 * What the HTTP core knows about one API is what the API's system folder declares here: its
 * name, where its origin and token scope come from, how its error bodies read and which hints
 * help, and how many requests it takes at once. The core itself names no system; it reads
 * these declarations (a registry of systems; the core loops over it).
 */
import type { ApiErrorKind } from "./errors.ts";
import type { RateLimit } from "./pacing.ts";

/** A JSON object as parsed from an error body. */
export type Json = Record<string, unknown>;

/** A service with one origin for the whole tenant (configured by stack keys, with cloud defaults). */
export interface TenantEndpoint {
  readonly kind: "tenant";
  /** Stack config key of the URL, e.g. `graphUrl`; the sandbox's endpoints.json uses the same key. */
  readonly urlKey: string;
  /** Stack config key that overrides the token scope, e.g. `graphScope`. */
  readonly scopeKey: string;
  /**
   * The URL, and the scope where it is not `<origin>/.default`, per known cloud (by authority
   * host). A cloud not listed has no default: the URL must be configured.
   */
  readonly clouds: Readonly<Record<string, { url: string; scope?: string }>>;
  /** Scope of an explicitly configured URL when it is not `<origin>/.default`. */
  readonly scope?: string;
}

/** A service with one origin per users.yaml environment (a key of each `environments[]` entry). */
export interface EnvironmentEndpoint {
  readonly kind: "environment";
  /** Key of the URL in an `environments[]` entry, e.g. `fnoUrl`; the token scope is `<origin>/.default`. */
  readonly urlKey: string;
}

/** What a service's error body says, once parsed. */
export interface ParsedErrorFields {
  code: string;
  message: string;
  requestId: string | undefined;
}

/** How a service's error bodies deviate from the OData/ARM shape `{"error":{"code","message"}}`. */
export interface ErrorDialect {
  /** Reads fields the common shape does not have (an inner message, a request id in the body). */
  parse?(
    body: { root: Json | undefined; error: Json | undefined },
    common: ParsedErrorFields,
  ): Partial<ParsedErrorFields>;
  /** The kind, where the service says more than its status (a code meaning "not found"); undefined: by status. */
  classify?(answer: {
    status: number;
    code: string;
    message: string;
    root: Json | undefined;
  }): ApiErrorKind | undefined;
  /** What the user can do about it; undefined: the generic hint for the kind. */
  hint?(answer: { status: number; kind: ApiErrorKind; code: string }): string | undefined;
}

/** One API the providers call. */
export interface ServiceSpec {
  /** Name in errors and request counts, e.g. `entra`. */
  readonly name: string;
  /** Where its origin and token scope come from. */
  readonly endpoint: TenantEndpoint | EnvironmentEndpoint;
  /** Requests in flight at once per client (one client per origin and run). */
  readonly maxConcurrency: number;
  /** The documented request limit per caller and origin, if any: requests are paced under it (pacing.ts). */
  readonly rateLimit?: RateLimit;
  /** Its error bodies and hints. */
  readonly errors?: ErrorDialect;
}
