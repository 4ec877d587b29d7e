/**
 * What an interrupted run had in flight, as the next run's providers learn it (issue 16 item 1).
 * `d365-access` reads it from the last deployment (pending operations, and the record `recover`
 * or a skip-checkpoints run left in the root Stack's outputs; src/engine/recovery.ts) and hands
 * it to the provider process in {@link IN_FLIGHT_ENV}. A system's `create` that FINDS what the
 * killed run was writing uses it to record the truth: declared roles found on a resource in
 * flight were granted by d365-access, not found; an account found for a person whose identity
 * the killed run created was created by d365-access, not adopted.
 *
 * Without it (the official CLI, whose provider process gets no such variable) the same finds are
 * recorded as found/adopted: the safe direction (never deleted), and removal revokes the whole
 * owned scope either way (core/removal.ts).
 */
import process from "node:process";

/** The root Stack output holding the record; a run that ends rewrites the outputs without it. */
export const IN_FLIGHT_OUTPUT = "d365-access:inFlight";
/** The provider process's environment variable holding the record as JSON. */
export const IN_FLIGHT_ENV = "D365_ACCESS_IN_FLIGHT";

/** The record. */
export interface InFlight {
  /** When a skip-checkpoints run started (it writes nothing else before it ends). */
  since?: string;
  /** Identity resources (lower-cased UPNs) being created without a known object id. */
  creates?: string[];
  /** Every resource name (`<upn>` or `<upn>/<environment>`) with an operation in flight. */
  resources?: string[];
}

let cached: { raw: string | undefined; record: InFlight } | undefined;

/** The record handed to this process (empty when none). */
export function inFlight(): InFlight {
  const raw = process.env[IN_FLIGHT_ENV];
  if (cached && cached.raw === raw) return cached.record;
  let record: InFlight = {};
  try {
    record = raw ? (JSON.parse(raw) as InFlight) : {};
  } catch {
    record = {};
  }
  cached = { raw, record };
  return record;
}

/**
 * Whether the interrupted run may have written resource `name` (`<upn>` or `<upn>/<env>`): named
 * in flight, or any resource when a skip-checkpoints run (which records no names) was killed.
 */
export function wasInFlight(name: string): boolean {
  const record = inFlight();
  return record.since !== undefined || (record.resources ?? []).includes(name.toLowerCase());
}
