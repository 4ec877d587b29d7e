/**
 * Benchmark: generates a 10,000-user users.yaml (personas, per-user F&O roles with legal
 * entities, a few SoD rules) into a temp directory and times `loadDesiredState` on it, cold
 * (first call, schema compiled) and warm. Target: under 2 seconds.
 * Run: bash scripts/with-node bench/validate.ts [users]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";
import { loadDesiredState } from "../src/model/index.ts";

const count = Number(process.argv[2] ?? 10_000);
const personas = ["ap_clerk", "ar_clerk", "accountant", "team_member"];
const entities = ["USMF", "DEMF", "GBSI"];

function generate(n: number): string {
  const lines = [
    "version: 1",
    "domains: [contoso.example]",
    "environments:",
    "  prod:",
    "    fno: true",
    "    legalEntities: [USMF, DEMF, GBSI]",
    "    defaultCompany: USMF",
    "defaults:",
    "  usageLocation: US",
    "  environments: [prod]",
    "personas:",
    "  ap_clerk:",
    "    licenses: [DYN365_FINANCE]",
    "    dataverse: { roles: [Basic User, Finance and Operations Basic User] }",
    "    fno: { roles: [VENDINVOICEACCOUNTSPAYABLECLERK] }",
    "  ar_clerk:",
    "    licenses: [DYN365_FINANCE]",
    "    dataverse: { roles: [Basic User, Finance and Operations Basic User] }",
    "    fno: { roles: [CUSTINVOICEACCOUNTSRECEIVABLECLERK] }",
    "  accountant:",
    "    licenses: [DYN365_FINANCE]",
    "    dataverse: { roles: [Basic User] }",
    "    fno: { roles: [LEDGERACCOUNTANT] }",
    "  team_member:",
    "    licenses: [DYN365_ENTERPRISE_TEAM_MEMBERS]",
    "    fno: { roles: [HCMEMPLOYEE] }",
    "rules:",
    "  sod:",
    "    - name: enter and approve payables",
    "      roles: [VENDINVOICEACCOUNTSPAYABLECLERK, VENDINVOICEACCOUNTSPAYABLEMANAGER]",
    "      severity: warning",
    "users:",
  ];
  for (let i = 0; i < n; i++) {
    const alias = `user${String(i).padStart(5, "0")}.employee`;
    lines.push(`  - upn: ${alias}@contoso.example`);
    lines.push(`    displayName: Employee ${i}`);
    lines.push(`    personas: [${personas[i % personas.length]}]`);
    if (i % 3 === 0) {
      lines.push("    fno:");
      lines.push("      prod:");
      lines.push(`        company: ${entities[i % entities.length]}`);
      lines.push("        roles:");
      lines.push("          - role: BUDGETBUDGETCLERK");
      lines.push(`            legalEntities: [${entities[i % entities.length]}]`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const dir = mkdtempSync(path.join(tmpdir(), "d365-access-bench-"));
try {
  const file = path.join(dir, "users.yaml");
  writeFileSync(file, generate(count));
  const size = statSync(file).size;
  const runs: number[] = [];
  let users = 0;
  let diagnostics = 0;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const result = loadDesiredState([file], { cwd: dir });
    runs.push(performance.now() - start);
    users = result.state?.users.length ?? 0;
    diagnostics = result.diagnostics.length;
  }
  const [cold = 0, ...warm] = runs;
  process.stdout.write(
    `validate: ${count} users, ${(size / 1048576).toFixed(2)} MiB → ${users} users normalized, ${diagnostics} diagnostics\n` +
      `  cold ${cold.toFixed(0)} ms (includes schema compilation), warm ${warm.map((t) => t.toFixed(0)).join(" / ")} ms; target < 2000 ms\n`,
  );
  if (users !== count) process.exitCode = 1;
  if (cold >= 2000) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
