/**
 * The one line a program failure prints: a RunError (which the engine shows without a stack
 * trace) whose message names the system, what failed, the API's code and request id, and the
 * fix, from the provider kit's {@link errorLine}. Raw errors (a refused token while reading the
 * tenant, a missing permission) would otherwise escape as "Unhandled exception" with a stack,
 * losing the hint. `--verbose` (D365_ACCESS_VERBOSE) keeps the original error and its stack.
 */
import process from "node:process";
import * as pulumi from "@pulumi/pulumi";
import { isApiError } from "../../providers/core/errors.ts";
import { errorLine } from "../../providers/core/provider.ts";
import { SettingsError } from "../../providers/core/settings.ts";

/** Whether `--verbose` asked for raw errors with their stack traces. */
export function verbose(): boolean {
  return Boolean(process.env.D365_ACCESS_VERBOSE);
}

/** The error the program should throw for `e`, raised while it read the tenant or planned. */
export function programError(e: unknown, stack: string): unknown {
  if (verbose() || pulumi.RunError.isInstance(e)) return e;
  if (e instanceof SettingsError) return new pulumi.RunError(`stack "${stack}": ${e.message}`);
  if (isApiError(e))
    return new pulumi.RunError(`reading the tenant failed; nothing was changed: ${errorLine(e)}`);
  return new pulumi.RunError(`${errorLine(e)} (run with --verbose for the stack trace)`);
}
