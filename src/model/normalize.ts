/**
 * Semantic checks and normalization: merges the files, expands personas, applies defaults,
 * derives F&O user ids, and reports what cannot work (unknown names, duplicates, SoD conflicts,
 * roles without the license or the system behind them). Runs only on schema-valid input, so the
 * raw shapes below can be trusted.
 */
import type {
  DesiredDataverseAccess,
  DesiredEnvironment,
  DesiredFnoAccess,
  DesiredFnoRole,
  DesiredLicense,
  DesiredState,
  DesiredUser,
  Diagnostic,
  Guards,
  SodRule,
} from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { deriveFnoUserId, disambiguateFnoUserId } from "./fnoUserId.ts";
import { FNO_USER_SKUS, FNO_VIRTUAL_TABLE_ROLE, KNOWN_SKUS, SKU_SERVICE_PLANS } from "./licenses.ts";
import { diagnosticAt, locate, type SourceFile } from "./source.ts";

type RawLicense = string | { sku: string; disabledPlans?: string[] };
type RawFnoRole = string | { role: string; legalEntities?: string[] };
interface RawDataverse {
  businessUnit?: string;
  roles?: string[];
}
interface RawFno {
  userId?: string;
  company?: string;
  roles?: RawFnoRole[];
}
interface RawUser {
  upn: string;
  displayName: string;
  usageLocation?: string;
  enabled?: boolean;
  manage?: "adopt" | "create";
  onRemove?: "disable" | "delete";
  personas?: string[];
  environments?: string[];
  licenses?: RawLicense[];
  dataverse?: Record<string, RawDataverse>;
  fno?: Record<string, RawFno>;
}
interface RawPersona {
  description?: string;
  licenses?: RawLicense[];
  dataverse?: RawDataverse;
  fno?: { company?: string; roles?: RawFnoRole[] };
}
interface RawEnvironment {
  dataverse?: boolean;
  fno?: boolean;
  legalEntities?: string[];
  defaultCompany?: string;
}
interface RawDefaults {
  usageLocation?: string;
  enabled?: boolean;
  manage?: "adopt" | "create";
  onRemove?: "disable" | "delete";
  environments?: string[];
  personas?: string[];
  licenses?: RawLicense[];
  dataverse?: { businessUnit?: string };
  fno?: { company?: string };
}
interface RawSod {
  name: string;
  description?: string;
  system?: "fno" | "dataverse";
  roles: string[];
  severity?: "error" | "warning";
}
interface RawFile {
  domains?: string[];
  defaults?: RawDefaults;
  environments?: Record<string, RawEnvironment>;
  personas?: Record<string, RawPersona>;
  users?: RawUser[];
  rules?: { sod?: RawSod[] };
  guards?: Guards;
}

/** A value together with the file and path where it was written. */
interface Placed<T> {
  value: T;
  source: SourceFile;
  path: PathSegment[];
}

interface Context {
  diagnostics: Diagnostic[];
  environments: Map<string, Placed<RawEnvironment>>;
  personas: Map<string, Placed<RawPersona>>;
  usedPersonas: Set<string>;
  defaults?: Placed<RawDefaults>;
}

const at = (p: Placed<unknown>, ...more: PathSegment[]): PathSegment[] => [...p.path, ...more];
const where = (source: SourceFile, path: PathSegment[]) => {
  const { line, col } = locate(source, path);
  return `${source.file}:${line}:${col}`;
};

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

  // 1. Merge the files: named things must be unique across files; singletons appear once.
  for (const source of sources) {
    const raw = (source.value ?? {}) as RawFile;
    const single = <T>(
      key: "defaults" | "guards" | "domains",
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

  const sortedUsers = normalized.map((n) => n.user).sort((a, b) => compareLower(a.upn, b.upn));
  return {
    files: sources.map((s) => s.file),
    environments,
    users: sortedUsers,
    rules: { sod },
    guards: guards ? { ...guards.value } : {},
  };
}

function compareLower(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function checkUpn(ctx: Context, placed: Placed<RawUser>, domains: Map<string, string> | undefined): void {
  const upn = placed.value.upn;
  const alias = upn.slice(0, upn.lastIndexOf("@"));
  const domain = upn.slice(upn.lastIndexOf("@") + 1);
  const path = at(placed, "upn");
  if (alias.startsWith(".") || alias.endsWith(".") || alias.includes("..")) {
    ctx.diagnostics.push(
      diagnosticAt(
        placed.source,
        path,
        "error",
        "invalid-upn",
        `${quote(upn)} is not a valid user principal name: the alias cannot start or end with '.' or contain '..'`,
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

function checkLegalEntity(
  ctx: Context,
  envName: string,
  code: string,
  source: SourceFile,
  path: PathSegment[],
): boolean {
  const env = ctx.environments.get(envName)?.value;
  const known = (env?.legalEntities ?? []).map((e) => e.toUpperCase());
  if (known.length === 0 || known.includes(code.toUpperCase())) return true;
  ctx.diagnostics.push(
    diagnosticAt(
      source,
      path,
      "error",
      "unknown-legal-entity",
      `unknown legal entity ${quote(code)} in environment ${quote(envName)} (known: ${known.join(", ")})${didYouMean(code.toUpperCase(), known)}`,
    ),
  );
  return false;
}

/** Merges licenses: union by SKU; the user's own declaration sets disabled plans, else plans disabled by every persona. */
function mergeLicenses(own: RawLicense[], fromPersonas: RawLicense[][]): DesiredLicense[] {
  const result = new Map<string, { sku: string; plans: Set<string> | undefined; own: boolean }>();
  const add = (license: RawLicense, isOwn: boolean) => {
    const sku = typeof license === "string" ? license : license.sku;
    const plans = new Set(typeof license === "string" ? [] : (license.disabledPlans ?? []));
    const key = sku.toLowerCase();
    const current = result.get(key);
    if (!current) {
      result.set(key, { sku, plans, own: isOwn });
    } else if (isOwn) {
      // Several own entries of one SKU: a plan stays disabled only if every entry disables it.
      current.plans = current.own ? new Set([...(current.plans ?? [])].filter((p) => plans.has(p))) : plans;
      current.own = true;
    } else if (!current.own) {
      current.plans = new Set([...(current.plans ?? [])].filter((p) => plans.has(p)));
    }
  };
  for (const license of own) add(license, true);
  for (const list of fromPersonas) for (const license of list) add(license, false);
  return [...result.values()]
    .map(({ sku, plans }) => ({ sku, disabledPlans: [...(plans ?? [])].sort() }))
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** Adds F&O roles into `into` (keyed by lower-case role): legal entities union, unrestricted wins. */
function addFnoRoles(
  into: Map<string, { role: string; entities: Set<string> | undefined }>,
  roles: RawFnoRole[],
): void {
  for (const item of roles) {
    const role = typeof item === "string" ? item : item.role;
    const entities =
      typeof item === "string" || !item.legalEntities || item.legalEntities.length === 0
        ? undefined
        : item.legalEntities.map((e) => e.toUpperCase());
    const key = role.toLowerCase();
    const current = into.get(key);
    if (!current) into.set(key, { role, entities: entities ? new Set(entities) : undefined });
    else if (current.entities && entities) for (const e of entities) current.entities.add(e);
    else current.entities = undefined;
  }
}

function normalizeUser(
  ctx: Context,
  placed: Placed<RawUser>,
  envByName: Map<string, DesiredEnvironment>,
): { user: DesiredUser; placed: Placed<RawUser>; explicitIds: Map<string, string> } | undefined {
  const u = placed.value;
  const d = ctx.defaults?.value ?? {};
  const { source } = placed;
  const before = ctx.diagnostics.length;
  const error = (path: PathSegment[], code: string, message: string, target: "key" | "value" = "value") =>
    ctx.diagnostics.push(diagnosticAt(source, path, "error", code, message, target));
  const warn = (path: PathSegment[], code: string, message: string) =>
    ctx.diagnostics.push(diagnosticAt(source, path, "warning", code, message));

  // Personas: the user's own list, else the default list (checked where it is written).
  const personaNames = u.personas ?? d.personas ?? [];
  const personas: { name: string; placed: Placed<RawPersona> }[] = [];
  personaNames.forEach((name, i) => {
    const persona = ctx.personas.get(name);
    ctx.usedPersonas.add(name);
    if (persona) personas.push({ name, placed: persona });
    else if (u.personas)
      error(
        at(placed, "personas", i),
        "unknown-persona",
        `unknown persona ${quote(name)}${didYouMean(name, ctx.personas.keys())}`,
      );
  });

  // Environments: own list, else defaults, else the only declared environment; plus every
  // environment the user names under dataverse/fno.
  const envNames = new Set<string>();
  const listed = u.environments ?? d.environments ?? (envByName.size === 1 ? [...envByName.keys()] : []);
  listed.forEach((name, i) => {
    if (envByName.has(name)) envNames.add(name);
    else if (u.environments)
      error(
        at(placed, "environments", i),
        "unknown-environment",
        `unknown environment ${quote(name)}${didYouMean(name, envByName.keys())}`,
      );
  });
  for (const system of ["dataverse", "fno"] as const) {
    for (const name of Object.keys(u[system] ?? {})) {
      const env = envByName.get(name);
      if (!env) {
        error(
          at(placed, system, name),
          "unknown-environment",
          `unknown environment ${quote(name)}${didYouMean(name, envByName.keys())}`,
          "key",
        );
      } else if (!env[system]) {
        const label = system === "fno" ? "F&O" : "Dataverse";
        error(
          at(placed, system, name),
          "system-not-in-environment",
          `environment ${quote(name)} has no ${label} (set \`environments.${name}.${system}: true\` if it does)`,
          "key",
        );
      } else {
        envNames.add(name);
      }
    }
  }
  if (personas.length > 0 && envNames.size === 0 && envByName.size > 1) {
    warn(
      at(placed, "personas"),
      "no-environment",
      "the personas' roles apply in no environment: list the user's `environments` or set `defaults.environments`",
    );
  }

  // Licenses.
  const own = u.licenses ?? d.licenses ?? [];
  const licenses = mergeLicenses(
    own,
    personas.map((p) => p.placed.value.licenses ?? []),
  );
  if (u.licenses) checkLicenses(ctx, { source, path: at(placed, "licenses") }, u.licenses);
  const usageLocation = u.usageLocation ?? d.usageLocation ?? "";
  if (licenses.length > 0 && usageLocation === "") {
    error(
      at(placed, "upn"),
      "missing-usage-location",
      `usageLocation is required because the user has licenses (${licenses.map((l) => l.sku).join(", ")}): Entra refuses to assign a license without it; set it on the user or in defaults.usageLocation`,
    );
  }

  // Deleting is for accounts this tool created: an adopted account (mail, Teams, other apps) is
  // left as found on removal, apart from the access this tool granted (providers/entra).
  if ((u.manage ?? d.manage ?? "adopt") === "adopt" && (u.onRemove ?? d.onRemove) === "delete") {
    error(
      u.onRemove ? at(placed, "onRemove") : at(placed, "upn"),
      "delete-adopted-user",
      `onRemove: delete${u.onRemove ? "" : " (from defaults)"} applies only to users d365-access creates (manage: create); an adopted user is never deleted: set manage: create or onRemove: disable`,
    );
  }

  // Dataverse, per environment that has it.
  const dataverse: DesiredDataverseAccess[] = [];
  const fno: DesiredFnoAccess[] = [];
  const explicitIds = new Map<string, string>();
  const hasFnoLicense = licenses.some((l) => FNO_USER_SKUS.has(l.sku));
  for (const envName of [...envNames].sort()) {
    const env = envByName.get(envName);
    if (!env) continue;
    const ownDv = u.dataverse?.[envName];
    if (env.dataverse) {
      const roles = new Map<string, string>();
      for (const p of personas)
        for (const r of p.placed.value.dataverse?.roles ?? [])
          if (!roles.has(r.toLowerCase())) roles.set(r.toLowerCase(), r);
      for (const r of ownDv?.roles ?? []) if (!roles.has(r.toLowerCase())) roles.set(r.toLowerCase(), r);
      let businessUnit = ownDv?.businessUnit;
      if (businessUnit === undefined) {
        const fromPersonas = personas.filter((p) => p.placed.value.dataverse?.businessUnit !== undefined);
        const units = new Set(fromPersonas.map((p) => p.placed.value.dataverse?.businessUnit));
        if (units.size > 1) {
          error(
            at(placed, "personas"),
            "conflicting-business-units",
            `personas ${fromPersonas.map((p) => quote(p.name)).join(" and ")} set different business units; set dataverse.${envName}.businessUnit on the user`,
          );
        }
        businessUnit = fromPersonas[0]?.placed.value.dataverse?.businessUnit ?? d.dataverse?.businessUnit;
      }
      if (roles.size > 0 || ownDv) {
        dataverse.push({
          environment: envName,
          ...(businessUnit === undefined ? {} : { businessUnit }),
          roles: [...roles.values()].sort(compareLower),
        });
        if (licenses.length === 0 && roles.size > 0) {
          warn(
            at(placed, "upn"),
            "dataverse-without-license",
            `has Dataverse roles in ${quote(envName)} but no license; Dataverse only adds licensed users (unless a group assigns the license, the roles cannot be granted)`,
          );
        }
      }
    }
    if (env.fno) {
      const ownFno = u.fno?.[envName];
      const roles = new Map<string, { role: string; entities: Set<string> | undefined }>();
      for (const p of personas) {
        const pr = p.placed.value.fno?.roles ?? [];
        pr.forEach((r, i) => {
          if (typeof r === "string") return;
          (r.legalEntities ?? []).forEach((e, j) => {
            checkLegalEntity(
              ctx,
              envName,
              e,
              p.placed.source,
              at(p.placed, "fno", "roles", i, "legalEntities", j),
            );
          });
        });
        addFnoRoles(roles, pr);
      }
      (ownFno?.roles ?? []).forEach((r, i) => {
        if (typeof r === "string") return;
        (r.legalEntities ?? []).forEach((e, j) => {
          checkLegalEntity(
            ctx,
            envName,
            e,
            source,
            at(placed, "fno", envName, "roles", i, "legalEntities", j),
          );
        });
      });
      addFnoRoles(roles, ownFno?.roles ?? []);
      if (roles.size > 0 || ownFno) {
        let company = ownFno?.company;
        if (company !== undefined)
          checkLegalEntity(ctx, envName, company, source, at(placed, "fno", envName, "company"));
        if (company === undefined) {
          const fromPersonas = personas.filter((p) => p.placed.value.fno?.company !== undefined);
          const companies = new Set(fromPersonas.map((p) => p.placed.value.fno?.company?.toUpperCase()));
          if (companies.size > 1) {
            error(
              at(placed, "personas"),
              "conflicting-companies",
              `personas ${fromPersonas.map((p) => quote(p.name)).join(" and ")} set different F&O companies; set fno.${envName}.company on the user`,
            );
          }
          const persona = fromPersonas[0];
          if (persona?.placed.value.fno?.company !== undefined) {
            company = persona.placed.value.fno.company;
            checkLegalEntity(
              ctx,
              envName,
              company,
              persona.placed.source,
              at(persona.placed, "fno", "company"),
            );
          } else {
            const envDefault = ctx.environments.get(envName)?.value.defaultCompany;
            company = envDefault ?? d.fno?.company;
            if (envDefault === undefined && company !== undefined && ctx.defaults)
              checkLegalEntity(
                ctx,
                envName,
                company,
                ctx.defaults.source,
                at(ctx.defaults, "fno", "company"),
              );
          }
        }
        if (company === undefined) {
          error(
            at(placed, "upn"),
            "missing-company",
            `no F&O company for environment ${quote(envName)}: set fno.${envName}.company on the user, a persona's fno.company, environments.${envName}.defaultCompany or defaults.fno.company`,
          );
          company = "";
        }
        if (ownFno?.userId !== undefined) explicitIds.set(envName, ownFno.userId);
        const fnoRoles: DesiredFnoRole[] = [...roles.values()]
          .map(({ role, entities }) => ({ role, legalEntities: entities ? [...entities].sort() : [] }))
          .sort((a, b) => compareLower(a.role, b.role));
        fno.push({
          environment: envName,
          userId: ownFno?.userId ?? "",
          company: company.toUpperCase(),
          roles: fnoRoles,
        });
        if (fnoRoles.length > 0 && !hasFnoLicense) {
          warn(
            at(placed, "upn"),
            "fno-without-license",
            `has F&O roles in ${quote(envName)} but no F&O license (such as DYN365_FINANCE or DYN365_TEAM_MEMBERS); unless a group assigns one, the user cannot use them`,
          );
        }
      }
    }
  }

  // "Finance and Operations Basic User" opens F&O virtual tables, but F&O authorizes each call
  // against the user's F&O roles: without them the Dataverse role gives nothing.
  for (const access of dataverse) {
    if (!access.roles.some((r) => r.toLowerCase() === FNO_VIRTUAL_TABLE_ROLE.toLowerCase())) continue;
    const env = envByName.get(access.environment);
    const ownIndex = (u.dataverse?.[access.environment]?.roles ?? []).findIndex(
      (r) => r.toLowerCase() === FNO_VIRTUAL_TABLE_ROLE.toLowerCase(),
    );
    const path =
      ownIndex >= 0 ? at(placed, "dataverse", access.environment, "roles", ownIndex) : at(placed, "upn");
    if (!env?.fno) {
      warn(
        path,
        "virtual-tables-without-fno",
        `${quote(FNO_VIRTUAL_TABLE_ROLE)} in ${quote(access.environment)} opens F&O virtual tables, but the environment has no linked F&O environment`,
      );
    } else if ((fno.find((f) => f.environment === access.environment)?.roles.length ?? 0) === 0) {
      warn(
        path,
        "virtual-tables-without-fno-roles",
        `${quote(FNO_VIRTUAL_TABLE_ROLE)} in ${quote(access.environment)} opens F&O virtual tables, but F&O checks every call against the user's F&O roles and the user has none there`,
      );
    }
  }

  if (ctx.diagnostics.slice(before).some((x) => x.severity === "error")) return undefined;
  const { line, col } = locate(source, placed.path);
  const user: DesiredUser = {
    upn: u.upn,
    displayName: u.displayName,
    usageLocation,
    enabled: u.enabled ?? d.enabled ?? true,
    manage: u.manage ?? d.manage ?? "adopt",
    onRemove: u.onRemove ?? d.onRemove ?? "disable",
    personas: personas.map((p) => p.name),
    licenses,
    dataverse,
    fno,
    source: { file: source.file, line, col },
  };
  return { user, placed, explicitIds };
}

function checkLicenses(
  ctx: Context,
  place: { source: SourceFile; path: PathSegment[] },
  licenses: RawLicense[],
): void {
  const seen = new Map<string, number>();
  licenses.forEach((license, i) => {
    const sku = typeof license === "string" ? license : license.sku;
    const skuPath = typeof license === "string" ? [...place.path, i] : [...place.path, i, "sku"];
    const exact = KNOWN_SKUS.includes(sku);
    const caseInsensitive = KNOWN_SKUS.find((k) => k.toLowerCase() === sku.toLowerCase());
    if (!exact && caseInsensitive) {
      ctx.diagnostics.push(
        diagnosticAt(
          place.source,
          skuPath,
          "warning",
          "sku-case",
          `SKU part number ${quote(sku)} differs in case from ${quote(caseInsensitive)}; write it as Microsoft Graph lists it`,
        ),
      );
    } else if (!exact) {
      const guess = didYouMean(sku, KNOWN_SKUS);
      if (guess !== "")
        ctx.diagnostics.push(
          diagnosticAt(
            place.source,
            skuPath,
            "warning",
            "unknown-sku",
            `SKU part number ${quote(sku)} is not a known Dynamics 365 SKU${guess}`,
          ),
        );
    }
    const previous = seen.get(sku.toLowerCase());
    if (previous !== undefined) {
      ctx.diagnostics.push(
        diagnosticAt(
          place.source,
          skuPath,
          "warning",
          "duplicate-license",
          `license ${quote(sku)} is listed twice (also item ${previous})`,
        ),
      );
    }
    seen.set(sku.toLowerCase(), i);
    const plans = SKU_SERVICE_PLANS[caseInsensitive ?? sku];
    if (typeof license !== "string" && plans) {
      (license.disabledPlans ?? []).forEach((plan, j) => {
        if (!plans.includes(plan)) {
          ctx.diagnostics.push(
            diagnosticAt(
              place.source,
              [...place.path, i, "disabledPlans", j],
              "error",
              "unknown-service-plan",
              `${quote(plan)} is not a service plan of ${caseInsensitive ?? sku} (its plans: ${plans.join(", ")})${didYouMean(plan, plans)}`,
            ),
          );
        }
      });
    }
  });
}

function assignFnoUserIds(
  ctx: Context,
  users: { user: DesiredUser; placed: Placed<RawUser>; explicitIds: Map<string, string> }[],
): void {
  const sorted = [...users].sort((a, b) => compareLower(a.user.upn, b.user.upn));
  const environments = new Set(users.flatMap((u) => u.user.fno.map((f) => f.environment)));
  for (const envName of [...environments].sort()) {
    // Explicit ids first: they win, and duplicates among them are errors.
    const owners = new Map<string, { upn: string; placed: Placed<RawUser>; explicit: boolean }>();
    for (const { user, placed, explicitIds } of users) {
      const id = explicitIds.get(envName);
      if (id === undefined) continue;
      const key = id.toLowerCase();
      const owner = owners.get(key);
      if (owner) {
        ctx.diagnostics.push(
          diagnosticAt(
            placed.source,
            at(placed, "fno", envName, "userId"),
            "error",
            "duplicate-fno-user-id",
            `F&O user id ${quote(id)} in ${quote(envName)} is also set for ${owner.upn} at ${where(owner.placed.source, at(owner.placed, "fno", envName, "userId"))} (user ids are compared case-insensitively)`,
          ),
        );
        continue;
      }
      owners.set(key, { upn: user.upn, placed, explicit: true });
    }
    for (const { user, placed, explicitIds } of sorted) {
      const access = user.fno.find((f) => f.environment === envName);
      if (!access || explicitIds.has(envName)) continue;
      const derived = deriveFnoUserId(user.upn);
      const owner = owners.get(derived);
      if (!owner) {
        access.userId = derived;
        owners.set(derived, { upn: user.upn, placed, explicit: false });
        continue;
      }
      const id = disambiguateFnoUserId(user.upn, (candidate) => owners.has(candidate));
      access.userId = id;
      owners.set(id, { upn: user.upn, placed, explicit: false });
      ctx.diagnostics.push(
        diagnosticAt(
          placed.source,
          at(placed, "upn"),
          "warning",
          "fno-user-id-collision",
          `F&O user id ${quote(derived)} derived from ${user.upn} is already ${owner.explicit ? "set" : "derived"} for ${owner.upn} (${where(owner.placed.source, at(owner.placed, "upn"))}) in ${quote(envName)}; using ${quote(id)}. Set fno.${envName}.userId on one of them to choose`,
        ),
      );
    }
  }
}

function checkSod(ctx: Context, user: DesiredUser, placed: Placed<RawUser>, rules: SodRule[]): void {
  for (const rule of rules) {
    const wanted = new Set(rule.roles.map((r) => r.toLowerCase()));
    const scopes: { environment: string; held: { role: string; entities: string[] }[] }[] =
      rule.system === "fno"
        ? user.fno.map((f) => ({
            environment: f.environment,
            held: f.roles
              .filter((r) => wanted.has(r.role.toLowerCase()))
              .map((r) => ({ role: r.role, entities: r.legalEntities })),
          }))
        : user.dataverse.map((d) => ({
            environment: d.environment,
            held: d.roles.filter((r) => wanted.has(r.toLowerCase())).map((r) => ({ role: r, entities: [] })),
          }));
    for (const { environment, held } of scopes) {
      // Two roles conflict where their legal entities overlap (empty = all legal entities).
      const pairs: string[] = [];
      for (let i = 0; i < held.length; i++) {
        for (let j = i + 1; j < held.length; j++) {
          const a = held[i];
          const b = held[j];
          if (!a || !b) continue;
          const overlap =
            a.entities.length === 0
              ? b.entities
              : b.entities.length === 0
                ? a.entities
                : a.entities.filter((e) => b.entities.includes(e));
          if (a.entities.length > 0 && b.entities.length > 0 && overlap.length === 0) continue;
          pairs.push(
            `${quote(a.role)} and ${quote(b.role)}${overlap.length > 0 ? ` (in ${overlap.join(", ")})` : ""}`,
          );
        }
      }
      if (pairs.length === 0) continue;
      ctx.diagnostics.push(
        diagnosticAt(
          placed.source,
          at(placed, "upn"),
          rule.severity,
          "sod-conflict",
          `segregation of duties rule ${quote(rule.name)} (${rule.source.file}:${rule.source.line}:${rule.source.col}) forbids holding ${pairs.join("; ")} in ${quote(environment)}`,
        ),
      );
    }
  }
}
