/**
 * loadDesiredState on valid input: normalization (personas, defaults, user ids), warnings,
 * includes, reading edge cases, and the output formats.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { deriveFnoUserId, formatDiagnostics, loadDesiredState } from "../../src/model/index.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(path.join(tmpdir(), "d365-access-model-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(files: Record<string, string | Buffer>, entry = "users.yaml") {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return loadDesiredState([entry], { cwd: dir });
}

const base = `environments:
  prod:
    fno: true
    legalEntities: [USMF, DEMF]
    defaultCompany: USMF
defaults:
  usageLocation: US
personas:
  ap_clerk:
    licenses:
      - sku: DYN365_FINANCE
        disabledPlans: [FLOW_DYN_APPS, POWERAPPS_DYN_APPS]
    dataverse: { roles: [Basic User] }
    fno: { roles: [VENDINVOICEACCOUNTSPAYABLECLERK] }
  reader:
    licenses:
      - sku: DYN365_FINANCE
        disabledPlans: [FLOW_DYN_APPS]
    fno:
      roles:
        - role: LEDGERACCOUNTANT
          legalEntities: [DEMF]
`;

describe("loadDesiredState", () => {
  test("the demo users.yaml is valid and warning-free", () => {
    const { state, diagnostics } = loadDesiredState(["users.yaml"], { cwd: root });
    assert.deepEqual(diagnostics, []);
    assert.ok(state);
    assert.ok(state.users.length >= 6 && state.users.length <= 8);
    assert.equal(state.users.filter((u) => u.manage === "create").length, 1);
    assert.deepEqual(state.environments, [
      { name: "contoso-demo", dataverse: true, fno: true, legalEntities: ["DEMF", "GBSI", "USMF"] },
    ]);
  });

  test("merges personas into users: license union, plan intersection, role union, unrestricted wins", () => {
    const { state, diagnostics } = load({
      "users.yaml": `${base}users:
  - upn: Zoe@contoso.example
    displayName: Zoe
    personas: [ap_clerk, reader]
    fno:
      prod:
        roles:
          - role: ledgeraccountant
            legalEntities: [usmf]
          - role: VENDINVOICEACCOUNTSPAYABLECLERK
            legalEntities: [USMF]
  - upn: adam@contoso.example
    displayName: Adam
    enabled: false
    personas: [reader]
    licenses: [{ sku: DYN365_FINANCE }]
`,
    });
    assert.deepEqual(diagnostics, []);
    assert.ok(state);
    assert.deepEqual(
      state.users.map((u) => u.upn),
      ["adam@contoso.example", "Zoe@contoso.example"],
      "users are sorted by lower-case UPN",
    );
    const [adam, zoe] = state.users;
    assert.deepEqual(zoe?.licenses, [{ sku: "DYN365_FINANCE", disabledPlans: ["FLOW_DYN_APPS"] }]);
    assert.deepEqual(zoe?.fno, [
      {
        environment: "prod",
        userId: "zoe",
        company: "USMF",
        roles: [
          { role: "LEDGERACCOUNTANT", legalEntities: ["DEMF", "USMF"] },
          { role: "VENDINVOICEACCOUNTSPAYABLECLERK", legalEntities: [] },
        ],
      },
    ]);
    assert.deepEqual(zoe?.dataverse, [{ environment: "prod", roles: ["Basic User"] }]);
    assert.deepEqual(zoe?.source, { file: "users.yaml", line: 24, col: 5 });
    // The user's own entry for a SKU decides its disabled plans.
    assert.deepEqual(adam?.licenses, [{ sku: "DYN365_FINANCE", disabledPlans: [] }]);
    assert.equal(adam?.enabled, false);
    assert.equal(adam?.manage, "adopt");
    assert.equal(adam?.onRemove, "disable");
    assert.equal(adam?.usageLocation, "US");
    assert.deepEqual(adam?.dataverse, [], "no Dataverse entry without Dataverse roles");
  });

  test("manages every SKU users.yaml names anywhere plus managedLicenses, checked where written", () => {
    const { state, diagnostics } = load({
      "users.yaml": `${base}  unused:
    licenses: [DYN365_SCM]
managedLicenses: [SPE_E5, dyn365_finance, DYN365_FINANCE_ATACH]
users:
  - upn: a@contoso.example
    displayName: A
    personas: [ap_clerk]
  - upn: b@contoso.example
    displayName: B
    licenses: [Dyn365_Operations_Activity]
`,
    });
    assert.ok(state, formatDiagnostics(diagnostics, "text"));
    // Named by a persona (used or not), a user or the setting; the first spelling kept.
    assert.deepEqual(state.managedLicenses, [
      "DYN365_FINANCE",
      "DYN365_FINANCE_ATACH",
      "Dyn365_Operations_Activity",
      "DYN365_SCM",
      "SPE_E5",
    ]);
    for (const user of state.users) assert.deepEqual(user.managedLicenses, state.managedLicenses);
    assert.deepEqual(
      diagnostics
        .filter((d) => d.path.startsWith("managedLicenses"))
        .map((d) => `${d.line}:${d.col} ${d.code}`),
      ["25:27 sku-case", "25:43 unknown-sku"],
    );
  });

  test("derives F&O user ids deterministically and warns about collisions naming both users", () => {
    assert.equal(deriveFnoUserId("Averyveryverylongname.person@contoso.example"), "averyveryverylongnam");
    assert.equal(deriveFnoUserId("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com"), "jane_fabrikam.com");
    assert.equal(deriveFnoUserId("o'brien@contoso.example"), "obrien");
    const yaml = `${base}users:
  - upn: averyveryverylongname.one@contoso.example
    displayName: One
    personas: [ap_clerk]
  - upn: averyveryverylongname.two@contoso.example
    displayName: Two
    personas: [reader]
  - upn: kim@contoso.example
    displayName: Kim
    personas: [ap_clerk]
    fno: { prod: { userId: averyveryverylongnam } }
`;
    const first = load({ "users.yaml": yaml });
    const second = load({ "users.yaml": yaml });
    assert.ok(first.state);
    const ids = first.state.users.map((u) => u.fno[0]?.userId);
    assert.deepEqual(
      ids,
      second.state?.users.map((u) => u.fno[0]?.userId),
      "derivation is deterministic",
    );
    assert.equal(ids[2], "averyveryverylongnam", "an explicit userId wins");
    for (const id of ids) assert.ok(id && id.length <= 20, `${id} fits 20 characters`);
    assert.equal(new Set(ids).size, 3);
    const collisions = first.diagnostics.filter((d) => d.code === "fno-user-id-collision");
    assert.equal(collisions.length, 2);
    assert.match(
      collisions[0]?.message ?? "",
      /derived from averyveryverylongname\.one@contoso\.example is already set for kim@contoso\.example \(users\.yaml:30:10\) in "prod"; using "averyveryverylo-[0-9a-f]{4}"/,
    );
    assert.equal(first.state.warnings.length, first.diagnostics.length);
  });

  test("never derives a preconfigured account's F&O user id: admin@… gets another one, with a warning", () => {
    const { state, diagnostics } = load({
      "users.yaml": `${base}users:
  - upn: admin@contoso.example
    displayName: Tenant admin
    personas: [ap_clerk]
`,
    });
    assert.ok(state);
    assert.match(state.users[0]?.fno[0]?.userId ?? "", /^admin-[0-9a-f]{4}$/);
    const warning = diagnostics.find((d) => d.code === "fno-user-id-collision");
    assert.match(
      warning?.message ?? "",
      /"admin" derived from admin@contoso\.example is one of Microsoft's preconfigured accounts/,
    );
  });

  test("warns about combinations that cannot work", () => {
    const { state, diagnostics } = load({
      "users.yaml": `environments:
  prod: { fno: true, defaultCompany: USMF }
  crm: { dataverse: true }
rules:
  sod:
    - name: pay and approve
      roles: [A, B]
      severity: warning
users:
  - upn: a@contoso.example
    displayName: A
    usageLocation: US
    licenses: [dyn365_finance]
    environments: [prod, crm]
    dataverse:
      crm: { roles: [Finance and Operations Basic User] }
      prod: { roles: [Finance and Operations Basic User] }
  - upn: b@contoso.example
    displayName: B
    fno: { prod: { roles: [A, { role: B, legalEntities: [USMF] }] } }
`,
    });
    assert.ok(state, "warnings alone keep the state");
    const codes = diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.code}`);
    assert.deepEqual(codes, [
      "13:16 warning sku-case",
      "16:22 warning virtual-tables-without-fno",
      "17:23 warning virtual-tables-without-fno-roles",
      "18:10 warning fno-without-license",
      "18:10 warning sod-conflict",
    ]);
  });

  test("includes files by glob relative to the including file, and names each file in findings", () => {
    const { state, diagnostics } = load(
      {
        "root.yaml": `include: ["dept/*.yaml"]\ndefaults: { usageLocation: US }\nenvironments: { prod: { fno: true, defaultCompany: USMF } }\n`,
        "dept/a.yaml": "users:\n  - upn: a@contoso.example\n    displayName: A\n",
        "dept/b.yaml": "users:\n  - upn: b@contoso.example\n    displayName: B\n    personas: [nobody]\n",
        "dept/c.txt": "not yaml",
      },
      "root.yaml",
    );
    assert.equal(state, undefined);
    assert.deepEqual(
      formatDiagnostics(diagnostics, "text").split("\n")[0],
      'dept/b.yaml:4:16: users[0].personas[0]: unknown persona "nobody"',
    );
    writeFileSync(path.join(dir, "dept/b.yaml"), "users:\n  - upn: b@contoso.example\n    displayName: B\n");
    const ok = loadDesiredState(["root.yaml"], { cwd: dir });
    assert.deepEqual(ok.state?.files, ["root.yaml", "dept/a.yaml", "dept/b.yaml"]);
    assert.equal(ok.state?.users.length, 2);
  });

  test("accepts a UTF-8 byte order mark without shifting columns", () => {
    const { diagnostics } = load(
      { "bom.yaml": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("userz: []\n")]) },
      "bom.yaml",
    );
    assert.deepEqual(
      diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`),
      ['1:1 unknown key "userz" (did you mean "users"?)'],
    );
  });

  test("refuses oversized files before reading them", () => {
    const file = path.join(dir, "huge.yaml");
    writeFileSync(file, "");
    truncateSync(file, 17 * 1024 * 1024);
    const { diagnostics } = loadDesiredState(["huge.yaml"], { cwd: dir });
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ["file-too-large"],
    );
  });

  test("shares role lists through anchors and aliases", () => {
    const { state, diagnostics } = load(
      {
        "alias.yaml": `environments: { prod: { defaultCompany: USMF, fno: true } }
users:
  - upn: a@contoso.example
    displayName: A
    usageLocation: US
    licenses: &lic [DYN365_FINANCE]
    fno: { prod: { roles: &roles [LEDGERACCOUNTANT] } }
  - upn: b@contoso.example
    displayName: B
    usageLocation: US
    licenses: *lic
    fno: { prod: { roles: *roles } }
`,
      },
      "alias.yaml",
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      state?.users.map((u) => u.fno[0]?.roles[0]?.role),
      ["LEDGERACCOUNTANT", "LEDGERACCOUNTANT"],
    );
  });

  test("formats github workflow commands with escaped properties and data", () => {
    const text = formatDiagnostics(
      [
        {
          severity: "error",
          code: "x",
          file: "a,b.yaml",
          line: 3,
          col: 4,
          path: "users[0]",
          message: "50% bad\nnext",
        },
      ],
      "github",
    );
    assert.equal(text, "::error file=a%2Cb.yaml,line=3,col=4,title=x::users[0]: 50%25 bad%0Anext\n");
    const json = JSON.parse(formatDiagnostics([], "json"));
    assert.deepEqual(json, { valid: true, errors: 0, warnings: 0, diagnostics: [] });
  });
});
