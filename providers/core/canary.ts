/**
 * The engine canary: the smallest resource that goes through the thin shim (shim.ts) and the
 * real engine. It calls no API; test/engine/canary.test.ts drives it through preview, up,
 * refresh and destroy so that a toolchain upgrade (Node, @pulumi/pulumi, the pulumi CLI) that
 * breaks the provider host, serialization or state handling fails one small test first.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { type ProviderImplementation, ShimResource } from "./shim.ts";

/** Inputs of the canary. */
export interface CanaryInputs {
  /** Any text; changing it updates the resource in place. */
  message: string;
}

/** Outputs of the canary. */
export interface CanaryOutputs extends CanaryInputs {
  /** SHA-256 of the message, computed by the provider process (proves it ran). */
  digest: string;
}

/** A no-API resource served by `providers/core/canary.ts` through the shim. */
export class Canary extends ShimResource {
  declare readonly digest: pulumi.Output<string>;
  constructor(name: string, args: { message: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super("core", "Canary", "core/canary", name, { ...args, digest: undefined }, opts);
  }
}

const digest = (message: string) => createHash("sha256").update(message).digest("hex");

export const provider: ProviderImplementation<CanaryInputs, CanaryOutputs> = {
  async configure() {},
  async check(_olds, news) {
    if (typeof news.message !== "string" || news.message.length === 0) {
      return { failures: [{ property: "message", reason: "message must be a non-empty string" }] };
    }
    return { inputs: { message: news.message } };
  },
  async diff(_id, olds, news) {
    return { changes: olds.message !== news.message };
  },
  async create(inputs) {
    return {
      id: `canary-${digest(inputs.message).slice(0, 12)}`,
      outs: { ...inputs, digest: digest(inputs.message) },
    };
  },
  async read(id, props) {
    const message = props?.message ?? "";
    return { id, props: { message, digest: digest(message) } };
  },
  async update(_id, _olds, news) {
    return { outs: { ...news, digest: digest(news.message) } };
  },
  async delete() {},
};
