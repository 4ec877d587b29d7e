/**
 * `d365-access validate` as a user runs it: exit codes, default file, output formats.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const invalid = path.join(root, "test/model/invalid");

function validate(args: string[], cwd = root) {
  const result = spawnSync(process.execPath, [path.join(root, "src/cli/main.ts"), "validate", ...args], {
    cwd,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("d365-access validate", () => {
  test("exits 0 on the demo users.yaml (the default file)", () => {
    const { code, stdout } = validate([]);
    assert.equal(code, 0);
    assert.match(stdout, /^0 errors, 0 warnings\nvalid: 6 users/);
  });

  test("exits 1 with file:line:col findings, in text, json and github formats", () => {
    const text = validate(["semantic-unknown-persona.yaml"], invalid);
    assert.equal(text.code, 1);
    assert.match(
      text.stdout,
      /^semantic-unknown-persona\.yaml:16:16: users\[0\]\.personas\[0\]: unknown persona "ap-clerk" \(did you mean "ap_clerk"\?\)$/m,
    );
    const json = validate(["--format", "json", "semantic-unknown-persona.yaml"], invalid);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as {
      valid: boolean;
      errors: number;
      diagnostics: { line: number; col: number }[];
    };
    assert.equal(parsed.valid, false);
    assert.equal(parsed.errors, 1);
    const github = validate(["--format=github", "semantic-unknown-persona.yaml"], invalid);
    assert.match(
      github.stdout,
      /^::error file=semantic-unknown-persona\.yaml,line=16,col=16,title=unknown-persona::users\[0\]\.personas\[0\]: unknown persona/m,
    );
  });

  test("exits 2 on usage errors", () => {
    assert.equal(validate(["--format", "xml"]).code, 2);
    assert.equal(validate(["--frmat"]).code, 2);
  });
});
