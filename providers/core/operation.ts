/**
 * The one executor pattern: a system's pure plan returns a list of operations (a discriminated
 * union on `kind`); its resource executes them with one handler per kind, in the plan's order
 * (the order is a safety property the plan decides). The executor records what ran, so a
 * failure part-way says exactly what is done and what remains, and a partial failure can
 * report the state reached (provider.ts).
 */

/** One remote change a plan decides; `kind` names the handler that performs it. */
export interface Operation {
  readonly kind: string;
}

/** One handler per operation kind. */
export type Handlers<Op extends Operation> = {
  readonly [K in Op["kind"]]: (op: Extract<Op, { kind: K }>) => Promise<void>;
};

/** Thrown when an operation fails: what was done, what failed, what was not attempted. */
export class ExecutionError<Op extends Operation = Operation> extends Error {
  readonly done: readonly Op[];
  readonly failed: Op;
  readonly remaining: readonly Op[];
  /** How the plan words an operation (for the error line). */
  readonly describe: (op: Op) => string;
  constructor(done: Op[], failed: Op, remaining: Op[], cause: unknown, describe: (op: Op) => string) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ExecutionError";
    this.done = done;
    this.failed = failed;
    this.remaining = remaining;
    this.describe = describe;
    this.cause = cause;
  }
}

/** Options of {@link execute}. */
export interface ExecuteOptions<Op extends Operation> {
  /** How the plan words an operation; default its kind. */
  describe?: (op: Op) => string;
  /** Called before each operation runs (e.g. to mark what the run wrote). */
  before?: (op: Op) => void;
}

/**
 * Runs `operations` one after another with their handlers. Returns the operations done (all of
 * them); on the first failure throws {@link ExecutionError} with the journal.
 */
export async function execute<Op extends Operation>(
  operations: readonly Op[],
  handlers: Handlers<Op>,
  options: ExecuteOptions<Op> = {},
): Promise<Op[]> {
  const done: Op[] = [];
  for (const [i, op] of operations.entries()) {
    options.before?.(op);
    const handler = handlers[op.kind as Op["kind"]] as (op: Op) => Promise<void>;
    try {
      await handler(op);
    } catch (e) {
      throw new ExecutionError(done, op, operations.slice(i + 1), e, options.describe ?? ((o) => o.kind));
    }
    done.push(op);
  }
  return done;
}
