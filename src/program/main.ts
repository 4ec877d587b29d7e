/**
 * Entry point for the official Pulumi CLI: Pulumi.yaml's `main: .` makes the Node.js language
 * host run package.json's `main`, this file, and use its default export's result as the stack
 * outputs. `d365-access` runs the same `program` through the Automation API instead
 * (src/engine/stack.ts).
 *
 * The project root is where this file sits, two levels up, whatever the working directory:
 * users.yaml and the stack's files (say `.sandbox/endpoints.json`) are read from there, exactly
 * as when `d365-access` runs the program. An ambient `D365_ACCESS_ROOT` naming another checkout
 * is overridden: this checkout's program reads this checkout's files.
 */
import path from "node:path";
import process from "node:process";
import { program } from "./index.ts";

process.env.D365_ACCESS_ROOT = path.resolve(import.meta.dirname, "..", "..");

export default program;
