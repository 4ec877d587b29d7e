/**
 * Pacing under a service's request limit: at most `requests` requests sent in any sliding
 * window of `windowSeconds` (Dataverse's service protection limit is "6,000 requests per 300
 * seconds per user", sliding: https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
 * A run far below the limit never waits; one that would exceed it waits until the oldest
 * request leaves the window, so the service never answers a 429 the run caused itself. Every
 * attempt counts (the service counts retries too), which is why the HTTP core applies it per
 * attempt, after the retry policy.
 *
 * The limit is per caller and environment, but our process only knows its own requests: a
 * previous run (a preview just before `up`) or another tool using the same app shares the
 * window. Hence the headroom: we pace at {@link PACING_HEADROOM} of the documented limit.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

/** A request limit over a sliding window. */
export interface RateLimit {
  readonly requests: number;
  readonly windowSeconds: number;
}

/** Share of a documented limit a run uses (the rest is left to other runs in the same window). */
export const PACING_HEADROOM = 0.9;

/** Waits for a slot in the window, then takes it. */
export interface Pacer {
  acquire(): Promise<void>;
  /** Requests sent in the current window. */
  readonly used: number;
}

/** The requests a run may send per window under `limit` (with the headroom, at least 1). */
export function pacedRequests(limit: RateLimit): number {
  return Math.max(1, Math.floor(limit.requests * PACING_HEADROOM));
}

/** Creates a pacer allowing `requests` per sliding window of `windowMs` (a clock for tests). */
export function createPacer(
  requests: number,
  windowMs: number,
  clock: { now(): number; sleep(ms: number): Promise<void> } = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
): Pacer {
  if (!Number.isInteger(requests) || requests < 1)
    throw new RangeError(`requests must be >= 1, got ${requests}`);
  // Send times of the last `requests` requests, oldest first (a ring would do; shift is cheap here).
  const sent: number[] = [];
  let queue: Promise<void> = Promise.resolve();
  const prune = (now: number) => {
    while (sent.length > 0 && (sent[0] as number) <= now - windowMs) sent.shift();
  };
  return {
    get used() {
      prune(clock.now());
      return sent.length;
    },
    acquire() {
      // FIFO: each caller waits for the one before it, so slots are taken in order.
      const turn = queue.then(async () => {
        for (;;) {
          const now = clock.now();
          prune(now);
          if (sent.length < requests) {
            sent.push(now);
            return;
          }
          await clock.sleep((sent[0] as number) + windowMs - now + 1);
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

/** A pipeline policy that takes a pacer slot before each attempt. */
export function pacingPolicy(pacer: Pacer): PipelinePolicy {
  return {
    name: "d365AccessPacing",
    async sendRequest(request, next) {
      await pacer.acquire();
      return next(request);
    },
  };
}
