/**
 * `export`'s pure part: from what each system read to users.yaml. The reads here are written in
 * the shape the registry entries return (providers/core/system.ts); what is asserted is the
 * file a user gets: personas, comments, left-out parts, split files, and that it validates.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { ExportedPart, ExportedSystem } from "../../providers/core/system.ts";
import { upnFilter } from "../../src/cli/export.ts";
import { buildExport, personaName, type SystemRead, slug } from "../../src/export/build.ts";
import { renderExport } from "../../src/export/render.ts";
import { loadDesiredState } from "../../src/model/index.ts";

const ENTRA = { name: "entra", label: "Entra ID", scope: "tenant", grants: "licenses" } as const;
const DV = { name: "dataverse", label: "Dataverse", scope: "environment", grants: "roles" } as const;
const FNO = { name: "fno", label: "F&O", scope: "environment", grants: "roles" } as const;

const part = (over: Partial<ExportedPart>): ExportedPart => ({
  fields: {},
  grants: [],
  labels: [],
  shared: {},
  notes: [],
  declare: true,
  footprint: true,
  attributes: {},
  ...over,
});

function person(
  id: string,
  name: string,
  licenses: string[],
  over: Partial<ExportedPart> = {},
): [string, ExportedPart] {
  const upn = `${name.toLowerCase().replace(" ", ".")}@contoso.example`;
  return [
    id,
    part({
      fields: { upn, displayName: name, usageLocation: "US" },
      grants: licenses,
      labels: licenses,
      shared: { displayName: name, enabled: true },
      footprint: licenses.length > 0,
      ...over,
    }),
  ];
}

const read = (parts: [string, ExportedPart][], extra: Partial<ExportedSystem> = {}): ExportedSystem => ({
  parts: new Map(parts),
  skipped: [],
  ...extra,
});

function tenant(): SystemRead[] {
  const accountant = (company = "USMF") =>
    part({
      grants: ["LEDGERACCOUNTANT"],
      labels: ["Accountant"],
      shared: { enabled: true },
      attributes: { company },
    });
  const dv = () => part({ grants: ["Basic User"], labels: ["Basic User"], shared: { enabled: true } });
  return [
    {
      system: ENTRA,
      read: read([
        person("1", "Ann Lee", ["DYN365_FINANCE"]),
        person("2", "Bob Ray", ["DYN365_FINANCE"]),
        person("3", "Cy Tan", ["DYN365_FINANCE"], {
          shared: { displayName: "Cy Tan", enabled: false },
          fields: {
            upn: "cy.tan@contoso.example",
            displayName: "Cy Tan",
            usageLocation: "US",
            enabled: false,
          },
        }),
        person("4", "Di Ho", []),
        person("5", "Ed Wu", []),
      ]),
    },
    {
      system: DV,
      environment: "prod",
      read: read(
        [
          ["1", dv()],
          ["2", dv()],
          ["3", dv()],
          ["5", part({ declare: false })],
        ],
        {
          environment: { dataverse: true },
        },
      ),
    },
    {
      system: FNO,
      environment: "prod",
      read: read(
        [
          ["1", accountant()],
          ["2", accountant()],
          ["3", accountant()],
          [
            "4",
            part({
              fields: { company: "DEMF" },
              grants: [{ role: "WHSWAREHOUSEWORKER", legalEntities: ["DEMF"] }],
              labels: ["Warehouse worker"],
              shared: { enabled: true },
              notes: ["HCMEMPLOYEE from a rule: not declared"],
              attributes: { company: "DEMF" },
            }),
          ],
        ],
        {
          environment: { fno: true, defaultCompany: "USMF" },
          skipped: ["user Admin: one of Microsoft's preconfigured accounts"],
        },
      ),
    },
  ];
}

describe("buildExport", () => {
  const result = buildExport(tenant(), { environments: ["prod"] });
  const byUpn = new Map(result.users.map((u) => [u.upn, u]));

  it("infers a persona from a bundle several people share, named by its roles", () => {
    assert.deepEqual(
      result.personas.map((p) => [p.name, p.users, p.body]),
      [
        [
          "accountant",
          2,
          {
            description: "Inferred by export: 2 users hold exactly this",
            licenses: ["DYN365_FINANCE"],
            dataverse: { roles: ["Basic User"] },
            fno: { roles: ["LEDGERACCOUNTANT"] },
          },
        ],
      ],
    );
    assert.deepEqual(byUpn.get("ann.lee@contoso.example")?.body, {
      upn: "ann.lee@contoso.example",
      displayName: "Ann Lee",
      usageLocation: "US",
      personas: ["accountant"],
    });
  });

  it("leaves out a part whose systems disagree, says why, and counts it", () => {
    const cy = byUpn.get("cy.tan@contoso.example");
    assert.ok(cy);
    assert.equal(cy.body.enabled, false);
    assert.equal(cy.body.fno, undefined);
    assert.equal(cy.body.personas, undefined, "his bundle is no longer the accountants'");
    assert.deepEqual(cy.body.licenses, ["DYN365_FINANCE"]);
    assert.match(cy.comments.join("\n"), /F&O \(prod\) left out: its enabled is true, Entra ID's false/);
    assert.match(cy.comments.join("\n"), /Dataverse \(prod\) left out: its enabled is true/);
    assert.equal(result.summary.inconsistencies, 1, "one person, two parts left out");
  });

  it("exports people present in only some systems as they are, saying where they are missing", () => {
    const di = byUpn.get("di.ho@contoso.example");
    assert.ok(di);
    assert.deepEqual(di.body.fno, {
      prod: { company: "DEMF", roles: [{ role: "WHSWAREHOUSEWORKER", legalEntities: ["DEMF"] }] },
    });
    assert.deepEqual(di.comments, [
      "F&O (prod): HCMEMPLOYEE from a rule: not declared",
      "not in Dataverse (prod)",
    ]);
    const ed = byUpn.get("ed.wu@contoso.example");
    assert.deepEqual(ed?.comments, [
      "Dataverse (prod): present, nothing users.yaml would own",
      "not in F&O (prod)",
    ]);
    assert.equal(ed?.body.dataverse, undefined);
    assert.deepEqual(result.summary.users, { "Entra ID": 5, Dataverse: 2, "F&O": 3 });
  });

  it("fills environments from the systems, and leaves out people with nothing of Dynamics", () => {
    assert.deepEqual(result.environments, { prod: { dataverse: true, fno: true, defaultCompany: "USMF" } });
    const none = buildExport(
      [{ system: ENTRA, read: read([person("9", "No One", [])]) }, ...tenant().slice(1)],
      { environments: ["prod"] },
    );
    assert.deepEqual(
      none.users.map((u) => u.upn),
      [],
    );
    const some = buildExport(tenant(), { environments: ["prod"], include: upnFilter(["a*", "DI.*"]) });
    assert.deepEqual(
      some.users.map((u) => u.upn),
      ["ann.lee@contoso.example", "di.ho@contoso.example"],
    );
    assert.equal(some.personas.length, 0, "one accountant left: no persona");
  });
});

describe("persona names", () => {
  it("are readable words, not hashes, and unique", () => {
    assert.equal(slug(["Accounts payable clerk"]), "accounts_payable_clerk");
    assert.equal(slug(["Chloé's rôle"]), "chloe_s_role");
    const all = [
      ["Accountant", "Environment Maker"],
      ["Environment Maker", "System Customizer"],
      ["Environment Maker"],
    ];
    assert.equal(personaName(all[0] ?? [], all, new Set()), "accountant");
    assert.equal(personaName(all[1] ?? [], all, new Set()), "system_customizer");
    assert.equal(personaName(all[2] ?? [], all, new Set()), "environment_maker");
    assert.equal(personaName(["Accountant"], all, new Set(["accountant"])), "accountant_2");
  });
});

describe("renderExport", () => {
  it("writes valid users.yaml with the schema header, comments above users, lists on one line", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "d365-export-"));
    try {
      const schema = path.resolve(import.meta.dirname, "..", "..", "schemas", "users.schema.json");
      const result = buildExport(tenant(), { environments: ["prod"] });
      const [file] = renderExport(result, {
        out: path.join(dir, "users.yaml"),
        schema,
        header: ["Exported."],
      });
      assert.ok(file);
      assert.ok(
        file.text.startsWith(
          `# yaml-language-server: $schema=${path.relative(dir, schema)}\n\n# Exported.\n`,
        ),
        file.text,
      );
      assert.match(
        file.text,
        /\n {2}# F&O \(prod\): HCMEMPLOYEE from a rule: not declared\n {2}# not in Dataverse \(prod\)\n {2}- upn: di\.ho@contoso\.example\n/,
      );
      assert.match(
        file.text,
        /# Left out on purpose[^\n]*\n#\s+F&O \(prod\) user Admin: one of Microsoft's preconfigured accounts\nusers:/,
      );
      assert.match(file.text, /^ {6}roles: \[LEDGERACCOUNTANT\]$/m);
      assert.deepEqual(parse(file.text).users.length, 5);
      writeFileSync(path.join(dir, "users.yaml"), file.text);
      const { state, diagnostics } = loadDesiredState([path.join(dir, "users.yaml")], { cwd: dir });
      assert.ok(state, JSON.stringify(diagnostics));
      assert.deepEqual(state.users.find((u) => u.upn === "bob.ray@contoso.example")?.fno[0]?.roles, [
        { role: "LEDGERACCOUNTANT", legalEntities: [] },
      ]);

      const split = renderExport(result, {
        out: path.join(dir, "users.yaml"),
        schema,
        header: [],
        splitBy: "company",
      });
      assert.deepEqual(
        split.map((f) => f.file),
        ["users.yaml", "users/demf.yaml", "users/unassigned.yaml", "users/usmf.yaml"],
      );
      assert.match(
        split[0]?.text ?? "",
        /^include: \[users\/demf\.yaml, users\/unassigned\.yaml, users\/usmf\.yaml\]$/m,
      );
      mkdirSync(path.join(dir, "users"));
      for (const f of split) writeFileSync(path.join(dir, f.file), f.text);
      const splitState = loadDesiredState([path.join(dir, "users.yaml")], { cwd: dir });
      assert.ok(splitState.state, JSON.stringify(splitState.diagnostics));
      assert.equal(splitState.state.users.length, 5);
      assert.equal(splitState.state.files.length, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
