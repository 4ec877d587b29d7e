/**
 * The HTTP core every system client uses: a `@azure/core-rest-pipeline` pipeline of small named
 * policies:
 *
 *   concurrency limit → client request id → user agent → retry (retry.ts) → bearer token (per
 *   scope) → request counter → TLS (extra CA) → transport
 *
 * Deliberately absent: the redirect policy. API calls never follow redirects; a service that
 * answers a refused token with a 302 to its sign-in page gets an `Unauthorized` ApiError.
 */
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  isRestError,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  retryPolicy,
  setClientRequestIdPolicy,
  tlsPolicy,
  userAgentPolicy,
} from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { ApiError, type ApiSystem, errorFromResponse, redact } from "./errors.ts";
import { buildQuery } from "./odata.ts";
import { createPacer, pacedRequests, pacingPolicy, type RateLimit } from "./pacing.ts";
import { createRetryStrategy, DEFAULT_RETRY_OPTIONS, type RetryOptions } from "./retry.ts";
import type { ServiceSpec } from "./service.ts";
import { isUnreachable, signInFailure, unreachableHint } from "./signin.ts";

/** Options of {@link createServiceClient}. */
export interface ServiceClientOptions {
  /** The service: its name (errors, request counts) and error dialect. */
  service: Pick<ServiceSpec, "name" | "errors">;
  /** Base URL every relative path is resolved against, e.g. `https://graph.microsoft.com/v1.0`. */
  baseUrl: string;
  /** The token scope, e.g. `https://graph.microsoft.com/.default`. */
  scope: string;
  /** Where tokens come from (credentials.ts). */
  credential: TokenCredential;
  /** Requests in flight at once for this client. Default 8. */
  maxConcurrency?: number;
  /** The service's request limit per sliding window; every attempt is paced under it (pacing.ts). */
  rateLimit?: RateLimit;
  /** Extra CA certificate(s) to trust, PEM (the sandbox's CA). Never disables verification. */
  caCert?: string;
  /** Headers sent with every request (e.g. `OData-MaxVersion`). */
  defaultHeaders?: Record<string, string>;
  /** Retry bounds (retry.ts). */
  retry?: RetryOptions;
  /** The transport; tests pass a stub. Default: Node's HTTPS client from core-rest-pipeline. */
  httpClient?: HttpClient;
  /** Per-request timeout in ms. Default 120000. */
  timeoutMs?: number;
}

/** One API call. */
export interface RequestOptions {
  /** HTTP method. Default GET. */
  method?: HttpMethods;
  /** Path relative to `baseUrl` (may carry an already-escaped query), or an absolute URL on the same origin (`@odata.nextLink`). */
  path: string;
  /** Query parameters; keys and values are percent-encoded here (odata.ts). */
  query?: Record<string, string>;
  /** JSON body. */
  body?: unknown;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Statuses treated as success (others throw ApiError). Default: any 2xx. */
  accept?: number[];
  /**
   * Whether replaying after an ambiguous failure is harmless. Default: true for every method
   * except POST. Set it on set-like POSTs (a license assignment, an OData `$ref` association) —
   * never on a POST that creates.
   */
  idempotent?: boolean;
  /** Hint for a 403, e.g. which permission this operation needs. */
  forbiddenHint?: string;
}

/** A successful answer. */
export interface ServiceResponse<T> {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON, or text for non-JSON bodies, or undefined when empty. */
  body: T;
}

/** Options of {@link ServiceClient.paginate}. */
export interface PaginateOptions {
  query?: Record<string, string>;
  /** Sent with every page (a service may not carry headers such as `ConsistencyLevel` into nextLink). */
  headers?: Record<string, string>;
  /** Hint for a 403 on any page, e.g. which permission listing needs. */
  forbiddenHint?: string;
}

/** A client bound to one service (base URL + token scope). */
export interface ServiceClient {
  readonly system: ApiSystem;
  readonly baseUrl: string;
  /** Sends one request; throws ApiError for a status outside `accept`. */
  request<T = unknown>(options: RequestOptions): Promise<ServiceResponse<T>>;
  /**
   * Iterates every item of a collection (`value`), following `@odata.nextLink` until absent.
   * One request per page; a failed page throws, never yielding a silently partial list.
   */
  paginate<T = unknown>(path: string, options?: PaginateOptions): AsyncIterable<T>;
}

/** Counts requests put on the wire (retries included, token requests excluded), for benchmarks. */
export class RequestCounter {
  /** Requests per service name (a service not called yet is absent: read it with {@link of}). */
  readonly bySystem: Record<ApiSystem, number> = {};
  /** Requests per `METHOD service`, e.g. `GET graph`. */
  readonly byOperation: Record<string, number> = {};

  /** All requests counted since the last reset. */
  get total(): number {
    return Object.values(this.bySystem).reduce((a, b) => a + b, 0);
  }

  /** Requests to one service since the last reset. */
  of(system: ApiSystem): number {
    return this.bySystem[system] ?? 0;
  }

  /** Records one request. */
  count(system: ApiSystem, method: string): void {
    this.bySystem[system] = this.of(system) + 1;
    const key = `${method} ${system}`;
    this.byOperation[key] = (this.byOperation[key] ?? 0) + 1;
  }

  /** Sets every count to zero. */
  reset(): void {
    for (const k of Object.keys(this.bySystem) as ApiSystem[]) this.bySystem[k] = 0;
    for (const k of Object.keys(this.byOperation)) delete this.byOperation[k];
  }

  /** A copy of the counts. */
  snapshot(): { total: number; bySystem: Record<ApiSystem, number>; byOperation: Record<string, number> } {
    return { total: this.total, bySystem: { ...this.bySystem }, byOperation: { ...this.byOperation } };
  }
}

/** The process-wide request counter (benchmarks reset and read it). */
export const requestCounter = new RequestCounter();

/** A counting semaphore bounding requests in flight. */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

/** Creates a {@link Limiter} allowing `max` tasks at once (FIFO). */
export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`maxConcurrency must be a positive integer, got ${max}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active -= 1;
    const next = queue.shift();
    if (next) {
      active += 1;
      next();
    }
  };
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < max) active += 1;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

function concurrencyPolicy(limiter: Limiter): PipelinePolicy {
  return { name: "d365AccessConcurrency", sendRequest: (request, next) => limiter.run(() => next(request)) };
}

function countingPolicy(system: ApiSystem, counter: RequestCounter): PipelinePolicy {
  return {
    name: "d365AccessRequestCounter",
    sendRequest(request, next) {
      counter.count(system, request.method);
      return next(request);
    },
  };
}

const NON_IDEMPOTENT = new WeakSet<PipelineRequest>();

/** Joins `baseUrl` and a relative path, or checks that an absolute URL stays on the base origin. */
export function resolveUrl(baseUrl: string, path: string, query?: Record<string, string>): string {
  const base = baseUrl.replace(/\/+$/, "");
  let url: string;
  if (/^https?:\/\//i.test(path)) {
    // nextLink: a full URL. Tokens must never travel to another origin.
    if (new URL(path).origin !== new URL(base).origin) {
      throw new Error(
        `refusing to follow a link to another origin: ${new URL(path).origin} (expected ${new URL(base).origin})`,
      );
    }
    url = path;
  } else {
    url = `${base}/${path.replace(/^\/+/, "")}`;
  }
  const extra = buildQuery(query);
  if (extra) url += url.includes("?") ? `&${extra.slice(1)}` : extra;
  return url;
}

function parseBody(response: PipelineResponse): unknown {
  const text = response.bodyAsText;
  if (text === undefined || text === null || text === "") return undefined;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function operationOf(method: string, url: string): string {
  try {
    return `${method} ${decodeURIComponent(new URL(url).pathname)}`;
  } catch {
    return method;
  }
}

/** Turns a thrown pipeline or credential error into an ApiError (never leaking tokens). */
function toApiError(system: ApiSystem, e: unknown, operation: string, baseUrl: string): ApiError {
  if (e instanceof ApiError) return e;
  const signIn = signInFailure(e, baseUrl);
  if (signIn) return new ApiError({ system, operation, ...signIn });
  if (isRestError(e)) {
    return new ApiError({
      system,
      status: 0,
      code: e.code ?? "REQUEST_SEND_ERROR",
      kind: "Transient",
      message: `no response: ${e.message}`,
      hint: isUnreachable(e.code)
        ? unreachableHint(baseUrl)
        : "check the service URL and network; transient failures were already retried",
      operation,
    });
  }
  const err = e as { name?: string; message?: string } | undefined;
  return new ApiError({
    system,
    status: 0,
    code: err?.name ?? "Error",
    kind: "Transient",
    message: String(err?.message ?? e),
    operation,
  });
}

/** Creates a {@link ServiceClient}. Nothing is sent until the first request. */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const { service, scope, credential } = options;
  const system = service.name;
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const retry = { ...DEFAULT_RETRY_OPTIONS, ...options.retry };
  const httpClient = options.httpClient ?? createDefaultHttpClient();
  const limiter = createLimiter(options.maxConcurrency ?? 8);

  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(concurrencyPolicy(limiter), { phase: "Serialize" });
  pipeline.addPolicy(setClientRequestIdPolicy());
  pipeline.addPolicy(userAgentPolicy({ userAgentPrefix: "d365-access" }));
  pipeline.addPolicy(
    retryPolicy([createRetryStrategy(options.retry ?? {}, (r) => !NON_IDEMPOTENT.has(r))], {
      maxRetries: retry.maxRetries,
    }),
    { phase: "Retry" },
  );
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }), { phase: "Sign" });
  pipeline.addPolicy(countingPolicy(system, requestCounter), { afterPhase: "Sign" });
  if (options.rateLimit) {
    const { rateLimit } = options;
    pipeline.addPolicy(pacingPolicy(createPacer(pacedRequests(rateLimit), rateLimit.windowSeconds * 1000)), {
      afterPhase: "Sign",
    });
  }
  if (options.caCert) pipeline.addPolicy(tlsPolicy({ ca: options.caCert }), { afterPhase: "Sign" });

  async function request<T>(opts: RequestOptions): Promise<ServiceResponse<T>> {
    const method = opts.method ?? "GET";
    const url = resolveUrl(baseUrl, opts.path, opts.query);
    const operation = operationOf(method, url);
    const headers = createHttpHeaders({
      accept: "application/json",
      ...options.defaultHeaders,
      ...opts.headers,
    });
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const req = createPipelineRequest({ url, method, headers, body, timeout: options.timeoutMs ?? 120_000 });
    if (!(opts.idempotent ?? method !== "POST")) NON_IDEMPOTENT.add(req);
    let res: PipelineResponse;
    try {
      res = await pipeline.sendRequest(httpClient, req);
    } catch (e) {
      throw toApiError(system, e, operation, baseUrl);
    }
    const parsed = parseBody(res);
    const resHeaders = res.headers.toJSON({ preserveCase: false });
    const ok = opts.accept ? opts.accept.includes(res.status) : res.status >= 200 && res.status < 300;
    if (ok) return { status: res.status, headers: resHeaders, body: parsed as T };
    let error = errorFromResponse(service, res.status, parsed, resHeaders, operation);
    if (res.status >= 300 && res.status < 400) {
      const location = resHeaders.location;
      const where = location ? safeOrigin(location) : undefined;
      error = new ApiError({
        ...error.toOptions(),
        code: error.code || "Redirect",
        message: `the service answered ${res.status} redirecting to ${where ?? "another page"} instead of answering the API call`,
      });
    }
    if (error.kind === "Forbidden" && opts.forbiddenHint) error = error.withHint(opts.forbiddenHint);
    throw error;
  }

  async function* paginate<T>(path: string, popts: PaginateOptions = {}): AsyncIterable<T> {
    let next: string | undefined = resolveUrl(baseUrl, path, popts.query);
    while (next) {
      const page: ServiceResponse<{ value?: T[]; "@odata.nextLink"?: string }> = await request({
        path: next,
        headers: popts.headers,
        accept: [200],
        ...(popts.forbiddenHint ? { forbiddenHint: popts.forbiddenHint } : {}),
      });
      const value = page.body?.value;
      if (!Array.isArray(value)) {
        throw new ApiError({
          system,
          status: page.status,
          code: "InvalidPage",
          kind: "Transient",
          message: "a collection page had no value array",
          operation: operationOf("GET", next),
        });
      }
      yield* value;
      next = page.body["@odata.nextLink"];
    }
  }

  return { system, baseUrl, request, paginate };
}

function safeOrigin(location: string): string | undefined {
  try {
    return redact(new URL(location).origin);
  } catch {
    return undefined;
  }
}
