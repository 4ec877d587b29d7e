/**
 * Stands in for a service module whose folder has not landed yet (the sandbox is built by
 * several people at once): it accepts tokens for the service's audiences and answers every
 * request with a loud 501, so nothing silently pretends to work.
 */
import type { MountedModule } from "./server.ts";
import type { ServiceName } from "./types.ts";

/** A 501-everything module for `service`, accepting `audiences`. */
export function placeholderModule(
  service: ServiceName,
  audiences: (environment?: string) => string[],
): MountedModule {
  const notImplemented = (method: string, path: string) => ({
    status: 501,
    body: {
      error: {
        code: "NotImplemented",
        message: `The sandbox's ${service} emulator is not available: ${method} ${path} is not routed.`,
      },
    },
  });
  return {
    name: service,
    audiences: (_ctx, environment) => audiences(environment),
    unauthorized: (failure) => ({
      status: 401,
      body: { error: { code: "Unauthorized", message: `Token refused (${failure.kind}).` } },
    }),
    throttled: (seconds) => ({
      status: 429,
      headers: { "retry-after": String(seconds) },
      body: { error: { code: "TooManyRequests" } },
    }),
    unavailable: () => ({ status: 503, body: { error: { code: "ServiceUnavailable" } } }),
    handle: (req) => notImplemented(req.method, req.url.pathname),
    seed: () => ({}),
  };
}
