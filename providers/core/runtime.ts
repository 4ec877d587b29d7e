/**
 * Per-process run state of the provider process: settings, one credential, one client per
 * service (so concurrency is bounded per service across all resources), and run-wide caches of
 * bulk reads. The engine's provider process serves every dynamic resource of a deployment (all
 * share the default `pulumi-nodejs` provider; strictly one process is UNCONFIRMED), and calls may
 * arrive before `configure` finished (the provider is cached before `configure` resolves:
 * https://github.com/pulumi/pulumi/blob/v3.259.0/sdk/nodejs/cmd/dynamic-provider/index.ts), so
 * `runtime()` awaits the configuration.
 *
 * Created lazily inside provider methods: nothing here runs at import time, nothing is
 * serialized into state.
 */
import { createHash } from "node:crypto";
import { debuglog } from "node:util";
import type { TokenCredential } from "@azure/identity";
import { createCredential } from "./credentials.ts";
import { type ApiErrorKind, isApiError } from "./errors.ts";
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from "./http.ts";
import type { ServiceSpec } from "./service.ts";
import {
  type ConfigSource,
  loadSettings,
  requireServiceEndpoint,
  type Settings,
  SettingsError,
  serviceEndpoint,
} from "./settings.ts";

const log = debuglog("d365-access");

/** The configured run state. */
export interface Runtime {
  readonly settings: Settings;
  readonly credential: TokenCredential;
  /**
   * The client of a service: one per origin and run, so concurrency is bounded per service
   * across every resource. A per-environment service needs the environment's name. Throws
   * SettingsError naming the key when the stack does not configure the service.
   */
  client(service: ServiceSpec, environment?: string): ServiceClient;
  /** Whether the stack configures the service (in that environment, which it must map). */
  has(service: ServiceSpec, environment?: string): boolean;
  /** Memoizes a run-wide read (e.g. "all users, one request per page"); a failed load is not cached. */
  cached<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** Drops cached entries whose key starts with `prefix`. */
  invalidate(prefix: string): void;
}

/** Overrides for tests (a stubbed transport, a fake credential, fast retries). */
export interface RuntimeOverrides {
  credential?: TokenCredential;
  client?: Partial<Pick<ServiceClientOptions, "httpClient" | "retry" | "maxConcurrency" | "rateLimit">>;
}

function fingerprint(settings: Settings): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex");
}

function createRuntime(settings: Settings, overrides: RuntimeOverrides): Runtime {
  const credential = overrides.credential ?? createCredential(settings.credential);
  const clients = new Map<string, ServiceClient>();
  const cache = new Map<string, Promise<unknown>>();
  return {
    settings,
    credential,
    client(service, environment) {
      const endpoint = requireServiceEndpoint(settings, service, environment);
      const key = `${service.name}\n${endpoint.origin}`;
      let client = clients.get(key);
      if (!client) {
        client = createServiceClient({
          service,
          baseUrl: endpoint.origin,
          scope: endpoint.scope,
          credential,
          caCert: settings.caCert,
          maxConcurrency: service.maxConcurrency,
          ...(service.rateLimit ? { rateLimit: service.rateLimit } : {}),
          ...overrides.client,
        });
        clients.set(key, client);
      }
      return client;
    },
    has(service, environment) {
      try {
        return serviceEndpoint(settings, service, environment) !== undefined;
      } catch (e) {
        if (e instanceof SettingsError) return false; // an environment the stack does not map
        throw e;
      }
    },
    cached<T>(key: string, load: () => Promise<T>): Promise<T> {
      let entry = cache.get(key) as Promise<T> | undefined;
      if (!entry) {
        entry = load();
        cache.set(key, entry);
        entry.catch(() => {
          if (cache.get(key) === entry) cache.delete(key);
        });
      }
      return entry;
    },
    invalidate(prefix: string): void {
      for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
    },
  };
}

let current: { fingerprint: string; runtime: Runtime } | undefined;
let waiters: ((r: Runtime) => void)[] = [];

/**
 * Configures the process's runtime from the stack config (call from the provider's
 * `configure`). Reconfiguring with the same settings keeps clients and caches (each of our
 * provider shims gets its own `configure` call); different settings start afresh.
 * Throws SettingsError naming a missing or bad key.
 */
export function configureRuntime(
  config: ConfigSource,
  overrides: RuntimeOverrides = {},
  env = process.env,
): Runtime {
  const settings = loadSettings(config, env);
  const fp = fingerprint(settings);
  if (!current || current.fingerprint !== fp || overrides.credential || overrides.client) {
    current = { fingerprint: fp, runtime: createRuntime(settings, overrides) };
  }
  const runtime = current.runtime;
  for (const w of waiters) w(runtime);
  waiters = [];
  return runtime;
}

/** Forgets the configuration (tests). */
export function resetRuntime(): void {
  current = undefined;
}

/**
 * The configured runtime; waits up to `timeoutMs` for `configure` (it may race with other
 * calls: `getProvider` in
 * https://github.com/pulumi/pulumi/blob/v3.259.0/sdk/nodejs/cmd/dynamic-provider/index.ts).
 */
export function runtime(timeoutMs = 30_000): Promise<Runtime> {
  if (current) return Promise.resolve(current.runtime);
  return new Promise<Runtime>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters = waiters.filter((w) => w !== done);
      reject(new SettingsError("the provider was never configured (no d365-access stack config reached it)"));
    }, timeoutMs);
    timer.unref?.();
    const done = (r: Runtime) => {
      clearTimeout(timer);
      resolve(r);
    };
    waiters.push(done);
  });
}

/** Time and sleep, injectable so tests of waits run instantly. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** What we wait for, in words ("user appears in the environment"); used in logs and the timeout error. */
  name: string;
  /** Give up after this long. */
  timeoutMs: number;
  /** Give up after this many attempts. */
  attempts: number;
  /** ApiError kinds that mean "not yet" (e.g. NotFound right after a create). Other errors fail at once. */
  retryOn: ApiErrorKind[];
  /** First pause between attempts, in ms (doubles up to `maxDelayMs`). Default 500. */
  initialDelayMs?: number;
  /** Largest pause, in ms. Default 10000. */
  maxDelayMs?: number;
  clock?: Clock;
  /** One line per attempt. Default: NODE_DEBUG=d365-access. */
  log?: (line: string) => void;
}

/** Thrown when a {@link waitFor} runs out of time or attempts. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Eventual consistency as a named, bounded wait: calls `attempt` until it returns a value other
 * than undefined; an ApiError whose kind is in `retryOn` (or an undefined result) means "not
 * yet". Throws {@link WaitTimeoutError} naming what is still missing.
 */
export async function waitFor<T>(options: WaitForOptions, attempt: () => Promise<T | undefined>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const say = options.log ?? ((line: string) => log(line));
  const start = clock.now();
  let delay = options.initialDelayMs ?? 500;
  let last = "not visible yet";
  for (let i = 1; i <= options.attempts; i++) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
      last = "not visible yet";
    } catch (e) {
      if (!isApiError(e) || !options.retryOn.includes(e.kind)) throw e;
      last = e.toString();
    }
    const elapsed = clock.now() - start;
    say(`${options.name}: attempt ${i}/${options.attempts} after ${Math.round(elapsed / 1000)} s: ${last}`);
    if (i === options.attempts) break;
    const remaining = options.timeoutMs - elapsed;
    if (remaining <= 0) break;
    await clock.sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, options.maxDelayMs ?? 10_000);
  }
  const seconds = Math.round((clock.now() - start) / 1000);
  throw new WaitTimeoutError(`timed out waiting for ${options.name} (${seconds} s): ${last}`);
}

/**
 * `Promise.all` that waits for every request before failing, so no request outlives the
 * operation that started it (an orphan would keep retrying after the error was reported).
 */
export async function settled<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
