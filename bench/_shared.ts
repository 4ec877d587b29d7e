/**
 * What bench/requests.ts shares with its per-system scenario modules (the leading underscore
 * keeps `npm run bench` from running these files on their own).
 */

import { shimSource } from "../providers/core/shim.ts";
import type { RunningSandbox } from "../sandbox/index.ts";

/** What every scenario gets. */
export interface BenchContext {
  sandbox: RunningSandbox;
  /** How many unchanged users the refresh scenarios read. */
  users: number;
  /** Starts a new "run": fresh runtime (clients, caches) configured for the sandbox, counters at zero. */
  newRun(): void;
}

/** One measurement. */
export interface Scenario {
  system: string;
  name: string;
  run(): Promise<{ requests: number; detail?: Record<string, number>; stateBytes?: number }>;
}

/** Bytes the engine stores for one resource: inputs and outputs, each carrying `__provider`. */
export function stateBytes(implementation: string, inputs: object, outputs: object): number {
  const shim = shimSource(implementation);
  return Buffer.byteLength(
    JSON.stringify({ inputs: { ...inputs, __provider: shim }, outputs: { ...outputs, __provider: shim } }),
  );
}

/** Runs `tasks` with at most `n` at once (the engine's parallelism). */
export async function pool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}
