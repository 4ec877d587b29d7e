/**
 * `d365-access demo` (`npm start`): the whole flow on the sandbox, for a newcomer.
 * Starts the sandbox if it is not running, previews the demo users.yaml on the sandbox stack,
 * applies it, then prints the access report compared with what the sandbox now holds.
 */
import process from "node:process";
import { projectRoot } from "../engine/stack.ts";
import { defineCommand } from "./command.ts";

const STEPS = 4;

function step(n: number, text: string): void {
  process.stdout.write(`\n\x1b[1m[${n}/${STEPS}] ${text}\x1b[0m\n`);
}

export const run = defineCommand({
  name: "demo",
  synopsis: "",
  description:
    "Starts the sandbox, runs `preview` then `up --yes` of users.yaml on the sandbox stack,\nand prints the access report with any difference from the live sandbox.",
  options: { "port-base": { type: "string" } },
  help: [
    "      --port-base <n>      the sandbox's ports start at N (remembered for the next start; default",
    "                           the last one given, else 47300)",
  ],
  run: ({ values }) => demo(values["port-base"]),
});

async function demo(portBase: string | undefined): Promise<number> {
  const root = projectRoot();
  process.chdir(root);
  const sandbox = await import("./sandbox.ts");
  const engine = await import("./engine.ts");
  const report = await import("./report.ts");

  step(1, "sandbox: the local emulator of Entra, Graph, Dataverse, Power Platform and F&O");
  let code = await sandbox.run(["start", ...(portBase === undefined ? [] : ["--port-base", portBase])]);
  if (code !== 0) return code;

  step(2, "preview: what `up` would change (this is what a reviewer sees on a pull request)");
  code = await engine.run("preview", ["--stack", "sandbox", "--create"], root);
  if (code !== 0) return code;

  step(3, "up: apply users.yaml to the three systems");
  code = await engine.run("up", ["--stack", "sandbox", "--yes", "--create"], root);
  if (code !== 0) return code;

  step(4, "access report: declared access, compared with what the sandbox now holds");
  code = await report.run(["--live", "--stack", "sandbox"]);
  if (code !== 0) return code;
  process.stdout.write(
    "\nDone. `npm run preview` now shows no changes; edit users.yaml and preview again.\n",
  );
  return 0;
}
