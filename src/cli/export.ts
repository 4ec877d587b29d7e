/**
 * `d365-access export --stack <name> [--out FILE | --out-dir DIR [--split-by KEY]] [--users GLOBS]`:
 * reads what the stack's tenant and environments hold (each system of the registry reads its
 * own, in bulk: pages of users, roles and assignments, never one request per user) and writes
 * users.yaml that declares exactly that, so the first `up` after it writes nothing. Progress
 * (pages read, users written) and a summary go to stderr; the file to `--out`, or stdout.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { requestCounter } from "../../providers/core/http.ts";
import { configureRuntime } from "../../providers/core/runtime.ts";
import type { ExportContext } from "../../providers/core/system.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import { projectRoot } from "../engine/stack.ts";
import { buildExport, type SystemRead } from "../export/build.ts";
import { renderExport } from "../export/render.ts";
import { formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { KNOWN_SKUS } from "../model/licenses.ts";
import { stackConfig } from "../report/live.ts";
import { defineCommand, UsageError } from "./command.ts";

/** Part numbers of Dynamics 365 SKUs, besides the ones the model knows by name. */
const DYNAMICS_SKU = /^(dyn365|dynamics_365|d365|ax7)/i;

const list = (value: unknown): string[] =>
  typeof value === "string"
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/** A UPN test from comma-separated globs (`*`, `?`), case-insensitive; undefined: everyone. */
export function upnFilter(globs: readonly string[]): ((upn: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  const res = globs.map(
    (g) =>
      new RegExp(
        `^${g
          .split("")
          .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
          .join("")}$`,
        "i",
      ),
  );
  return (upn) => res.some((re) => re.test(upn));
}

/** Which SKUs are managed: users.yaml's set when there is one, else every Dynamics SKU; plus `--licenses`. */
function managedSet(
  from: string | undefined,
  extra: string[],
): { test: (sku: string) => boolean; source: string } {
  const added = new Set(extra.map((s) => s.toLowerCase()));
  if (from && existsSync(from)) {
    const { state, diagnostics } = loadDesiredState([from]);
    if (!state) {
      process.stderr.write(formatDiagnostics(diagnostics, "text"));
      throw new UsageError(`${from} is not valid; fix it, or pass --managed-from none`);
    }
    const managed = new Set([...state.managedLicenses.map((s) => s.toLowerCase()), ...added]);
    return { test: (sku) => managed.has(sku.toLowerCase()), source: `the SKUs ${from} manages` };
  }
  const known = new Set(KNOWN_SKUS.map((s) => s.toLowerCase()));
  return {
    test: (sku) => known.has(sku.toLowerCase()) || DYNAMICS_SKU.test(sku) || added.has(sku.toLowerCase()),
    source: "every Dynamics 365 SKU of the tenant",
  };
}

export const run = defineCommand({
  name: "export",
  synopsis:
    "[--stack NAME] [--out FILE | --out-dir DIR [--split-by company|department|businessUnit]] [--users GLOBS]",
  description:
    "Reads the Entra users with their direct licenses of the managed SKUs, the Dataverse users with\ntheir business unit and direct roles, and the F&O users with their manual roles and legal\nentities, and writes users.yaml declaring exactly that: the first `up` after it writes nothing.",
  options: {
    stack: { type: "string", short: "s", default: "sandbox" },
    out: { type: "string" },
    "out-dir": { type: "string" },
    "split-by": { type: "string", default: "company" },
    users: { type: "string" },
    licenses: { type: "string" },
    "managed-from": { type: "string", default: "users.yaml" },
    force: { type: "boolean", default: false },
  },
  help: [
    "  -s, --stack <name>       the stack whose tenant and environments are read (default: sandbox)",
    "      --out <file>         write users.yaml to FILE (default: standard output)",
    "      --out-dir <dir>      write DIR/users.yaml and one included file per --split-by value in DIR/users/",
    "      --split-by <key>     company (the F&O default company), department (Entra) or businessUnit",
    "                           (Dataverse) (default: company)",
    "      --users <globs>      only these UPNs, comma-separated globs, e.g. '*@contoso.example,grady*'",
    "      --licenses <skus>    more SKUs to manage, comma-separated (part numbers)",
    "      --managed-from <f>   the users.yaml whose managed SKUs are exported (default: users.yaml when it",
    "                           exists; `none`, or no such file: every Dynamics 365 SKU of the tenant)",
    "      --force              overwrite files that exist (default: refuse, before reading anything)",
  ],
  epilog: "Progress and the summary go to standard error. Exit code: 0 written, 1 failure, 2 usage error.",
  async run({ values }) {
    if (values.out && values["out-dir"]) throw new UsageError("give --out or --out-dir, not both");
    const splitBy = values["out-dir"] ? values["split-by"] : undefined;
    if (splitBy !== undefined && !["company", "department", "businessUnit"].includes(splitBy))
      throw new UsageError(`--split-by must be company, department or businessUnit, got "${splitBy}"`);
    const out = path.resolve(
      values["out-dir"] ? path.join(values["out-dir"], "users.yaml") : (values.out ?? "users.yaml"),
    );
    if ((values.out || values["out-dir"]) && existsSync(out) && !values.force)
      throw new UsageError(`${path.relative(process.cwd(), out)} exists; pass --force to overwrite it`);
    const from = values["managed-from"] === "none" ? undefined : values["managed-from"];
    const managed = managedSet(from, list(values.licenses));
    const started = Date.now();
    const say = (line: string) => process.stderr.write(`${line}\n`);
    say(`export: reading stack "${values.stack}" (managed licenses: ${managed.source})`);

    const rt = configureRuntime(await stackConfig(values.stack));
    const context: ExportContext = { objectIds: new Map(), upns: new Map(), managedSku: managed.test };
    const environments = rt.settings.environments.map((e) => e.name);
    requestCounter.reset();
    let shown = -1;
    const progress = () => {
      if (requestCounter.total === shown) return;
      shown = requestCounter.total;
      say(`  … ${shown} pages read`);
    };
    const timer = setInterval(progress, 2000);
    const reads: SystemRead[] = [];
    try {
      for (const system of SYSTEMS) {
        if (!system.export) continue;
        const info = {
          name: system.name,
          label: system.label,
          scope: system.scope,
          grants: system.export.grants,
        };
        for (const environment of system.scope === "tenant" ? [undefined] : environments) {
          const before = requestCounter.total;
          const read = await system.export.read(rt, context, environment);
          reads.push({ system: info, ...(environment ? { environment } : {}), read });
          if (system.scope === "tenant" || read.environment)
            say(
              `  ${system.label}${environment ? ` (${environment})` : ""}: ${read.parts.size} users, ${requestCounter.total - before} pages read`,
            );
        }
      }
    } finally {
      clearInterval(timer);
    }
    const readMs = Date.now() - started;

    const include = upnFilter(list(values.users));
    const result = buildExport(reads, { environments, ...(include ? { include } : {}) });
    const files = renderExport(result, {
      out,
      schema: path.join(projectRoot(), "schemas", "users.schema.json"),
      ...(splitBy ? { splitBy } : {}),
      header: [
        `Exported by \`d365-access export --stack ${values.stack}\` from what the systems held: declares`,
        "exactly that, so the first `up` changes nothing. Review the comments: they say what is left",
        "undeclared and why. Every field is documented in docs/users-yaml.md.",
      ],
    });
    if (values.out || values["out-dir"]) {
      for (const f of files) {
        const target = path.join(path.dirname(out), f.file);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, f.text);
      }
      say(
        `  ${result.users.length} users written to ${files.map((f) => path.relative(process.cwd(), path.join(path.dirname(out), f.file))).join(", ")}`,
      );
      // What was written must be valid users.yaml: check it as `validate` would.
      const check = loadDesiredState([out]);
      if (!check.state) {
        process.stderr.write(formatDiagnostics(check.diagnostics, "text"));
        say("export: the file written is not valid users.yaml (a bug: please report it)");
        return 1;
      }
    } else {
      process.stdout.write(files[0]?.text ?? "");
      say(`  ${result.users.length} users written to standard output`);
    }
    const perSystem = Object.entries(result.summary.users).map(([label, n]) => `${n} in ${label}`);
    say(
      `export: ${result.users.length} users (${perSystem.join(", ")}), ${result.summary.personas} personas inferred, ${result.summary.inconsistencies} inconsistent (part left out), ${result.summary.missing} missing from some system, ${result.skipped.length} accounts left out; ${requestCounter.total} pages read in ${(readMs / 1000).toFixed(1)} s`,
    );
    return 0;
  },
});
