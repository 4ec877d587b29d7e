/** Entra ID users and their direct licenses: the public face of `providers/entra`. */
export { checkInputs } from "./check.ts";
export { createEntraClient, type EntraClient } from "./client.ts";
export { toSku, toUserSnapshot } from "./dto.ts";
export * from "./model.ts";
export * from "./plan.ts";
export { EntraUser, type EntraUserArgs, provider, randomPassword, spec } from "./resources.ts";
export { graph as graphService } from "./service.ts";
