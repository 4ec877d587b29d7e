/**
 * The provider kit: the one way a system defines its dynamic provider. A system writes its
 * resource as a {@link ResourceSpec} of plain functions over its own inputs and outputs;
 * {@link defineProvider} turns it into the seven methods the engine's provider host calls
 * (reference: `@pulumi/pulumi` `cmd/dynamic-provider`), and does, the same way for every system:
 *  - `configure`: the per-process runtime from the stack config (runtime.ts);
 *  - the serialized provider (`__provider`) is stripped before the spec sees a record, and put
 *    back into a partial failure's properties (the engine adds it only to successful results,
 *    and refresh and destroy need it);
 *  - unknown values during preview: `check` skips the checks that need the service while what
 *    they read is unknown, `diff` compares the known values and counts every unknown one as a
 *    change;
 *  - every error becomes one line naming the resource type, the user and the environment; a
 *    failure after some writes becomes a partial failure carrying the state reached and what
 *    was and was not done (operation.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { isApiError } from "./errors.ts";
import { ExecutionError } from "./operation.ts";
import { configureRuntime, type Runtime, runtime } from "./runtime.ts";
import { SettingsError } from "./settings.ts";
import type { ProviderImplementation } from "./shim.ts";

/** The value the engine sends for not-yet-known inputs during preview (`unknownValue` in pulumi/pulumi `sdk/nodejs/runtime/rpc.ts`). */
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

/** Removes the serialized provider from an input or output record. */
export function withoutProvider<T extends object>(record: T): T {
  const { [PROVIDER_KEY]: _, ...rest } = record as Record<string, unknown>;
  return rest as T;
}

/** Pulumi's Struct conversion rejects `undefined`: drops such keys (shallow). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Input that cannot be applied (an unknown or ambiguous name, a refused identity); one line per
 * problem, so a user fixes them all in one pass. `property` names the input at fault for `check`.
 */
export class PlanError extends Error {
  readonly problems: string[];
  readonly property: string | undefined;
  constructor(problems: string[], property?: string) {
    super(problems.join("\n"));
    this.name = "PlanError";
    this.problems = problems;
    this.property = property;
  }
}

/**
 * A create or update that wrote something and then failed: the engine records `id` and the
 * state reached (`properties`), so the next `up` sees the remaining difference, calls `update`
 * and resumes (the `properties`/`reasons` of pulumi/pulumi `sdk/nodejs/cmd/dynamic-provider/index.ts`). Thrown by a spec; {@link defineProvider} names the
 * resource, adds `__provider` and says what was and was not done.
 */
export class PartialFailure extends Error {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
  constructor(id: string, properties: object, cause: unknown) {
    const line = errorLine(cause);
    super(line);
    this.name = "PartialFailure";
    this.id = id;
    this.properties = { ...properties };
    this.reasons = [line];
    this.cause = cause;
  }
}

/** One line for any failure: an API error with status, code, request id and hint; plan problems joined. */
export function errorLine(e: unknown): string {
  if (e instanceof PartialFailure) return e.message;
  if (e instanceof ExecutionError) {
    const progress = `${e.done.length} of ${e.done.length + 1 + e.remaining.length} operations done, stopped at ${e.describe(e.failed)}`;
    return `${errorLine(e.cause)} (${progress})`;
  }
  if (e instanceof PlanError) return e.problems.join("; ");
  if (isApiError(e)) return e.toString();
  if (e instanceof Error) return e.message.replace(/\s*\n\s*/g, "; ");
  return String(e);
}

/** Who a record concerns, for error lines. */
export interface Subject {
  user?: string | undefined;
  environment?: string | undefined;
}

/** A check failure the engine shows next to the property. */
export type CheckFailure = pulumi.dynamic.CheckFailure;

/** The answer of a diff. */
export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}

/**
 * A resource type as a system writes it: pure checks and diff, and the four operations, each
 * given the run's {@link Runtime}. Records never carry `__provider` here.
 */
export interface ResourceSpec<I extends object, O extends object> {
  /** The type as users read it, e.g. `entra:User`. */
  readonly type: string;
  /** The user and environment a record concerns. */
  subject(record: Partial<I & O>): Subject;
  /** Normalizes and checks the inputs without I/O; unknown values are kept as they are. */
  check(news: Record<string, unknown>): { inputs: I; failures: CheckFailure[] };
  /**
   * Checks that need the service (names against a catalog), run only when `check` found nothing
   * and the inputs in {@link validates} are known. Settings and API failures here are not check
   * failures: the operation that needs the call reports them.
   */
  validate?(inputs: I, rt: Runtime): Promise<CheckFailure[]>;
  /**
   * The inputs `validate` reads; it runs in a preview where others are still unknown (a new
   * user's object id), so bad names fail before any write. Default: every input.
   */
  readonly validates?: readonly (keyof I & string)[];
  /** Pure comparison of the last outputs with new inputs. */
  diff(olds: O, news: I): DiffResult;
  create(inputs: I, rt: Runtime): Promise<{ id: string; outs: O }>;
  /** The live state, or undefined when the object is gone (refresh then drops the resource). */
  read(id: string, props: O, rt: Runtime): Promise<{ id: string; props: O } | undefined>;
  update(id: string, olds: O, news: I, rt: Runtime): Promise<O>;
  delete(id: string, props: O, rt: Runtime): Promise<void>;
}

/** `<type> <user> in environment "<env>"`: who a line is about. */
function where(type: string, subject: Subject): string {
  const user = subject.user === undefined ? "" : ` ${subject.user}`;
  return `${type}${user}${subject.environment ? ` in environment "${subject.environment}"` : ""}`;
}

let warned = new Set<string>();
let sink = (line: string): void => void process.stderr.write(`${line}\n`);

/** Collects warnings instead of writing them (tests); `restore` puts the stderr sink back. */
export function captureWarnings(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const previous = { sink, warned };
  sink = (line) => void lines.push(line);
  warned = new Set();
  return {
    lines,
    restore() {
      ({ sink, warned } = previous);
    },
  };
}

/**
 * A finding that does not stop the operation (a role left to a team, a delete F&O refused): one
 * line `warning: <type> <user> in environment "<env>": <message>` on the provider process's
 * stderr, which the engine shows under the run's Diagnostics (unstructured provider output is
 * passed through since pulumi v3.146.0, pulumi/pulumi#18253). The same line is written once per
 * process.
 */
export function warning(type: string, subject: Subject, message: string): void {
  const line = `warning: ${where(type, subject)}: ${message.replace(/\s*\n\s*/g, "; ")}`;
  if (warned.has(line)) return;
  warned.add(line);
  sink(line);
}

/** The error a provider method throws: one line (its stack is that line) naming type, user and environment. */
function failure(spec: { type: string }, subject: Subject, e: unknown, raw: object): Error {
  const line = `${where(spec.type, { user: subject.user ?? "?", environment: subject.environment })}: ${errorLine(e)}`;
  const error =
    e instanceof PartialFailure
      ? Object.assign(new Error(line), {
          id: e.id,
          properties: { ...e.properties, [PROVIDER_KEY]: (raw as Record<string, unknown>)[PROVIDER_KEY] },
          reasons: [line],
        })
      : new Error(line);
  // The provider host prints `${e}: ${e.stack}`; a stack trace is noise for an API refusal.
  error.stack = line;
  return error;
}

/** Turns a {@link ResourceSpec} into the provider the shim loads (all seven methods). */
export function defineProvider<I extends object, O extends object>(
  spec: ResourceSpec<I, O>,
): ProviderImplementation<I, O> {
  const guard = async <T>(record: object, raw: object, run: (rt: Runtime) => Promise<T>): Promise<T> => {
    try {
      return await run(await runtime());
    } catch (e) {
      throw failure(spec, spec.subject(record as Partial<I & O>), e, raw);
    }
  };
  return {
    async configure(req) {
      configureRuntime(req.config);
    },

    async check(_olds, news) {
      const { inputs, failures } = spec.check(withoutProvider(news as Record<string, unknown>));
      const needed = spec.validates
        ? spec.validates.map((key) => (inputs as Record<string, unknown>)[key])
        : inputs;
      if (failures.length === 0 && spec.validate && !containsUnknown(needed)) {
        try {
          failures.push(...(await spec.validate(inputs, await runtime())));
        } catch (e) {
          if (!isApiError(e) && !(e instanceof SettingsError)) throw e;
        }
      }
      return { inputs, failures };
    },

    async diff(_id, olds, news) {
      const previous = withoutProvider(olds);
      const next = withoutProvider(news) as Record<string, unknown>;
      const unknown = Object.keys(next).filter((k) => containsUnknown(next[k]));
      if (unknown.length === 0) return { deleteBeforeReplace: false, ...spec.diff(previous, next as I) };
      // An unknown value (an output of a resource being created or replaced in the same preview)
      // cannot be compared: the known values decide a replacement, and `up`, which sees the real
      // values, decides the rest.
      const known = { ...next };
      for (const k of unknown) known[k] = (previous as Record<string, unknown>)[k];
      const result = spec.diff(previous, known as I);
      return { ...result, changes: true, deleteBeforeReplace: result.deleteBeforeReplace ?? false };
    },

    async create(raw) {
      const inputs = withoutProvider(raw);
      return guard(inputs, raw, (rt) => spec.create(inputs, rt));
    },

    async read(id, raw) {
      const props = withoutProvider(raw ?? ({} as O));
      const found = await guard(props, props, (rt) => spec.read(id, props, rt));
      return found ?? { id: "" };
    },

    async update(id, rawOlds, rawNews) {
      const news = withoutProvider(rawNews);
      return {
        outs: await guard(news, rawNews, (rt) => spec.update(id, withoutProvider(rawOlds), news, rt)),
      };
    },

    async delete(id, raw) {
      const props = withoutProvider(raw);
      await guard(props, raw, (rt) => spec.delete(id, props, rt));
    },
  };
}
