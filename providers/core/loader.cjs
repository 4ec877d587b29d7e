// The loader that every resource's serialized provider calls (see shim.ts). The text stored in
// the state is one line: `exports.handler=()=>require(<root>+"/providers/core/loader.cjs")("<name>")`,
// so this file's path and its exported signature are a contract with every state ever written:
// never move or rename it. It returns the provider object the engine's dynamic-provider host
// expects, whose methods import `providers/<name>.ts` (an ES module, run with Node's type
// stripping) on first use and forward to its `provider` export.
"use strict";
const { pathToFileURL } = require("node:url");
const path = require("node:path");

const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"];

// The provider process exits once its engine is gone, so a killed run stops writing (engine.ts).
let watching = false;
function watchEngine() {
  if (watching) return;
  watching = true;
  import(pathToFileURL(path.join(__dirname, "engine.ts")).href)
    .then((mod) => mod.watchEngine(process.argv[2]))
    .catch(() => {});
}

module.exports = function load(name) {
  watchEngine();
  const file = path.join(__dirname, "..", `${name}.ts`);
  let implementation;
  const get = () => {
    implementation ??= import(pathToFileURL(file).href).then((mod) => mod.provider);
    return implementation;
  };
  return Object.fromEntries(METHODS.map((m) => [m, async (...args) => (await get())[m](...args)]));
};
