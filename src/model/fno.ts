/**
 * A user's F&O access in one environment (roles with legal entities from the personas and the
 * user; the company from the user, else the personas, which must agree, else the environment's
 * or the defaults'), legal-entity checks, and the F&O user ids of the whole file: explicit ones
 * unique per environment, derived ones avoiding them.
 */

import { isPreconfiguredAccount } from "../../providers/fno/check.ts";
import { PRECONFIGURED_ACCOUNTS_PAGE } from "../../providers/fno/model.ts";
import {
  at,
  type Context,
  compareLower,
  type Placed,
  type RawFnoRole,
  type RawUser,
  type UserScope,
  where,
} from "./context.ts";
import type { DesiredFnoAccess, DesiredFnoRole, DesiredUser } from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { deriveFnoUserId, disambiguateFnoUserId } from "./fnoUserId.ts";
import { FNO_USER_SKUS } from "./licenses.ts";
import { diagnosticAt, type SourceFile } from "./source.ts";

export function checkLegalEntity(
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

/** The user's F&O access in `envName` (and the user id written for it), or undefined when it declares none there. */
export function fnoAccess(
  scope: UserScope,
  envName: string,
): { access: DesiredFnoAccess; explicitId: string | undefined } | undefined {
  const { ctx, placed, personas, defaults: d, licenses, error, warn } = scope;
  let access: DesiredFnoAccess | undefined;
  let explicitId: string | undefined;
  const ownFno = placed.value.fno?.[envName];
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
        placed.source,
        at(placed, "fno", envName, "roles", i, "legalEntities", j),
      );
    });
  });
  addFnoRoles(roles, ownFno?.roles ?? []);
  if (roles.size > 0 || ownFno) {
    let company = ownFno?.company;
    if (company !== undefined)
      checkLegalEntity(ctx, envName, company, placed.source, at(placed, "fno", envName, "company"));
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
        checkLegalEntity(ctx, envName, company, persona.placed.source, at(persona.placed, "fno", "company"));
      } else {
        const envDefault = ctx.environments.get(envName)?.value.defaultCompany;
        company = envDefault ?? d.fno?.company;
        if (envDefault === undefined && company !== undefined && ctx.defaults)
          checkLegalEntity(ctx, envName, company, ctx.defaults.source, at(ctx.defaults, "fno", "company"));
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
    const fnoRoles: DesiredFnoRole[] = [...roles.values()]
      .map(({ role, entities }) => ({ role, legalEntities: entities ? [...entities].sort() : [] }))
      .sort((a, b) => compareLower(a.role, b.role));
    access = {
      environment: envName,
      userId: ownFno?.userId ?? "",
      company: company.toUpperCase(),
      roles: fnoRoles,
    };
    if (ownFno?.userId !== undefined) explicitId = ownFno.userId;
    if (fnoRoles.length > 0 && !licenses.some((l) => FNO_USER_SKUS.has(l.sku))) {
      warn(
        at(placed, "upn"),
        "fno-without-license",
        `has F&O roles in ${quote(envName)} but no F&O license (such as DYN365_FINANCE or DYN365_TEAM_MEMBERS); unless a group assigns one, the user cannot use them`,
      );
    }
  }
  return access && { access, explicitId };
}

export function assignFnoUserIds(
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
      if (isPreconfiguredAccount(id)) {
        ctx.diagnostics.push(
          diagnosticAt(
            placed.source,
            at(placed, "fno", envName, "userId"),
            "error",
            "preconfigured-fno-user-id",
            `F&O user id ${quote(id)} is one of Microsoft's preconfigured accounts, which must not be changed or deleted (${PRECONFIGURED_ACCOUNTS_PAGE}); d365-access never manages it: give ${user.upn} another userId`,
          ),
        );
        continue;
      }
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
      const taken = (candidate: string) => owners.has(candidate) || isPreconfiguredAccount(candidate);
      if (!taken(derived)) {
        access.userId = derived;
        owners.set(derived, { upn: user.upn, placed, explicit: false });
        continue;
      }
      const id = disambiguateFnoUserId(user.upn, taken);
      access.userId = id;
      owners.set(id, { upn: user.upn, placed, explicit: false });
      // No owner: a preconfigured account's id (admin@… derives "admin"), never ours, so another one.
      const why = owner
        ? `is already ${owner.explicit ? "set" : "derived"} for ${owner.upn} (${where(owner.placed.source, at(owner.placed, "upn"))}) in ${quote(envName)}; using ${quote(id)}. Set fno.${envName}.userId on one of them to choose`
        : `is one of Microsoft's preconfigured accounts in F&O; using ${quote(id)} for a new user in ${quote(envName)}. Set fno.${envName}.userId to choose`;
      ctx.diagnostics.push(
        diagnosticAt(
          placed.source,
          at(placed, "upn"),
          "warning",
          "fno-user-id-collision",
          `F&O user id ${quote(derived)} derived from ${user.upn} ${why}`,
        ),
      );
    }
  }
}
