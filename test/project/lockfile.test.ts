/**
 * `npm install` on a fresh clone must leave package-lock.json as committed (CI runs it, and a
 * rewritten lockfile shows up as a change in every contributor's checkout). npm rewrites the
 * lockfile's root entry from package.json, so the fields it copies must agree.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { repo } from "../support/project.ts";

const read = (file: string) => JSON.parse(readFileSync(path.join(repo, file), "utf8"));

test("the lockfile's root entry says what package.json says, so npm install does not rewrite it", () => {
  const pkg = read("package.json");
  const lock = read("package-lock.json");
  const root = lock.packages[""];
  assert.equal(lock.name, pkg.name);
  assert.equal(lock.version, pkg.version);
  for (const field of ["name", "version", "license", "bin", "engines", "dependencies", "devDependencies"]) {
    assert.deepEqual(
      root[field],
      pkg[field],
      `package-lock.json packages[""].${field} differs from package.json`,
    );
  }
  // npm records an install script (our postinstall runs scripts/toolchain) as this flag.
  assert.equal(root.hasInstallScript, Boolean(pkg.scripts?.postinstall || pkg.scripts?.install));
});
