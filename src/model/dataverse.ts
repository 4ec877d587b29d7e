/**
 * A user's Dataverse access in one environment: roles from the personas and the user, the
 * business unit from the user, else the personas (which must agree), else the defaults.
 */

import { at, compareLower, type UserScope } from "./context.ts";
import type { DesiredDataverseAccess } from "./desired.ts";
import { quote } from "./diagnostics.ts";

/** The user's Dataverse access in `envName`, or undefined when it declares none there. */
export function dataverseAccess(scope: UserScope, envName: string): DesiredDataverseAccess | undefined {
  const { placed, personas, defaults: d, licenses, error, warn } = scope;
  const ownDv = placed.value.dataverse?.[envName];
  let access: DesiredDataverseAccess | undefined;
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
    access = {
      environment: envName,
      ...(businessUnit === undefined ? {} : { businessUnit }),
      roles: [...roles.values()].sort(compareLower),
    };
    if (licenses.length === 0 && roles.size > 0) {
      warn(
        at(placed, "upn"),
        "dataverse-without-license",
        `has Dataverse roles in ${quote(envName)} but no license; Dataverse only adds licensed users (unless a group assigns the license, the roles cannot be granted)`,
      );
    }
  }
  return access;
}
