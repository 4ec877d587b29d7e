/**
 * The thin serialized provider.
 *
 * Pulumi stores a dynamic provider's code in the state, twice per resource (inputs and outputs:
 * `resultIncludingProvider` in
 * https://github.com/pulumi/pulumi/blob/v3.259.0/sdk/nodejs/cmd/dynamic-provider/index.ts), and
 * `refresh`/`destroy` run that stored copy (https://github.com/pulumi/pulumi/issues/6490). Letting the SDK
 * serialize a real provider would store its whole closure (hundreds of lines per resource, with
 * whatever paths or values it captured). So our resources carry a hand-written loader of a few
 * hundred bytes instead: one line that names the implementation module and asks
 * `providers/core/loader.cjs`, in the provider process, to import it from the project the
 * engine runs in. That keeps:
 *  - state small (about 130 bytes per copy; see test/engine/canary.test.ts);
 *  - no absolute path or credential in state: the project root is found at run time, from
 *    `D365_ACCESS_ROOT` (set by scripts/with-node) or the working directory, which the engine
 *    sets to the program directory (`getPwdMain` in
 *    https://github.com/pulumi/pulumi/blob/v3.259.0/pkg/engine/project.go);
 *  - a fixed bug effective at once for refresh and destroy, and a state written in one checkout
 *    usable from another.
 *
 * The loader follows the provider host's contract (`@pulumi/pulumi/cmd/dynamic-provider`:
 * `requireFromString(text).handler()` returns the provider object). It is what
 * `pulumi.dynamic.Resource` produces, minus the closure, so resources subclass
 * `pulumi.CustomResource` with the same `pulumi-nodejs:dynamic/<module>:<Type>` token.
 */
import * as pulumi from "@pulumi/pulumi";

/** Every method of a dynamic provider; implementations must provide all of them. */
export type ProviderImplementation<
  Inputs = Record<string, unknown>,
  Outputs = Record<string, unknown>,
> = Required<
  Pick<
    pulumi.dynamic.ResourceProvider<Inputs, Outputs>,
    "configure" | "check" | "diff" | "create" | "read" | "update" | "delete"
  >
>;

const IMPLEMENTATION = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*$/;

/**
 * Returns the serialized provider for `providers/<implementation>.ts`, whose `provider` export
 * must be a {@link ProviderImplementation}. The text only calls `providers/core/loader.cjs`
 * (a stable contract with every state written) with the implementation's name.
 *
 * @param implementation module below `providers/` without extension, e.g. `"entra/resources"`.
 */
export function shimSource(implementation: string): string {
  if (!IMPLEMENTATION.test(implementation)) {
    throw new Error(`shim: implementation "${implementation}" must look like "system/module"`);
  }
  return `exports.handler=()=>require((process.env.D365_ACCESS_ROOT||process.cwd())+"/providers/core/loader.cjs")(${JSON.stringify(implementation)})`;
}

/**
 * Base class of every d365-access resource: a custom resource served by the engine's
 * `pulumi-nodejs` dynamic-provider host through the loader above.
 */
export class ShimResource extends pulumi.CustomResource {
  /**
   * @param module the system, e.g. `"entra"`; part of the type token.
   * @param type the resource type, e.g. `"User"`.
   * @param implementation see {@link shimSource}.
   * @param name the Pulumi resource name (unique per type in the stack).
   * @param props inputs, plus outputs seeded as `undefined` so they appear on the resource.
   */
  constructor(
    module: string,
    type: string,
    implementation: string,
    name: string,
    props: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    if ("__provider" in props) throw new Error("a resource must not define the __provider key");
    // The SDK records where each resource was declared by parsing `new Error().stack` inside the
    // Resource constructor, and stores that position and the whole call stack in every
    // resource's state. For ES modules it records `file:` URLs as if they were paths: the
    // checkout's absolute path. And every d365-access resource is declared by the same loop of
    // the program, so the position says nothing. While the SDK captures, the stack is rendered
    // without frames: nothing is recorded (about 150 bytes less per resource).
    const restore = Error.prepareStackTrace;
    Error.prepareStackTrace = noFrames;
    try {
      super(
        `pulumi-nodejs:dynamic/${module}:${type}`,
        name,
        { ...props, __provider: shimSource(implementation) },
        opts,
      );
    } finally {
      Error.prepareStackTrace = restore;
    }
  }
}

/** A stack without frames: what the SDK then records as the declaration's position is nothing. */
function noFrames(error: Error): string {
  return `${error.name}: ${error.message}`;
}
