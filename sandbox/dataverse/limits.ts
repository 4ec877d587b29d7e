/**
 * Service protection limits, counted per caller (the application user, by app id) per
 * environment (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits):
 * requests over a sliding window (documented 6000 per 300 s) and concurrent requests
 * (documented 52), with their error codes and `Retry-After` in whole seconds. The limits are
 * fault settings (`dataverseLimits`), so tests and benchmarks can lower them; changing the
 * fault settings starts the counting afresh. The execution-time limit is not counted.
 *
 * Stricter choice (UNCONFIRMED): a request refused for the request limit still counts, so a
 * client that keeps pushing waits longer, as the docs warn ("continued pushing yields longer
 * Retry-After values"); a concurrency refusal answers `Retry-After: 1`.
 */
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { DataverseErrorCode, dataverseError } from "./errors.ts";

interface CallerCount {
  /** Accepted and refused request times in the window (ms, injected clock), oldest first. */
  times: number[];
  inFlight: number;
}

/** Counters per limits object: a new fault setting (a new object) starts afresh. */
const counters = new WeakMap<object, Map<string, CallerCount>>();

/** Admits a request or refuses it with Dataverse's 429; `release` must be called once answered. */
export function admitDataverse(
  req: SandboxRequest,
  ctx: ServiceContext,
): { refuse: SandboxResponse } | { release: () => void } {
  const limits = ctx.faults.dataverseLimits;
  let byCaller = counters.get(limits);
  if (!byCaller) {
    byCaller = new Map();
    counters.set(limits, byCaller);
  }
  const key = `${req.environment ?? ""}|${String(req.token.appid).toLowerCase()}`;
  let count = byCaller.get(key);
  if (!count) {
    count = { times: [], inFlight: 0 };
    byCaller.set(key, count);
  }
  const now = ctx.now();
  const windowMs = limits.windowSeconds * 1000;
  while (count.times.length > 0 && (count.times[0] as number) <= now - windowMs) count.times.shift();
  if (limits.concurrentRequests > 0 && count.inFlight >= limits.concurrentRequests) {
    return {
      refuse: dataverseError(
        req,
        429,
        DataverseErrorCode.throttledConcurrency,
        `Number of concurrent requests exceeded the limit of ${limits.concurrentRequests}.`,
        { "Retry-After": "1" },
      ),
    };
  }
  count.times.push(now);
  if (limits.requestsPerWindow > 0 && count.times.length > limits.requestsPerWindow) {
    // Admitted again once enough of the oldest requests have left the window.
    const freeing = count.times[count.times.length - limits.requestsPerWindow] as number;
    const retryAfter = Math.max(1, Math.ceil((freeing + windowMs - now) / 1000));
    return {
      refuse: dataverseError(
        req,
        429,
        DataverseErrorCode.throttledRequests,
        `Number of requests exceeded the limit of ${limits.requestsPerWindow} over time window of ${limits.windowSeconds} seconds.`,
        { "Retry-After": String(retryAfter) },
      ),
    };
  }
  count.inFlight++;
  const counted = count;
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      counted.inFlight--;
    },
  };
}
