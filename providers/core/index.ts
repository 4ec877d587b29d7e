/**
 * The core's public face: the HTTP core (errors, OData escaping, the service client, retries,
 * credentials, settings, run state), the provider kit and its executor, the removal rule, the
 * shape of a service and of a registry entry, and the rules about a declared person. It names
 * no system.
 */
export * from "./credentials.ts";
export * from "./errors.ts";
export * from "./http.ts";
export * from "./odata.ts";
export * from "./operation.ts";
export * from "./provider.ts";
export * from "./removal.ts";
export * from "./retry.ts";
export * from "./runtime.ts";
export * from "./service.ts";
export * from "./settings.ts";
export * from "./system.ts";
export * from "./user.ts";
