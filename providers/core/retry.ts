/**
 * The retry decision: which answers are retried, how long to wait, when to give up. Pure
 * (clock and randomness injected) so tests run without waiting; `http.ts` plugs it into
 * `@azure/core-rest-pipeline`'s `retryPolicy` as a `RetryStrategy`.
 *
 * Sources: Graph throttling (429 + `Retry-After`, possibly fractional, e.g. `2.128`;
 * https://learn.microsoft.com/graph/throttling), Dataverse service protection (429 +
 * `Retry-After` seconds; https://learn.microsoft.com/power-apps/developer/data-platform/api-limits),
 * F&O priority-based throttling (429 + `Retry-After`;
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/priority-based-throttling),
 * HTTP `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 */
import type { PipelineRequest, RetryStrategy } from "@azure/core-rest-pipeline";

/** Why a status is retried, and whether a non-idempotent request (a create) may be replayed. */
export interface RetryableStatus {
  reason: string;
  /** True when the service rejected the request before acting on it, so replaying a POST cannot duplicate. */
  safeForNonIdempotent: boolean;
}

/** The one list of retryable HTTP statuses, with the reason for each. */
export const RETRYABLE_STATUSES: ReadonlyMap<number, RetryableStatus> = new Map([
  [
    429,
    {
      reason:
        "throttled (Graph, Dataverse service protection, F&O priority throttling); the request was refused, not run",
      safeForNonIdempotent: true,
    },
  ],
  [
    503,
    {
      reason:
        "service unavailable; Graph documents Retry-After with 503 and the request is refused before it runs",
      safeForNonIdempotent: true,
    },
  ],
  [
    502,
    {
      reason:
        "bad gateway from a front end; the back end may or may not have acted, so only idempotent requests",
      safeForNonIdempotent: false,
    },
  ],
  [
    504,
    {
      reason:
        "gateway timeout (Graph: 'may occur together with 503'); the back end may have acted, so only idempotent requests",
      safeForNonIdempotent: false,
    },
  ],
  [
    408,
    {
      reason: "request timeout reported by the server; only idempotent requests",
      safeForNonIdempotent: false,
    },
  ],
]);
// Not retried: 500 (usually a persistent server-side failure: waiting does not fix it, and the
// error is more useful at once), 401/403 (configuration), 4xx (the request is wrong).

/** Network errors (Node `code`s) retried, with whether a create may be replayed after them. */
export const RETRYABLE_NETWORK_CODES: ReadonlyMap<string, RetryableStatus> = new Map([
  ["ECONNREFUSED", { reason: "connection refused: nothing was sent", safeForNonIdempotent: true }],
  ["EAI_AGAIN", { reason: "temporary DNS failure: nothing was sent", safeForNonIdempotent: true }],
  [
    "ECONNRESET",
    { reason: "connection reset: the request may have been received", safeForNonIdempotent: false },
  ],
  ["ETIMEDOUT", { reason: "timed out: the request may have been received", safeForNonIdempotent: false }],
  [
    "ESOCKETTIMEDOUT",
    { reason: "socket timed out: the request may have been received", safeForNonIdempotent: false },
  ],
  ["EPIPE", { reason: "broken pipe: the request may have been received", safeForNonIdempotent: false }],
  ["REQUEST_SEND_ERROR", { reason: "the request could not be sent completely", safeForNonIdempotent: false }],
]);

/** Bounds of the retry behaviour. */
export interface RetryOptions {
  /** Maximum retries after the first attempt. Default 6. */
  maxRetries?: number;
  /** First backoff without `Retry-After`, in ms. Default 1000. */
  baseDelayMs?: number;
  /** Largest single backoff without `Retry-After`, in ms. Default 30000. */
  maxDelayMs?: number;
  /** Largest total time spent waiting for one request, in ms; a wait beyond it fails the request. Default 300000. */
  maxTotalWaitMs?: number;
  /** Current time in ms (for `Retry-After` dates). Default `Date.now`. */
  now?: () => number;
  /** Uniform random in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** Defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY_OPTIONS: Required<Omit<RetryOptions, "now" | "random">> = {
  maxRetries: 6,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxTotalWaitMs: 300_000,
};

/**
 * Parses `Retry-After` into ms: delta-seconds (fractional allowed: Graph sends `2.128`) or an
 * HTTP date (a past date means "now" = 0). Returns undefined for a missing or unparsable value.
 */
export function parseRetryAfter(
  value: string | undefined | null,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  if (/^-/.test(text)) return undefined;
  // An HTTP date always names a weekday or month; refuse other text Date.parse would accept.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** What the retry decision needs to know about one failed attempt. */
export interface RetryState {
  /** Retries done so far (0 after the first attempt). */
  retryCount: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Node error code, when no response arrived. */
  networkCode?: string;
  /** The `Retry-After` header, if any (also `retry-after-ms` converted by the caller). */
  retryAfter?: string;
  /** Whether replaying the request is harmless (GET, PUT, DELETE, PATCH, set-like POSTs). */
  idempotent: boolean;
  /** Time already spent waiting for this request, in ms. */
  waitedMs: number;
}

/** The retry decision. */
export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | { retry: false; reason: string };

/** Decides whether and when to retry one failed attempt. Pure. */
export function decideRetry(state: RetryState, options: RetryOptions = {}): RetryDecision {
  const o = { ...DEFAULT_RETRY_OPTIONS, ...options };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const rule =
    state.status !== undefined
      ? RETRYABLE_STATUSES.get(state.status)
      : state.networkCode !== undefined
        ? RETRYABLE_NETWORK_CODES.get(state.networkCode)
        : undefined;
  if (!rule) return { retry: false, reason: "not retryable" };
  if (!state.idempotent && !rule.safeForNonIdempotent) {
    return { retry: false, reason: `not replayed: ${rule.reason}` };
  }
  if (state.retryCount >= o.maxRetries)
    return { retry: false, reason: `gave up after ${o.maxRetries} retries` };

  const retryAfterMs = parseRetryAfter(state.retryAfter, now());
  let delayMs: number;
  if (retryAfterMs !== undefined) {
    // Honour the service's wait, plus up to 10% (at most 1 s) so parallel callers do not return together.
    delayMs = retryAfterMs + Math.floor(random() * Math.min(1000, retryAfterMs * 0.1 + 100));
  } else {
    // Exponential backoff with "equal jitter": half fixed, half random, capped.
    const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** state.retryCount);
    delayMs = Math.floor(ceiling / 2 + random() * (ceiling / 2));
  }
  if (state.waitedMs + delayMs > o.maxTotalWaitMs) {
    return {
      retry: false,
      reason: `the next wait (${Math.ceil(delayMs / 1000)} s) would exceed the ${Math.round(o.maxTotalWaitMs / 1000)} s budget`,
    };
  }
  return { retry: true, delayMs, reason: rule.reason };
}

/**
 * A `@azure/core-rest-pipeline` retry strategy running {@link decideRetry}. Per-request state
 * (time waited) is kept in a WeakMap keyed by the request object, which the pipeline reuses
 * across attempts. `isIdempotent` tells whether a request may be replayed after an ambiguous failure.
 */
export function createRetryStrategy(
  options: RetryOptions,
  isIdempotent: (request: PipelineRequest) => boolean,
  onRetry?: (request: PipelineRequest, decision: RetryDecision & { retry: true }, state: RetryState) => void,
): RetryStrategy {
  const waited = new WeakMap<PipelineRequest, number>();
  return {
    name: "d365AccessRetryStrategy",
    retry({ retryCount, response, responseError }) {
      const request = response?.request ?? responseError?.request;
      if (!request) return { skipStrategy: true };
      const status = response?.status;
      const ms = response?.headers.get("retry-after-ms") ?? response?.headers.get("x-ms-retry-after-ms");
      const retryAfter =
        ms && /^\d+(\.\d+)?$/.test(ms) ? String(Number(ms) / 1000) : response?.headers.get("retry-after");
      const state: RetryState = {
        retryCount,
        status,
        networkCode: status === undefined ? (responseError?.code ?? "REQUEST_SEND_ERROR") : undefined,
        retryAfter: retryAfter ?? undefined,
        idempotent: isIdempotent(request),
        waitedMs: waited.get(request) ?? 0,
      };
      const decision = decideRetry(state, options);
      // No retry: the policy returns the response (or throws the error) as is, and the client
      // turns it into an ApiError. Never a silent success.
      if (!decision.retry) return { skipStrategy: true };
      waited.set(request, state.waitedMs + decision.delayMs);
      onRetry?.(request, decision, state);
      return { retryAfterInMs: decision.delayMs };
    },
  };
}
