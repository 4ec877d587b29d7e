/**
 * Fault injection settings: defaults, the CLI's compact syntax, per-service resolution.
 */
import type {
  DataverseLimits,
  FaultProfile,
  FaultSettings,
  FidelitySwitches,
  ServiceName,
  ServicingWindow,
} from "./types.ts";

/**
 * Dataverse's documented service protection limits per user per web server
 * (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
 */
export const DATAVERSE_DOCUMENTED_LIMITS: DataverseLimits = {
  requestsPerWindow: 6000,
  windowSeconds: 300,
  concurrentRequests: 52,
};

/** No faults at all (the default). */
export function defaultFaults(): FaultSettings {
  return {
    latencyMs: 0,
    jitterMs: 0,
    rate429: 0,
    retryAfterSeconds: 2,
    rate503: 0,
    syncDelaySeconds: 5,
    graphNewUserDelaySeconds: 0,
    graphPropertyDelaySeconds: 0,
    dataverseLimits: { ...DATAVERSE_DOCUMENTED_LIMITS },
    servicing: [],
    fidelity: { expandNextLinks: true, notLicensedInMessage: true },
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
export type FaultUpdate = Partial<Omit<FaultSettings, "services" | "dataverseLimits" | "fidelity">> & {
  dataverseLimits?: Partial<DataverseLimits>;
  fidelity?: Partial<FidelitySwitches>;
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
  const {
    services,
    syncDelaySeconds,
    graphNewUserDelaySeconds,
    graphPropertyDelaySeconds,
    dataverseLimits,
    servicing,
    fidelity,
    ...profile
  } = update;
  const next: FaultSettings = {
    ...current,
    ...checkProfile("", profile as Record<string, unknown>),
    dataverseLimits: { ...current.dataverseLimits },
    servicing: [...current.servicing],
    fidelity: { ...current.fidelity },
    services: { ...current.services },
  };
  if (syncDelaySeconds !== undefined)
    next.syncDelaySeconds = checkNumber("syncDelaySeconds", syncDelaySeconds, 86_400);
  if (graphNewUserDelaySeconds !== undefined)
    next.graphNewUserDelaySeconds = checkNumber("graphNewUserDelaySeconds", graphNewUserDelaySeconds, 3_600);
  if (graphPropertyDelaySeconds !== undefined)
    next.graphPropertyDelaySeconds = checkNumber(
      "graphPropertyDelaySeconds",
      graphPropertyDelaySeconds,
      3_600,
    );
  for (const [key, value] of Object.entries(dataverseLimits ?? {})) {
    if (!(key in DATAVERSE_DOCUMENTED_LIMITS))
      throw new RangeError(`unknown fault setting 'dataverseLimits.${key}'`);
    const n = checkNumber(`dataverseLimits.${key}`, value, 1_000_000);
    if (!Number.isInteger(n))
      throw new RangeError(`fault setting 'dataverseLimits.${key}' must be an integer`);
    next.dataverseLimits[key as keyof DataverseLimits] = n;
  }
  if (servicing !== undefined) next.servicing = checkServicing(servicing);
  for (const [key, value] of Object.entries(fidelity ?? {})) {
    if (!(key in next.fidelity)) throw new RangeError(`unknown fault setting 'fidelity.${key}'`);
    if (typeof value !== "boolean")
      throw new RangeError(`fault setting 'fidelity.${key}' must be true or false`);
    next.fidelity[key as keyof FidelitySwitches] = value;
  }
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

function checkServicing(windows: unknown): ServicingWindow[] {
  if (!Array.isArray(windows)) throw new RangeError("fault setting 'servicing' must be an array");
  return windows.map((w, i) => {
    const window = w as Partial<ServicingWindow>;
    if (!(SERVICES as readonly unknown[]).includes(window.service) || window.service === "admin")
      throw new RangeError(`servicing[${i}].service must name a service`);
    if (window.status !== 404 && window.status !== 503)
      throw new RangeError(`servicing[${i}].status must be 404 or 503`);
    if (window.environment !== undefined && typeof window.environment !== "string")
      throw new RangeError(`servicing[${i}].environment must be a string`);
    if (
      window.untilMs !== undefined &&
      (typeof window.untilMs !== "number" || !Number.isFinite(window.untilMs))
    )
      throw new RangeError(`servicing[${i}].untilMs must be a number`);
    const out: ServicingWindow = { service: window.service as ServiceName, status: window.status };
    if (window.environment !== undefined) out.environment = window.environment;
    if (window.untilMs !== undefined) out.untilMs = window.untilMs;
    return out;
  });
}

/** The servicing window covering a request to `service`/`environment` at `nowMs`, if any. */
export function servicingFor(
  settings: FaultSettings,
  service: ServiceName,
  environment: string | undefined,
  nowMs: number,
): ServicingWindow | undefined {
  return settings.servicing.find(
    (w) =>
      w.service === service &&
      (w.environment === undefined || w.environment === environment) &&
      (w.untilMs === undefined || nowMs < w.untilMs),
  );
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
