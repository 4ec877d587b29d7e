/**
 * Entry point for the official Pulumi CLI (`main` in Pulumi.yaml): the language host calls the
 * default export and uses its result as the stack outputs. `d365-access` runs the same
 * `program` through the Automation API instead (src/engine/stack.ts).
 */
import { program } from "./index.ts";

export default program;
