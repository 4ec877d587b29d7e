/**
 * Fault injection settings: defaults, the CLI's compact syntax, per-service resolution.
 */
import type { FaultProfile, FaultSettings, ServiceName } from "./types.ts";

/** No faults at all (the default). */
export function defaultFaults(): FaultSettings {
  return {
    latencyMs: 0,
    jitterMs: 0,
    rate429: 0,
    retryAfterSeconds: 2,
    rate503: 0,
    syncDelaySeconds: 5,
    services: {},
  };
}

const SERVICES: readonly ServiceName[] = ["login", "graph", "powerplatform", "dataverse", "fno", "admin"];
const PROFILE_KEYS: readonly (keyof FaultProfile)[] = [
  "latencyMs",
  "jitterMs",
  "rate429",
  "retryAfterSeconds",
  "rate503",
];

/** A fault-settings update as accepted by the admin API and `startSandbox({ faults })`. */
export type FaultUpdate = Partial<Omit<FaultSettings, "services">> & {
  services?: Partial<Record<ServiceName, Partial<FaultProfile> | null>>;
};

function checkNumber(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    throw new RangeError(`fault setting '${name}' must be a number between 0 and ${max}`);
  }
  return value;
}

function checkProfile(prefix: string, update: Record<string, unknown>): Partial<FaultProfile> {
  const out: Partial<FaultProfile> = {};
  for (const [key, value] of Object.entries(update)) {
    if (!(PROFILE_KEYS as readonly string[]).includes(key))
      throw new RangeError(`unknown fault setting '${prefix}${key}'`);
    const max = key.startsWith("rate") ? 1 : 3_600_000;
    out[key as keyof FaultProfile] = checkNumber(`${prefix}${key}`, value, max);
  }
  return out;
}

/**
 * Applies an update to settings (returns new settings; throws RangeError naming the bad field).
 * A service set to `null` drops its override.
 */
export function mergeFaults(current: FaultSettings, update: FaultUpdate): FaultSettings {
  const { services, syncDelaySeconds, ...profile } = update;
  const next: FaultSettings = {
    ...current,
    ...checkProfile("", profile as Record<string, unknown>),
    services: { ...current.services },
  };
  if (syncDelaySeconds !== undefined)
    next.syncDelaySeconds = checkNumber("syncDelaySeconds", syncDelaySeconds, 86_400);
  for (const [name, override] of Object.entries(services ?? {})) {
    if (!(SERVICES as readonly string[]).includes(name))
      throw new RangeError(`unknown service '${name}' in fault settings`);
    const service = name as ServiceName;
    if (override === null) delete next.services[service];
    else
      next.services[service] = {
        ...next.services[service],
        ...checkProfile(`services.${name}.`, override as Record<string, unknown>),
      };
  }
  return next;
}

/** The effective profile of one service: its override on top of the defaults. */
export function profileFor(settings: FaultSettings, service: ServiceName): FaultProfile {
  const base: FaultProfile = {
    latencyMs: settings.latencyMs,
    jitterMs: settings.jitterMs,
    rate429: settings.rate429,
    retryAfterSeconds: settings.retryAfterSeconds,
    rate503: settings.rate503,
  };
  return { ...base, ...settings.services[service] };
}

/**
 * Parses the CLI's `--faults 429=0.2,503=0.05` (also `latency=MS`, `jitter=MS`, `retry-after=S`).
 * @throws RangeError naming the bad item.
 */
export function parseFaultSpec(spec: string): FaultUpdate {
  const out: FaultUpdate = {};
  for (const item of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, raw] = item.split("=", 2);
    const value = Number(raw);
    if (raw === undefined || raw.trim() === "" || !Number.isFinite(value)) {
      throw new RangeError(`bad fault '${item}': expected NAME=NUMBER, e.g. 429=0.2`);
    }
    switch (key?.trim()) {
      case "429":
        out.rate429 = value;
        break;
      case "503":
        out.rate503 = value;
        break;
      case "latency":
        out.latencyMs = value;
        break;
      case "jitter":
        out.jitterMs = value;
        break;
      case "retry-after":
        out.retryAfterSeconds = value;
        break;
      default:
        throw new RangeError(`unknown fault '${key}': use 429, 503, latency, jitter or retry-after`);
    }
  }
  // Validate ranges now so the CLI can refuse before starting anything.
  mergeFaults(defaultFaults(), out);
  return out;
}
