/**
 * Semantic checks and normalization: merges the files, expands personas, applies defaults,
 * derives F&O user ids, and reports what cannot work (unknown names, duplicates, SoD conflicts,
 * roles without the license or the system behind them). Runs only on schema-valid input, so the
 * raw shapes below can be trusted.
 */

import { upnProblem } from "../../providers/core/user.ts";
import { at, type Context, compareLower, type Placed, type RawFile, type RawUser, where } from "./context.ts";
import type {
  DesiredEnvironment,
  DesiredState,
  DesiredUser,
  Diagnostic,
  Guards,
  SodRule,
} from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { checkLicenses } from "./entra.ts";
import { assignFnoUserIds, checkLegalEntity } from "./fno.ts";
import { writtenNames } from "./positions.ts";
import { checkSod } from "./sod.ts";
import { diagnosticAt, locate, type SourceFile } from "./source.ts";
import { normalizeUser } from "./user.ts";

/** Builds the desired state from schema-valid files; errors and warnings go to `diagnostics`. */
export function normalize(sources: SourceFile[], diagnostics: Diagnostic[]): Omit<DesiredState, "warnings"> {
  const ctx: Context = { diagnostics, environments: new Map(), personas: new Map(), usedPersonas: new Set() };
  const error = (
    source: SourceFile,
    path: PathSegment[],
    code: string,
    message: string,
    target: "key" | "value" = "value",
  ) => diagnostics.push(diagnosticAt(source, path, "error", code, message, target));
  const users: Placed<RawUser>[] = [];
  const sod: SodRule[] = [];
  let guards: Placed<Guards> | undefined;
  let domains: Placed<string[]> | undefined;
  let managedLicenses: Placed<string[]> | undefined;
  let privilegedRoles: Placed<string[]> | undefined;

  // 1. Merge the files: named things must be unique across files; singletons appear once.
  for (const source of sources) {
    const raw = (source.value ?? {}) as RawFile;
    const single = <T>(
      key: "defaults" | "guards" | "domains" | "managedLicenses" | "privilegedRoles",
      current: Placed<T> | undefined,
    ): Placed<T> | undefined => {
      const value = raw[key] as T | undefined;
      if (value === undefined) return current;
      if (current) {
        error(
          source,
          [key],
          "duplicate-definition",
          `${key} is already defined at ${where(current.source, current.path)}; define it once`,
          "key",
        );
        return current;
      }
      return { value, source, path: [key] };
    };
    ctx.defaults = single("defaults", ctx.defaults);
    guards = single("guards", guards);
    domains = single("domains", domains);
    managedLicenses = single("managedLicenses", managedLicenses);
    privilegedRoles = single("privilegedRoles", privilegedRoles);
    for (const [kind, map] of [
      ["environments", ctx.environments],
      ["personas", ctx.personas],
    ] as const) {
      for (const [name, value] of Object.entries(raw[kind] ?? {})) {
        const existing = (map as Map<string, Placed<unknown>>).get(name);
        if (existing) {
          const noun = kind === "environments" ? "environment" : "persona";
          error(
            source,
            [kind, name],
            "duplicate-definition",
            `${noun} ${quote(name)} is already defined at ${where(existing.source, existing.path)}`,
            "key",
          );
          continue;
        }
        (map as Map<string, Placed<unknown>>).set(name, { value, source, path: [kind, name] });
      }
    }
    (raw.users ?? []).forEach((value, index) => {
      users.push({ value, source, path: ["users", index] });
    });
    (raw.rules?.sod ?? []).forEach((rule, index) => {
      const { line, col } = locate(source, ["rules", "sod", index]);
      sod.push({
        name: rule.name,
        system: rule.system ?? "fno",
        roles: rule.roles,
        severity: rule.severity ?? "error",
        roleSources: rule.roles.map((_, j) => ({
          file: source.file,
          ...locate(source, ["rules", "sod", index, "roles", j]),
        })),
        ...(rule.description === undefined ? {} : { description: rule.description }),
        source: { file: source.file, line, col },
      });
    });
  }

  // 2. Environments.
  const environments: DesiredEnvironment[] = [];
  for (const [name, placed] of ctx.environments) {
    const env = placed.value;
    const legalEntities = [...new Set((env.legalEntities ?? []).map((e) => e.toUpperCase()))].sort();
    if (env.dataverse === false && env.fno !== true) {
      diagnostics.push(
        diagnosticAt(
          placed.source,
          placed.path,
          "warning",
          "empty-environment",
          `environment ${quote(name)} has neither Dataverse nor F&O; no access can be granted in it`,
          "key",
        ),
      );
    }
    if (env.defaultCompany !== undefined)
      checkLegalEntity(ctx, name, env.defaultCompany, placed.source, at(placed, "defaultCompany"));
    environments.push({ name, dataverse: env.dataverse ?? true, fno: env.fno ?? false, legalEntities });
  }
  environments.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const envByName = new Map(environments.map((e) => [e.name, e]));

  // Defaults that name things are checked once, where they are written.
  const defaults = ctx.defaults;
  if (defaults) {
    (defaults.value.personas ?? []).forEach((name, i) => {
      if (!ctx.personas.has(name))
        error(
          defaults.source,
          at(defaults, "personas", i),
          "unknown-persona",
          `unknown persona ${quote(name)}${didYouMean(name, ctx.personas.keys())}`,
        );
    });
    (defaults.value.environments ?? []).forEach((name, i) => {
      if (!envByName.has(name))
        error(
          defaults.source,
          at(defaults, "environments", i),
          "unknown-environment",
          `unknown environment ${quote(name)}${didYouMean(name, envByName.keys())}`,
        );
    });
  }

  if (defaults?.value.licenses)
    checkLicenses(ctx, { source: defaults.source, path: at(defaults, "licenses") }, defaults.value.licenses);
  for (const persona of ctx.personas.values()) {
    if (persona.value.licenses)
      checkLicenses(ctx, { source: persona.source, path: at(persona, "licenses") }, persona.value.licenses);
  }
  if (managedLicenses)
    checkLicenses(ctx, { source: managedLicenses.source, path: managedLicenses.path }, managedLicenses.value);

  // 3. Users.
  const byUpn = new Map<string, Placed<RawUser>>();
  const domainSet = domains ? new Map(domains.value.map((d) => [d.toLowerCase(), d])) : undefined;
  const normalized: { user: DesiredUser; placed: Placed<RawUser>; explicitIds: Map<string, string> }[] = [];
  for (const placed of users) {
    const u = placed.value;
    const key = u.upn.toLowerCase();
    const first = byUpn.get(key);
    if (first) {
      error(
        placed.source,
        at(placed, "upn"),
        "duplicate-upn",
        `duplicate UPN ${quote(u.upn)}: already declared at ${where(first.source, at(first, "upn"))} (UPNs are compared case-insensitively)`,
      );
      continue;
    }
    byUpn.set(key, placed);
    checkUpn(ctx, placed, domainSet);
    const result = normalizeUser(ctx, placed, envByName);
    if (result) normalized.push(result);
  }

  // 4. F&O user ids: explicit ones must be unique per environment; derived ones avoid them.
  assignFnoUserIds(ctx, normalized);

  // 5. Personas nobody uses are probably a typo on the users' side.
  for (const [name, placed] of ctx.personas) {
    if (!ctx.usedPersonas.has(name)) {
      diagnostics.push(
        diagnosticAt(
          placed.source,
          placed.path,
          "warning",
          "unused-persona",
          `persona ${quote(name)} is not used by any user`,
          "key",
        ),
      );
    }
  }

  // 6. Segregation of duties.
  for (const { user, placed } of normalized) checkSod(ctx, user, placed, sod);

  const managed = managedSkus(ctx, managedLicenses?.value ?? [], users);
  const sortedUsers = normalized
    .map((n) => ({ ...n.user, managedLicenses: managed }))
    .sort((a, b) => compareLower(a.upn, b.upn));
  return {
    files: sources.map((s) => s.file),
    environments,
    users: sortedUsers,
    rules: { sod },
    guards: guards ? { ...guards.value } : {},
    managedLicenses: managed,
    privilegedRoles: [...(privilegedRoles?.value ?? [])].map((r) => r.trim()),
    names: writtenNames(sources),
  };
}

/**
 * The SKUs users.yaml manages: every SKU it names anywhere (users, personas, defaults), unused
 * personas included, and the `managedLicenses` setting; case-insensitively unique, the first
 * spelling kept, sorted.
 */
function managedSkus(ctx: Context, setting: string[], users: Placed<RawUser>[]): string[] {
  const named = [
    ...(ctx.defaults?.value.licenses ?? []),
    ...[...ctx.personas.values()].flatMap((p) => p.value.licenses ?? []),
    ...users.flatMap((u) => u.value.licenses ?? []),
  ].map((l) => (typeof l === "string" ? l : l.sku));
  const skus = new Map<string, string>();
  for (const sku of [...named, ...setting])
    if (!skus.has(sku.toLowerCase())) skus.set(sku.toLowerCase(), sku);
  return [...skus.values()].sort(compareLower);
}

function checkUpn(ctx: Context, placed: Placed<RawUser>, domains: Map<string, string> | undefined): void {
  const upn = placed.value.upn;
  const domain = upn.slice(upn.lastIndexOf("@") + 1);
  const path = at(placed, "upn");
  const problem = upnProblem(upn);
  if (problem) {
    ctx.diagnostics.push(
      diagnosticAt(
        placed.source,
        path,
        "error",
        "invalid-upn",
        `${quote(upn)} is not a valid user principal name: ${problem}`,
      ),
    );
  }
  if (domains && !domains.has(domain.toLowerCase())) {
    ctx.diagnostics.push(
      diagnosticAt(
        placed.source,
        path,
        "error",
        "unknown-domain",
        `the domain of ${quote(upn)} is not one of the tenant's domains (${[...domains.values()].join(", ")})${didYouMean(domain, domains.values())}`,
      ),
    );
  }
}
