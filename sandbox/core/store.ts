/**
 * The sandbox's one store: the whole state as one JSON document under the state directory,
 * persisted atomically (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory) so a crash leaves either the previous or the next state, never half of one.
 * Writes are debounced: a burst of changes costs one write.
 */
import { existsSync } from "node:fs";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SandboxState, SeedOptions } from "./types.ts";

/** The persisted document; `version` lets a later sandbox migrate or reseed an older file. */
interface StateFile {
  version: 1;
  savedAt: string;
  /** The seed the state was built from (absent in files written before seeds had names: demo). */
  seed?: SeedOptions;
  state: SandboxState;
}

/** The seed used when neither the caller nor the state file names one. */
export const DEFAULT_SEED: SeedOptions = { name: "lived-in" };
/** What a state file written before seeds had names was built from. */
const LEGACY_SEED: SeedOptions = { name: "demo" };

function sameSeed(a: SeedOptions, b: SeedOptions): boolean {
  return (
    a.name === b.name &&
    (a.generatedUsers ?? 0) === (b.generatedUsers ?? 0) &&
    (a.seedNumber ?? 1) === (b.seedNumber ?? 1)
  );
}

/** The store's public face. */
export interface Store {
  /** The live state; the same object for the store's lifetime (reset replaces its contents). */
  readonly state: SandboxState;
  /** Schedules a debounced atomic persist. */
  changed(): void;
  /** Moves on every `changed()` and `reset()`. */
  revision(): number;
  /** Writes now if a write is pending (or `force`), and waits for it. */
  flush(force?: boolean): Promise<void>;
  /** Restores the seed and persists it at once. */
  reset(): Promise<void>;
  /** The seed the state was built from (and `reset()` restores). */
  seedOptions(): SeedOptions;
  /** Flushes and stops the debounce timer. */
  close(): Promise<void>;
}

/** Options of `openStore`. */
export interface StoreOptions {
  /** Path of the state file, e.g. `.sandbox/state.json`. */
  path: string;
  /** Builds a fresh seed (called at first start, on reset, and to fill slices an old file lacks). */
  seed: (options: SeedOptions) => SandboxState;
  /**
   * The seed the caller asks for. A state file built from another seed is reseeded; absent, the
   * file's own seed is kept (or `DEFAULT_SEED` for a new state; a file without one is `demo`).
   */
  requested?: SeedOptions;
  /** Debounce of writes in ms (default 50). */
  debounceMs?: number;
  /** Where to report a file that could not be read (it is kept aside, never deleted). */
  warn?: (message: string) => void;
}

/** Writes `text` to `path` atomically: temp file + fsync + rename + directory fsync. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename is durable only once the directory entry is flushed.
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await dir.close();
  }
}

/** Fills slices (and per-environment entries) that a file written by an older sandbox lacks. */
function completeFromSeed(loaded: Partial<SandboxState>, seed: SandboxState): SandboxState {
  const out = { ...seed, ...loaded } as SandboxState;
  for (const slice of ["dataverse", "fno"] as const) {
    const have = (loaded[slice] ?? {}) as Record<string, unknown>;
    out[slice] = { ...seed[slice], ...have } as never;
  }
  return out;
}

/** Opens (or creates from the seed) the state file and returns the store. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const debounceMs = options.debounceMs ?? 50;
  let initial: SandboxState | undefined;
  let seedOptions: SeedOptions = options.requested ?? DEFAULT_SEED;
  if (existsSync(options.path)) {
    try {
      const file = JSON.parse(await readFile(options.path, "utf8")) as StateFile;
      if (file.version !== 1 || typeof file.state !== "object" || file.state === null)
        throw new Error("unknown format");
      const fileSeed = file.seed ?? LEGACY_SEED;
      if (options.requested && !sameSeed(options.requested, fileSeed)) {
        options.warn?.(
          `sandbox: ${options.path} holds the '${fileSeed.name}' seed; reseeding with '${options.requested.name}'`,
        );
      } else {
        seedOptions = fileSeed;
        initial = completeFromSeed(file.state, options.seed(fileSeed));
      }
    } catch (err) {
      const aside = `${options.path}.unreadable-${Date.now()}`;
      await rename(options.path, aside);
      options.warn?.(
        `sandbox: could not read ${options.path} (${(err as Error).message}); kept it as ${aside} and reseeded`,
      );
    }
  }
  const state = initial ?? options.seed(seedOptions);
  let timer: NodeJS.Timeout | undefined;
  let dirty = initial === undefined;
  let writing: Promise<void> = Promise.resolve();

  const persist = (): Promise<void> => {
    dirty = false;
    const text = JSON.stringify({
      version: 1,
      savedAt: new Date().toISOString(),
      seed: seedOptions,
      state,
    } satisfies StateFile);
    // Chain writes so two renames never race.
    writing = writing.then(() => writeFileAtomic(options.path, text));
    return writing;
  };

  let revision = 0;
  const store: Store = {
    state,
    revision: () => revision,
    changed() {
      revision++;
      dirty = true;
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        persist().catch((err: unknown) =>
          options.warn?.(`sandbox: could not save state: ${(err as Error).message}`),
        );
      }, debounceMs);
      timer.unref();
    },
    async flush(force = false) {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (dirty || force) await persist();
      else await writing;
    },
    seedOptions: () => ({ ...seedOptions }),
    async reset() {
      revision++;
      const fresh = options.seed(seedOptions);
      for (const key of Object.keys(state) as (keyof SandboxState)[]) delete state[key];
      Object.assign(state, fresh);
      await store.flush(true);
    },
    async close() {
      await store.flush();
    },
  };
  if (dirty) await store.flush(true);
  return store;
}

/** The default state file inside a state directory. */
export function stateFilePath(stateDir: string): string {
  return join(stateDir, "state.json");
}
