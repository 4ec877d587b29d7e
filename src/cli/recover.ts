/**
 * `d365-access recover`: brings a stack back after an interrupted run (killed, crashed, a CI job
 * cancelled) so the next `up` can finish its work (src/engine/recovery.ts has the facts):
 *  1. repairs a truncated checkpoint metadata file (`<stack>.json.attrs`);
 *  2. removes the stack's lock only when its holder is gone: same machine, process not alive. A
 *     lock from another machine (CI) needs `--force`, after the user confirmed that run ended;
 *  3. keeps a record of the operations left pending (which users were being created, which
 *     resources written) in the stack's outputs and clears them, so the next `up` reads each
 *     system and records what it finds of them as created / granted by d365-access.
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { SYSTEMS } from "../../providers/registry.ts";
import {
  backendDir,
  describeInterruption,
  inFlightFromPending,
  inspect,
  repairAttrs,
  retryBackendRead,
  withInFlight,
} from "../engine/recovery.ts";
import { openStack, projectRoot } from "../engine/stack.ts";
import { defineCommand } from "./command.ts";

const say = (line: string) => void process.stdout.write(`${line}\n`);

export const run = defineCommand({
  name: "recover",
  synopsis: "[--stack NAME] [--force]",
  description:
    "Recover a stack after an interrupted run: repair truncated state metadata, remove a lock whose process is gone, and record the operations it left unfinished so the next `up` completes them.",
  options: {
    stack: { type: "string", short: "s", default: "sandbox" },
    force: { type: "boolean", default: false },
  },
  help: [
    "  -s, --stack <name>       stack to recover (default: sandbox)",
    "      --force              also remove a lock held by a run on another machine (CI): only after",
    "                           confirming that run has ended (its job finished or was cancelled)",
  ],
  epilog: "Exit codes: 0 the stack is ready for `up`; 1 a run still holds it (nothing changed).",
  async run({ values }) {
    const root = projectRoot();
    process.chdir(root);
    const stack = values.stack;
    const dir = backendDir(root);
    if (!dir) {
      say(
        "recover inspects the file backend only; with PULUMI_BACKEND_URL set to another backend, use that backend's own lock handling (`pulumi cancel` for Pulumi Cloud).",
      );
      return 1;
    }
    const found = inspect(root, stack);
    const lines = describeInterruption(found, stack).filter((l) => !l.startsWith("Nothing is lost"));
    if (lines.length === 0 && !found.inFlight) {
      say(`stack "${stack}": no interrupted run; nothing to recover`);
      return 0;
    }
    for (const line of lines) say(line);

    for (const file of found.brokenAttrs) {
      repairAttrs(file);
      say(`repaired ${file}`);
    }
    const running = found.locks.filter((l) => l.holder === "running");
    const elsewhere = found.locks.filter((l) => l.holder === "elsewhere");
    if (running.length > 0) {
      say("a run is in progress; nothing else was changed: wait for it to finish, then run recover again");
      return 1;
    }
    if (elsewhere.length > 0 && !values.force) {
      say(
        "To confirm: check that no job or person runs `d365-access up`/`pulumi up` on this stack now (in CI, the job " +
          `named in the lock has finished or was cancelled), then run \`d365-access recover --stack ${stack} --force\`.`,
      );
      return 1;
    }
    for (const lock of found.locks) {
      rmSync(lock.file, { force: true });
      say(`removed the lock ${lock.file} (pid ${lock.pid ?? "?"} on ${lock.hostname ?? "?"})`);
    }

    if (found.pending.length > 0) {
      const handle = await retryBackendRead(() => openStack({ root, stack, program: async () => ({}) }));
      const exported = await retryBackendRead(() => handle.exportStack());
      const record = inFlightFromPending(exported.deployment, SYSTEMS[0].resourceType);
      await handle.importStack({ ...exported, deployment: withInFlight(exported.deployment, record, stack) });
      say(
        `recorded ${found.pending.length} unfinished operation(s) in the stack (output "d365-access:inFlight") and cleared them: ` +
          `${record.creates?.length ?? 0} user(s) being created, ${record.resources?.length ?? 0} resource(s) being written`,
      );
    }
    say(
      `stack "${stack}" is ready. Next: \`d365-access preview --stack ${stack}\` to see what is left, then ` +
        `\`d365-access up --stack ${stack}\`: it reads every system, finishes the interrupted work and records what ` +
        "that run created or granted as d365-access's.",
    );
    return 0;
  },
});
