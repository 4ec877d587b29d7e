/**
 * The baseline of bench/perf.ts: a naive Pulumi program with BENCH_BASELINE_RESOURCES no-op
 * dynamic resources (the provider closure serialized into every resource, as
 * `pulumi.dynamic.Resource` does by default), run by the same `d365-access` CLI, engine and
 * backend as the real program (`--program bench/_baseline-program.ts`), so the ratio of the two
 * is our own cost over the bare engine's.
 */
import process from "node:process";
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: String(inputs.name), outs: inputs };
  },
  async diff() {
    return { changes: false };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

class NoOp extends pulumi.dynamic.Resource {
  constructor(name: string) {
    super(noop, name, { name }, {});
  }
}

export async function program(): Promise<Record<string, unknown>> {
  const count = Number(process.env.BENCH_BASELINE_RESOURCES ?? 0);
  for (let i = 0; i < count; i++) new NoOp(`r${i}`);
  return { count };
}
