/** Entra ID users and their direct licenses: the public face of `providers/entra`. */
export { createEntraClient, type EntraClient } from "./client.ts";
export type { Sku } from "./dto.ts";
export { toSku } from "./dto.ts";
export * from "./plan.ts";
export {
  EntraUser,
  type EntraUserArgs,
  type EntraUserInputs,
  type EntraUserOutputs,
  provider,
} from "./resources.ts";
