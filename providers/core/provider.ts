/**
 * Small helpers every dynamic provider needs at its boundary with the engine
 * (reference/pulumi.md §1.2–1.3).
 */
import { isApiError } from "./errors.ts";

/** The value the engine sends for not-yet-known inputs during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether a value (or any value inside it) is the preview's unknown sentinel. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** The key under which the engine stores the serialized provider; never ours to compare. */
export const PROVIDER_KEY = "__provider";

/**
 * An Error whose message is one actionable line and whose stack is that same line: the
 * provider host prints `${e}: ${e.stack}`, and a stack trace is noise for an API refusal.
 */
export function oneLineError(e: unknown): Error {
  const line = isApiError(e) ? e.toString() : e instanceof Error ? e.message.split("\n")[0] : String(e);
  const error = new Error(line ?? "unknown error");
  error.stack = line;
  return error;
}

/**
 * A partial failure the engine records as "created but not fully initialized" (the object
 * exists with this id; a re-run calls `update` and resumes). `inputs` supplies `__provider`,
 * which the engine adds only to successful results and which refresh and destroy need.
 */
export function partialFailure(
  id: string,
  properties: Record<string, unknown>,
  inputs: Record<string, unknown>,
  cause: unknown,
): Error & { id: string; properties: Record<string, unknown>; reasons: string[] } {
  const base = oneLineError(cause);
  return Object.assign(base, {
    id,
    properties: { ...properties, [PROVIDER_KEY]: inputs[PROVIDER_KEY] },
    reasons: [base.message],
  });
}

/** Removes the serialized provider from an input or output record. */
export function withoutProvider<T extends Record<string, unknown>>(record: T): Omit<T, "__provider"> {
  const { [PROVIDER_KEY]: _, ...rest } = record;
  return rest;
}
