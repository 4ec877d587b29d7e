/**
 * Every sandbox service folder has the same parts, so a reader who knows one knows them all:
 * the module (index.ts), its route table (routes.ts), handlers that parse and render
 * (handlers*.ts), the state rules (rules.ts), the state (state.ts), the seed (seed.ts) and one
 * error factory (errors.ts). And no source file grows past ~400 lines.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = new URL("../../sandbox/", import.meta.url).pathname;
/** Folders that are the sandbox's framework, not a service. */
const FRAMEWORK = new Set(["core"]);
const REQUIRED = ["index.ts", "routes.ts", "rules.ts", "state.ts", "seed.ts", "errors.ts"];
const MAX_LINES = 400;
/** Files allowed to be longer because they are one cohesive table, with the reason. */
const TABLES: Record<string, string> = {
  "core/lived-in.ts": "the lived-in tenant, one entry per person",
};

const serviceFolders = () =>
  readdirSync(ROOT).filter((name) => statSync(join(ROOT, name)).isDirectory() && !FRAMEWORK.has(name));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

describe("sandbox folder shape", () => {
  it("serves the five services, each from its own folder", () => {
    assert.deepEqual(serviceFolders().sort(), ["dataverse", "fno", "graph", "identity", "powerplatform"]);
  });

  for (const folder of serviceFolders()) {
    it(`${folder}/ has the module, route table, handlers, rules, state, seed and error factory`, async () => {
      const files = readdirSync(join(ROOT, folder));
      for (const required of REQUIRED)
        assert.ok(files.includes(required), `${folder}/${required} is missing`);
      assert.ok(
        files.some((f) => /^handlers(-[a-z]+)?\.ts$/.test(f)),
        `${folder}/ has no handlers.ts or handlers-<group>.ts`,
      );
      const routes = (await import(join(ROOT, folder, "routes.ts"))) as Record<string, unknown>;
      const table = Object.entries(routes).find(
        ([name, value]) => name.endsWith("_ROUTES") && Array.isArray(value),
      );
      assert.ok(table, `${folder}/routes.ts exports no *_ROUTES table`);
      for (const route of table[1] as { method: unknown; path: unknown; handler: unknown }[]) {
        assert.equal(typeof route.method, "string");
        assert.ok(route.path instanceof RegExp);
        assert.equal(typeof route.handler, "function");
      }
      const index = (await import(join(ROOT, folder, "index.ts"))) as Record<string, unknown>;
      const module = Object.values(index).find(
        (v) =>
          (typeof v === "object" && v !== null && typeof (v as { handle?: unknown }).handle === "function") ||
          (typeof v === "function" && /^create\w+Module$/.test((v as { name: string }).name)),
      );
      assert.ok(module, `${folder}/index.ts exports no service module (or create…Module factory)`);
    });
  }

  it(`keeps every sandbox source file under ${MAX_LINES} lines`, () => {
    const long = sourceFiles(ROOT)
      .map((path) => ({
        path: path.slice(ROOT.length),
        lines: readFileSync(path, "utf8").split("\n").length,
      }))
      .filter((f) => f.lines > MAX_LINES && !(f.path in TABLES));
    assert.deepEqual(long, []);
  });
});
