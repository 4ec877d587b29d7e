/**
 * Pure input checks of `fno:User`: normalization (trimmed names, upper-case legal entities,
 * roles in a stable order) and one failure per bad property. Unknown values (preview) are kept
 * as they are and not checked. Role names resolve against the environment's catalog here too
 * (pure given the catalog; the resource reads it, so unknown roles fail in preview), and the
 * declared identity against the users F&O holds (matchUser: what we must never adopt, change or
 * reuse).
 */
import { type CheckFailure, containsUnknown } from "../core/provider.ts";
import { UPN_SHAPE, USER_DEFAULTS, upnProblem } from "../core/user.ts";
import {
  type DeclaredRole,
  type DesiredFnoUser,
  type FnoRole,
  type FnoUserInputs,
  type FnoUserRecord,
  MAX_USER_ID_LENGTH,
  PRECONFIGURED_ACCOUNTS,
  PRECONFIGURED_ACCOUNTS_PAGE,
  SYSTEM_USER_ROLE,
} from "./model.ts";

const COMPANY = /^[A-Za-z0-9]{1,4}$/; // DataAreaId: up to 4 characters

function normalize(news: Record<string, unknown>): FnoUserInputs {
  const str = (v: unknown): string => (typeof v === "string" ? v.trim() : (v as string));
  const roles = Array.isArray(news.roles)
    ? (news.roles as { role?: unknown; legalEntities?: unknown }[]).map((r) => ({
        role: str(r?.role),
        legalEntities: Array.isArray(r?.legalEntities)
          ? containsUnknown(r.legalEntities)
            ? (r.legalEntities as string[])
            : normalizeLegalEntities(r.legalEntities as string[])
          : [],
      }))
    : (news.roles as DeclaredRole[]);
  if (Array.isArray(roles) && !containsUnknown(roles)) {
    roles.sort((a, b) =>
      a.role.toLowerCase() < b.role.toLowerCase() ? -1 : a.role.toLowerCase() > b.role.toLowerCase() ? 1 : 0,
    );
  }
  const out: FnoUserInputs = {
    upn: str(news.upn),
    environment: str(news.environment),
    userId: str(news.userId),
    userName: str(news.userName),
    company:
      typeof news.company === "string" && !containsUnknown(news.company)
        ? news.company.trim().toUpperCase()
        : (news.company as string),
    enabled: (news.enabled ?? USER_DEFAULTS.enabled) as boolean,
    roles,
  };
  if (news.objectId !== undefined) out.objectId = str(news.objectId);
  if (news.onRemove !== undefined) out.onRemove = news.onRemove as "disable" | "delete";
  if (news.provenance === "created") out.provenance = "created";
  return out;
}

/** Why F&O cannot take this UPN as a user: a guest's NetworkDomain must name its home tenant, which we do not know. */
export function guestProblem(upn: string): string | undefined {
  return upn.toUpperCase().includes("#EXT#")
    ? "guest (#EXT#) users are not supported for F&O: their provider must name their home tenant"
    : undefined;
}

function validate(inputs: FnoUserInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const known = (v: unknown) => !containsUnknown(v);
  const need = (property: string, ok: boolean, reason: string) => {
    if (!ok) failures.push({ property, reason });
  };
  if (known(inputs.upn)) {
    need(
      "upn",
      typeof inputs.upn === "string" && upnProblem(inputs.upn) === undefined,
      `"${inputs.upn}" is not a valid user principal name: ${typeof inputs.upn === "string" ? upnProblem(inputs.upn) : UPN_SHAPE}`,
    );
    const guest = typeof inputs.upn === "string" ? guestProblem(inputs.upn) : undefined;
    need("upn", guest === undefined, guest ?? "");
  }
  if (known(inputs.environment))
    need("environment", typeof inputs.environment === "string" && inputs.environment !== "", "is required");
  if (known(inputs.userId)) {
    need(
      "userId",
      typeof inputs.userId === "string" &&
        inputs.userId.length >= 1 &&
        inputs.userId.length <= MAX_USER_ID_LENGTH,
      `must be 1 to ${MAX_USER_ID_LENGTH} characters (F&O stores UserID in 20)`,
    );
  }
  if (known(inputs.userName))
    need("userName", typeof inputs.userName === "string" && inputs.userName !== "", "is required");
  if (known(inputs.company)) {
    need(
      "company",
      typeof inputs.company === "string" && COMPANY.test(inputs.company),
      `"${inputs.company}" is not a legal entity code (1–4 letters or digits)`,
    );
  }
  if (known(inputs.enabled)) need("enabled", typeof inputs.enabled === "boolean", "must be true or false");
  if (inputs.onRemove !== undefined && known(inputs.onRemove)) {
    need(
      "onRemove",
      inputs.onRemove === "disable" || inputs.onRemove === "delete",
      'must be "disable" or "delete"',
    );
  }
  if (known(inputs.roles)) {
    if (!Array.isArray(inputs.roles)) {
      failures.push({ property: "roles", reason: "must be a list of {role, legalEntities}" });
    } else {
      inputs.roles.forEach((r, i) => {
        need(`roles[${i}].role`, typeof r.role === "string" && r.role !== "", "is required");
        r.legalEntities.forEach((le, j) => {
          need(`roles[${i}].legalEntities[${j}]`, COMPANY.test(le), `"${le}" is not a legal entity code`);
        });
      });
    }
  }
  return failures;
}

/** Normalizes the inputs and lists what is wrong with them. */
export function checkInputs(news: Record<string, unknown>): {
  inputs: FnoUserInputs;
  failures: CheckFailure[];
} {
  const inputs = normalize(news);
  return { inputs, failures: validate(inputs) };
}

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Upper-cased, de-duplicated, sorted legal-entity codes. */
export function normalizeLegalEntities(codes: readonly string[]): string[] {
  return [...new Set(codes.map((c) => c.trim().toUpperCase()).filter((c) => c !== ""))].sort(byText);
}

/** A declared role resolved against `SecurityRoles`. */
export interface ResolvedRole {
  roleId: string;
  roleName: string;
  legalEntities: string[];
}

/**
 * Resolves declared roles by AOT identifier first, then by label, both case-insensitively.
 * `SYSTEMUSER` is dropped (implicit). Returns problems for unknown or ambiguous names, naming the
 * candidates so the fix is obvious. The result is sorted by identifier. Declaring one role twice
 * is an error: merging the two restrictions would silently widen or narrow one of them.
 */
export function resolveRoles(
  declared: readonly DeclaredRole[],
  catalog: readonly FnoRole[],
): { roles: ResolvedRole[]; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map<string, ResolvedRole>();
  for (const d of declared) {
    const wanted = d.role.trim();
    let match = catalog.find((r) => sameText(r.identifier, wanted));
    if (!match) {
      const labelled = catalog.filter((r) => sameText(r.name, wanted));
      if (labelled.length > 1) {
        const ids = labelled.map((r) => r.identifier).sort(byText);
        problems.push(
          `F&O role "${wanted}" is ambiguous: the label matches ${ids.length} roles (${ids.join(", ")}); declare the AOT name instead`,
        );
        continue;
      }
      match = labelled[0];
    }
    if (!match) {
      const hint = suggestRoles(wanted, catalog);
      problems.push(
        `F&O role "${wanted}" is unknown in SecurityRoles${hint.length > 0 ? `; did you mean ${hint.join(", ")}?` : ""}`,
      );
      continue;
    }
    if (isSystemUserRole(match.identifier)) {
      if (d.legalEntities.length > 0) {
        problems.push(`F&O role ${SYSTEM_USER_ROLE} is automatic and unrestricted; remove its legalEntities`);
      }
      continue;
    }
    const key = match.identifier.toLowerCase();
    if (byId.has(key)) {
      problems.push(
        `F&O role "${match.identifier}" is declared twice; declare it once with all its legal entities`,
      );
      continue;
    }
    byId.set(key, {
      roleId: match.identifier,
      roleName: match.name,
      legalEntities: normalizeLegalEntities(d.legalEntities),
    });
  }
  const roles = [...byId.values()].sort((a, b) => byText(a.roleId, b.roleId));
  return { roles, problems };
}

/** Up to three roles whose identifier or label contains the wanted text (or vice versa). */
function suggestRoles(wanted: string, catalog: readonly FnoRole[]): string[] {
  const w = wanted.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (w.length < 3) return [];
  return catalog
    .filter((r) => {
      const id = r.identifier.toLowerCase().replace(/[^a-z0-9]/g, "");
      const name = r.name.toLowerCase().replace(/[^a-z0-9]/g, "");
      return id.includes(w) || name.includes(w) || (id.length >= 3 && w.includes(id));
    })
    .map((r) => `${r.identifier} ("${r.name}")`)
    .sort(byText)
    .slice(0, 3);
}

/** True for the automatic `SYSTEMUSER` role (case-insensitive). */
export function isSystemUserRole(roleId: string): boolean {
  return sameText(roleId, SYSTEM_USER_ROLE);
}

/** True when `userId` is one of Microsoft's preconfigured accounts (case-insensitive). */
export function isPreconfiguredAccount(userId: string): boolean {
  return PRECONFIGURED_ACCOUNTS.some((u) => sameText(u, userId));
}

/** Users whose Alias equals `upn`, case-insensitively (UPNs are case-insensitive in Entra). */
export function findUsersByAlias(users: readonly FnoUserRecord[], upn: string): FnoUserRecord[] {
  return users.filter((u) => sameText(u.alias, upn));
}

/** What F&O users d365-access must never change, besides the preconfigured accounts. */
export interface Protected {
  /** The UserID of the F&O user our app acts as (SysAADClients), when known. */
  appUserId?: string | undefined;
}

/**
 * Why d365-access must not change the F&O user `userId`, or undefined: a preconfigured account,
 * or the user our own app acts as (changing its roles or disabling it locks the app out).
 */
export function protectedProblem(userId: string, guard: Protected): string | undefined {
  if (isPreconfiguredAccount(userId)) {
    return `F&O user ${userId} is one of Microsoft's preconfigured accounts (${PRECONFIGURED_ACCOUNTS_PAGE}); d365-access never changes it`;
  }
  if (guard.appUserId !== undefined && sameText(guard.appUserId, userId)) {
    return `F&O user ${userId} is the user d365-access's own app acts as (System administration > Setup > Microsoft Entra applications); changing its roles or disabling it would lock d365-access out, so it is never managed: remove it from users.yaml`;
  }
  return undefined;
}

/**
 * Identifies the record a declared user maps to. An existing resource keeps the record it
 * manages (`managed`, its UserID) even when the UPN changed: a renamed person is the same F&O
 * user, whose Alias then follows the new UPN. Otherwise the record whose Alias equals the UPN is
 * adopted, or none is found (create with the declared UserID). Refuses, with the reason, anything
 * we must not touch: a preconfigured account or our app's own user, two records with the same
 * Alias, a new Alias already held by another record, or a declared UserID already held by another
 * identity (UserID is the table's primary key and cannot be reused).
 */
export function matchUser(
  desired: Pick<DesiredFnoUser, "upn" | "userId">,
  users: readonly FnoUserRecord[],
  options: Protected & { managed?: string | undefined } = {},
): { record?: FnoUserRecord; problems: string[] } {
  const problems: string[] = [];
  const byAlias = findUsersByAlias(users, desired.upn);
  const guard = (record: FnoUserRecord) => {
    const problem = protectedProblem(record.userId, options);
    return problem ? { problems: [`${problem} (Alias ${record.alias || "empty"})`] } : { record, problems };
  };
  const managed = options.managed === undefined ? undefined : findUserById(users, options.managed);
  if (managed) {
    const others = byAlias.filter((u) => !sameText(u.userId, managed.userId));
    if (others.length > 0) {
      const ids = others.map((u) => u.userId).sort(byText);
      problems.push(
        `F&O user ${managed.userId} cannot take Alias ${desired.upn}: ${ids.join(", ")} already ${ids.length > 1 ? "have" : "has"} it; resolve the duplicate in F&O, then re-run`,
      );
      return { problems };
    }
    return guard(managed);
  }
  if (byAlias.length > 1) {
    const ids = byAlias.map((u) => u.userId).sort(byText);
    problems.push(
      `F&O has ${ids.length} users with Alias ${desired.upn} (${ids.join(", ")}); remove the duplicates in F&O, then re-run`,
    );
    return { problems };
  }
  const record = byAlias[0];
  if (record) return guard(record);
  if (desired.userId.length === 0 || desired.userId.length > MAX_USER_ID_LENGTH) {
    problems.push(`F&O userId "${desired.userId}" must be 1 to ${MAX_USER_ID_LENGTH} characters`);
  }
  const reserved = protectedProblem(desired.userId, options);
  if (reserved) {
    problems.push(`${reserved}: set another fno userId for ${desired.upn} in users.yaml`);
    return { problems };
  }
  const taken = findUserById(users, desired.userId);
  if (taken) {
    const who = taken.alias === "" ? "a user without Alias" : taken.alias;
    problems.push(
      `F&O UserID ${taken.userId} already belongs to ${who}, not ${desired.upn}; set another fno userId for ${desired.upn} in users.yaml`,
    );
  }
  return { problems };
}

/**
 * Why the declared user must not be managed at all, before any write (a check in preview): the
 * record it would adopt by Alias, or the UserID it would create, is a preconfigured account or
 * our app's own user. Unlike {@link matchUser} this needs no knowledge of the resource's state.
 */
export function protectedIdentityProblems(
  desired: Pick<DesiredFnoUser, "upn" | "userId">,
  users: readonly FnoUserRecord[],
  guard: Protected,
): string[] {
  const byAlias = findUsersByAlias(users, desired.upn);
  const ids = byAlias.length > 0 ? byAlias.map((u) => u.userId) : [desired.userId];
  return ids.flatMap((id) => {
    const problem = protectedProblem(id, guard);
    return problem ? [`${desired.upn}: ${problem}`] : [];
  });
}

/** The user with this UserID (F&O keys compare case-insensitively: SQL Server collation). */
export function findUserById(users: readonly FnoUserRecord[], userId: string): FnoUserRecord | undefined {
  return users.find((u) => sameText(u.userId, userId));
}
