/**
 * One user after personas and defaults: personas and environments resolved, licenses merged,
 * the removal setting checked, then each system's access per environment (dataverse.ts,
 * fno.ts) and the rules that span systems (F&O virtual tables need F&O roles).
 */
import { deleteAdoptedProblem, USER_DEFAULTS } from "../../providers/core/user.ts";
import { at, type Context, type Placed, type RawPersona, type RawUser, type UserScope } from "./context.ts";
import { dataverseAccess } from "./dataverse.ts";
import type { DesiredDataverseAccess, DesiredEnvironment, DesiredFnoAccess, DesiredUser } from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { checkLicenses, mergeLicenses } from "./entra.ts";
import { fnoAccess } from "./fno.ts";
import { FNO_VIRTUAL_TABLE_ROLE } from "./licenses.ts";
import { diagnosticAt, locate } from "./source.ts";

export function normalizeUser(
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
  // left as found on removal, apart from the access this tool owns (providers/core/removal.ts).
  const manage = u.manage ?? d.manage ?? USER_DEFAULTS.manage;
  const onRemove = u.onRemove ?? d.onRemove ?? USER_DEFAULTS.onRemove;
  const deleteIssue = deleteAdoptedProblem(manage, onRemove);
  if (deleteIssue) {
    error(
      u.onRemove ? at(placed, "onRemove") : at(placed, "upn"),
      "delete-adopted-user",
      `onRemove: delete${u.onRemove ? "" : " (from defaults)"} ${deleteIssue}`,
    );
  }

  // Each system's access, per environment that has it.
  const scope: UserScope = { ctx, placed, personas, defaults: d, licenses, error, warn };
  const dataverse: DesiredDataverseAccess[] = [];
  const fno: DesiredFnoAccess[] = [];
  const explicitIds = new Map<string, string>();
  for (const envName of [...envNames].sort()) {
    const env = envByName.get(envName);
    if (!env) continue;
    const dv = env.dataverse ? dataverseAccess(scope, envName) : undefined;
    if (dv) dataverse.push(dv);
    const f = env.fno ? fnoAccess(scope, envName) : undefined;
    if (f) {
      fno.push(f.access);
      if (f.explicitId !== undefined) explicitIds.set(envName, f.explicitId);
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
    enabled: u.enabled ?? d.enabled ?? USER_DEFAULTS.enabled,
    manage,
    onRemove,
    personas: personas.map((p) => p.name),
    licenses,
    managedLicenses: [], // the whole file's, set once every user is read (normalize.ts)
    dataverse,
    fno,
    source: { file: source.file, line, col },
  };
  return { user, placed, explicitIds };
}
