/** The HTTP core's public face: errors, OData escaping, the service client, credentials, settings, run state. */
export * from "./credentials.ts";
export * from "./errors.ts";
export * from "./http.ts";
export * from "./odata.ts";
export * from "./provider.ts";
export * from "./retry.ts";
export * from "./runtime.ts";
export * from "./settings.ts";
