/**
 * The catalogue of invalid inputs: every `invalid/<name>.yaml` must be rejected with exactly the
 * diagnostics (file:line:col, path, message) written in `invalid/<name>.expected`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatDiagnostic, loadDesiredState } from "../../src/model/index.ts";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "invalid");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("invalid users.yaml catalogue", () => {
  test("has at least 40 cases", () => {
    assert.ok(fixtures.length >= 40, `only ${fixtures.length} fixtures`);
  });
  for (const fixture of fixtures) {
    test(fixture, () => {
      const expected = readFileSync(path.join(dir, fixture.replace(/\.yaml$/, ".expected")), "utf8");
      const { state, diagnostics } = loadDesiredState([fixture], { cwd: dir });
      assert.equal(state, undefined, "an invalid file must not produce a desired state");
      assert.ok(diagnostics.some((d) => d.severity === "error"));
      assert.equal(diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join(""), expected);
    });
  }
});
