/**
 * Every system folder has the same shape, so a reader who knows one knows them all and a new
 * system is mechanical: this test lists `providers/*` (except `core`) and checks the files, their
 * main exports, the registry entry, and the import rules (a system imports only core; a plan
 * imports no client; the core names no system).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { SYSTEMS } from "../../providers/registry.ts";

const providers = path.resolve(import.meta.dirname, "..", "..", "providers");
const systems = readdirSync(providers)
  .filter((name) => name !== "core" && statSync(path.join(providers, name)).isDirectory())
  .sort();

/** The files of a system folder and what each must export. */
const SHAPE: Record<string, string[]> = {
  "model.ts": [], // our vocabulary: inputs, outputs, records (types only)
  "dto.ts": [], // wire shapes and their toX/fromX conversions
  "service.ts": [], // the APIs it calls, as the HTTP core sees them
  "client.ts": [], // the only place with URLs, query options, API versions
  "run.ts": [], // run-wide state in the provider process: clients, bulk reads cached per run
  "plan.ts": ["planUser", "planRemoval", "diff", "describeOperation"],
  // what `up` will change, in a reviewer's words: the plans described (pure; run.ts reads)
  "describe.ts": ["inputsOf", "describeUser", "describeRemoval"],
  "check.ts": ["checkInputs"],
  // carrying out a plan: the call behind each operation, the waits, outputs of what it holds (I/O)
  "apply.ts": ["apply", "handlers"],
  "resources.ts": ["spec", "provider", "declare"],
  "system.ts": [], // the registry entry, named after the folder
  "users.schema.json": [], // its part of the users.yaml schema
  "index.ts": [],
};

const source = (system: string, file: string) => readFileSync(path.join(providers, system, file), "utf8");
const imports = (text: string) => [...text.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1] as string);

describe("system folders", () => {
  it("are the registered systems, in both directions", () => {
    assert.ok(systems.length >= 3, `found ${systems.join(", ")}`);
    assert.deepEqual(SYSTEMS.map((s) => s.name).sort(), systems);
  });

  for (const system of systems) {
    it(`${system} has the common shape`, async () => {
      const files = readdirSync(path.join(providers, system)).sort();
      assert.deepEqual(
        files.filter((f) => !(f in SHAPE)),
        [],
        "files outside the shape",
      );
      for (const [file, exports] of Object.entries(SHAPE)) {
        assert.ok(files.includes(file), `${system}/${file} is missing`);
        if (exports.length === 0) continue;
        const mod = (await import(path.join(providers, system, file))) as Record<string, unknown>;
        for (const name of exports) assert.ok(mod[name] !== undefined, `${system}/${file} exports ${name}`);
      }
      const entry = ((await import(path.join(providers, system, "system.ts"))) as Record<string, unknown>)[
        system
      ];
      assert.equal((entry as { name?: string })?.name, system, `${system}/system.ts exports \`${system}\``);
      assert.match(
        (entry as { resourceType: string }).resourceType,
        new RegExp(`^pulumi-nodejs:dynamic/${system}:`),
      );
    });

    it(`${system} imports only core, and its plan and checks no I/O`, () => {
      for (const file of readdirSync(path.join(providers, system))) {
        for (const target of imports(source(system, file))) {
          if (!target.startsWith(".")) continue;
          const resolved = path.relative(providers, path.resolve(providers, system, target));
          const top = resolved.split(path.sep)[0];
          assert.ok(top === system || top === "core", `${system}/${file} imports ${target}`);
        }
      }
      for (const file of ["plan.ts", "check.ts", "model.ts", "describe.ts"]) {
        const relative = imports(source(system, file)).filter((t) => t.startsWith("./"));
        for (const forbidden of ["./client.ts", "./apply.ts", "./resources.ts", "./dto.ts"])
          assert.ok(!relative.includes(forbidden), `${system}/${file} imports ${forbidden}`);
      }
      // model.ts is vocabulary: types and constants, no behaviour.
      assert.doesNotMatch(source(system, "model.ts"), /^export (async )?(function|class) /m);
    });
  }
});

describe("the core", () => {
  it("names no system in its code", () => {
    const names = SYSTEMS.map((s) => s.name).concat(SYSTEMS.flatMap((s) => s.services.map((x) => x.name)));
    for (const file of readdirSync(path.join(providers, "core"))) {
      // Comments may cite a service's documentation; code and strings may not name one.
      const code = readFileSync(path.join(providers, "core", file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      for (const name of new Set(names)) {
        assert.doesNotMatch(code, new RegExp(`["'\`/]${name}["'\`/:]`), `core/${file} names ${name}`);
      }
    }
  });
});
