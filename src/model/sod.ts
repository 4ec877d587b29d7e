/**
 * Segregation of duties: a rule lists roles that no user may hold together in one environment
 * (where their legal entities overlap, for F&O).
 *
 * Two passes. `validate` compares the names as written (case-insensitively), with no tenant.
 * The pre-flight (src/program/preflight.ts) compares them again after resolving every name
 * through the tenant's catalogue (F&O: AOT identifier or label → identifier; Dataverse: the role
 * within the user's business unit), so writing a label instead of the identifier does not
 * sidestep a rule; {@link sodConflicts} serves both.
 */

import { at, type Context, type Placed, type RawUser } from "./context.ts";
import type { DesiredUser, SodRule } from "./desired.ts";
import { quote } from "./diagnostics.ts";
import { diagnosticAt } from "./source.ts";

/** A role a user holds in one environment, with its legal entities (empty = all). */
export interface HeldRole {
  role: string;
  entities: string[];
}

/** The roles a user holds in each environment of the rule's system. */
export function heldRoles(
  system: SodRule["system"],
  user: Pick<DesiredUser, "fno" | "dataverse">,
): { environment: string; held: HeldRole[] }[] {
  return system === "fno"
    ? user.fno.map((f) => ({
        environment: f.environment,
        held: f.roles.map((r) => ({ role: r.role, entities: r.legalEntities })),
      }))
    : user.dataverse.map((d) => ({
        environment: d.environment,
        held: d.roles.map((r) => ({ role: r, entities: [] })),
      }));
}

/**
 * The pairs of `held` roles that `ruleRoles` forbids together, as `"A" and "B" (in USMF)`:
 * roles compare by `key` (undefined = not a role the comparison knows), and two F&O roles
 * conflict only where their legal entities overlap.
 */
export function sodConflicts(
  ruleRoles: readonly string[],
  held: readonly HeldRole[],
  key: (role: string) => string | undefined = (r) => r.trim().toLowerCase(),
): string[] {
  const wanted = new Set(ruleRoles.map(key).filter((k) => k !== undefined));
  const matching = held.flatMap((h) => {
    const k = key(h.role);
    return k !== undefined && wanted.has(k) ? [{ ...h, key: k }] : [];
  });
  const pairs: string[] = [];
  for (let i = 0; i < matching.length; i++) {
    for (let j = i + 1; j < matching.length; j++) {
      const a = matching[i];
      const b = matching[j];
      if (!a || !b || a.key === b.key) continue;
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
  return pairs;
}

/** The rule's place, for messages. */
export const ruleAt = (rule: SodRule) => `${rule.source.file}:${rule.source.line}:${rule.source.col}`;

/** The validation pass: names as written. */
export function checkSod(ctx: Context, user: DesiredUser, placed: Placed<RawUser>, rules: SodRule[]): void {
  for (const rule of rules) {
    for (const { environment, held } of heldRoles(rule.system, user)) {
      const pairs = sodConflicts(rule.roles, held);
      if (pairs.length === 0) continue;
      ctx.diagnostics.push(
        diagnosticAt(
          placed.source,
          at(placed, "upn"),
          rule.severity,
          "sod-conflict",
          `segregation of duties rule ${quote(rule.name)} (${ruleAt(rule)}) forbids holding ${pairs.join("; ")} in ${quote(environment)}`,
        ),
      );
    }
  }
}
