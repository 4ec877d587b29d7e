/**
 * Where each name that a tenant's catalogue must know was written in users.yaml: roles,
 * business units and legal entities (in users, personas and defaults) and the roles of the
 * segregation-of-duties rules. The pre-flight (src/program/preflight.ts) resolves the names
 * against the catalogues it reads and reports an unknown one at every place it is written, with
 * file:line:col, even when a persona's role reaches many users.
 */
import type { RawFile, RawFnoRole } from "./context.ts";
import type { SourceLocation } from "./desired.ts";
import type { PathSegment } from "./diagnostics.ts";
import { locate, type SourceFile } from "./source.ts";

/** What a written name is. */
export type NameKind = "dataverse-role" | "business-unit" | "fno-role" | "legal-entity";

/** One name as written. */
export interface WrittenName {
  kind: NameKind;
  name: string;
  /** The environment it is written for; undefined in personas and defaults (every environment). */
  environment?: string;
  at: SourceLocation;
}

/** The names users.yaml writes, and where (built by {@link writtenNames}). */
export interface NameIndex {
  names: WrittenName[];
  /** Where `name` of `kind` is written for `environment` (or for every environment), in file order. */
  where(kind: NameKind, name: string, environment?: string): SourceLocation[];
}

/** Indexes the names of schema-valid files. */
export function writtenNames(sources: readonly SourceFile[]): NameIndex {
  const names: WrittenName[] = [];
  for (const source of sources) {
    const raw = (source.value ?? {}) as RawFile;
    const add = (kind: NameKind, name: unknown, path: PathSegment[], environment?: string) => {
      if (typeof name !== "string") return;
      const { line, col } = locate(source, path);
      names.push({
        kind,
        name,
        ...(environment ? { environment } : {}),
        at: { file: source.file, line, col },
      });
    };
    const fnoRoles = (roles: RawFnoRole[] | undefined, path: PathSegment[], environment?: string) =>
      (roles ?? []).forEach((r, i) => {
        if (typeof r === "string") {
          add("fno-role", r, [...path, i], environment);
          return;
        }
        add("fno-role", r.role, [...path, i, "role"], environment);
        for (const [j, e] of (r.legalEntities ?? []).entries())
          add("legal-entity", e, [...path, i, "legalEntities", j], environment);
      });
    add("business-unit", raw.defaults?.dataverse?.businessUnit, ["defaults", "dataverse", "businessUnit"]);
    add("legal-entity", raw.defaults?.fno?.company, ["defaults", "fno", "company"]);
    for (const [name, env] of Object.entries(raw.environments ?? {}))
      add("legal-entity", env.defaultCompany, ["environments", name, "defaultCompany"], name);
    for (const [name, p] of Object.entries(raw.personas ?? {})) {
      const base: PathSegment[] = ["personas", name];
      for (const [i, r] of (p.dataverse?.roles ?? []).entries())
        add("dataverse-role", r, [...base, "dataverse", "roles", i]);
      add("business-unit", p.dataverse?.businessUnit, [...base, "dataverse", "businessUnit"]);
      fnoRoles(p.fno?.roles, [...base, "fno", "roles"]);
      add("legal-entity", p.fno?.company, [...base, "fno", "company"]);
    }
    (raw.users ?? []).forEach((u, i) => {
      for (const [env, dv] of Object.entries(u.dataverse ?? {})) {
        const base: PathSegment[] = ["users", i, "dataverse", env];
        for (const [j, r] of (dv.roles ?? []).entries()) add("dataverse-role", r, [...base, "roles", j], env);
        add("business-unit", dv.businessUnit, [...base, "businessUnit"], env);
      }
      for (const [env, f] of Object.entries(u.fno ?? {})) {
        const base: PathSegment[] = ["users", i, "fno", env];
        fnoRoles(f.roles, [...base, "roles"], env);
        add("legal-entity", f.company, [...base, "company"], env);
      }
    });
  }
  return {
    names,
    where(kind, name, environment) {
      const wanted = name.trim().toLowerCase();
      return names
        .filter(
          (n) =>
            n.kind === kind &&
            n.name.trim().toLowerCase() === wanted &&
            (n.environment === undefined || environment === undefined || n.environment === environment),
        )
        .map((n) => n.at);
    },
  };
}
