/** The pre-flight's pure parts: where names are written, problem lines, SoD on canonical roles. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadDesiredState } from "../../src/model/index.ts";
import { sodConflicts } from "../../src/model/sod.ts";
import { canonicalSod, problemLine } from "../../src/program/preflight.ts";

const YAML = `version: 1
environments:
  prod:
    fno: true
    dataverse: true
    defaultCompany: USMF
personas:
  clerk:
    licenses: [DYN365_FINANCE]
    fno:
      roles: [VENDINVOICEACCOUNTSPAYABLECLERK]
users:
  - upn: ann@x.example
    displayName: Ann
    usageLocation: US
    personas: [clerk]
    fno:
      prod:
        roles:
          - role: Accounts payable manager
            legalEntities: [USMF]
  - upn: bob@x.example
    displayName: Bob
    usageLocation: US
    personas: [clerk]
    dataverse:
      prod:
        businessUnit: Europe
        roles: [Basic User]
rules:
  sod:
    - name: Post and approve
      roles: [VENDINVOICEACCOUNTSPAYABLECLERK, VENDINVOICEACCOUNTSPAYABLEMANAGER, NOSUCHROLE]
`;

function load() {
  const dir = mkdtempSync(path.join(tmpdir(), "preflight-"));
  writeFileSync(path.join(dir, "users.yaml"), YAML);
  const { state, diagnostics } = loadDesiredState(["users.yaml"], { cwd: dir });
  assert.ok(state, JSON.stringify(diagnostics));
  return state;
}

test("every name a catalogue must know is indexed where it is written (personas for every environment)", () => {
  const state = load();
  const where = state.names?.where.bind(state.names);
  assert.ok(where);
  assert.deepEqual(where("fno-role", "vendinvoiceaccountspayableclerk", "prod"), [
    { file: "users.yaml", line: 11, col: 15 },
  ]);
  assert.deepEqual(where("fno-role", "Accounts payable manager", "prod"), [
    { file: "users.yaml", line: 20, col: 19 },
  ]);
  assert.deepEqual(where("legal-entity", "usmf", "prod"), [
    { file: "users.yaml", line: 6, col: 21 },
    { file: "users.yaml", line: 21, col: 29 },
  ]);
  assert.deepEqual(where("business-unit", "Europe", "prod"), [{ file: "users.yaml", line: 28, col: 23 }]);
  assert.deepEqual(where("dataverse-role", "Basic User", "prod"), [
    { file: "users.yaml", line: 29, col: 17 },
  ]);
  assert.deepEqual(where("dataverse-role", "Basic User", "test"), [], "not written for another environment");
  assert.deepEqual(state.rules.sod[0]?.roleSources?.[2], { file: "users.yaml", line: 33, col: 83 });
});

test("a problem line starts with its first position and lists the others", () => {
  assert.equal(problemLine({ message: "m" }), "m");
  assert.equal(
    problemLine({
      message: "unknown",
      at: [
        { file: "a.yaml", line: 1, col: 2 },
        { file: "b.yaml", line: 3, col: 4 },
      ],
    }),
    "a.yaml:1:2: unknown (also written at b.yaml:3:4)",
  );
});

test("segregation of duties on canonical roles: a label is its identifier, an unknown rule role is an error at its line", () => {
  const state = load();
  // The tenant's catalogue: identifier or label → identifier.
  const catalogue = new Map([
    ["vendinvoiceaccountspayableclerk", "vendinvoiceaccountspayableclerk"],
    ["accounts payable clerk", "vendinvoiceaccountspayableclerk"],
    ["vendinvoiceaccountspayablemanager", "vendinvoiceaccountspayablemanager"],
    ["accounts payable manager", "vendinvoiceaccountspayablemanager"],
  ]);
  const key = (role: string) => catalogue.get(role.trim().toLowerCase());
  const ann = state.users.find((u) => u.upn === "ann@x.example");
  assert.ok(ann);
  // As written, the names differ: validation sees no conflict.
  assert.deepEqual(
    sodConflicts(state.rules.sod[0]?.roles ?? [], [
      { role: "Accounts payable manager", entities: [] },
      { role: "VENDINVOICEACCOUNTSPAYABLECLERK", entities: [] },
    ]),
    [],
  );
  const { problems, warnings } = canonicalSod(
    state.rules.sod,
    state.users,
    "prod",
    'F&O environment "prod"',
    key,
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    problems.map((p) => problemLine(p)),
    [
      'users.yaml:33:83: segregation of duties rule "Post and approve" names role "NOSUCHROLE", which F&O environment "prod" does not have',
      `users.yaml:13:5: segregation of duties rule "Post and approve" (users.yaml:32:7) forbids holding "Accounts payable manager" and "VENDINVOICEACCOUNTSPAYABLECLERK" (in USMF) in "prod": F&O environment "prod" resolves them to the rule's roles`,
    ],
  );
  // Bob holds only the clerk role: no conflict.
  assert.ok(!problems.some((p) => p.message.includes("bob")));
});
