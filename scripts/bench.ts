/**
 * `npm run bench`: runs every benchmark under bench/ (or those named: `npm run bench -- sandbox`),
 * one process each, in order; arguments after the names (from the first `-…`) go to each one
 * (`npm run bench -- perf --users 1000,5000`). Benchmarks print their own figures; none belongs
 * in `npm test`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import process from "node:process";

const dir = path.resolve(import.meta.dirname, "..", "bench");
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith("-"));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const passed = firstOption < 0 ? [] : args.slice(firstOption);
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();
const chosen = wanted.length ? all.filter((b) => wanted.includes(b)) : all;
if (wanted.length && chosen.length !== wanted.length) {
  process.stderr.write(
    `unknown benchmark(s): ${wanted.filter((w) => !all.includes(w)).join(", ")}; known: ${all.join(", ")}\n`,
  );
  process.exit(2);
}
let failed = 0;
for (const name of chosen) {
  process.stdout.write(`\n=== bench/${name}.ts\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(dir, `${name}.ts`), ...passed], { stdio: "inherit" });
  process.stdout.write(
    `=== bench/${name}.ts: exit ${result.status} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
