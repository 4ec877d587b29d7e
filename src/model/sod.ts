/**
 * Segregation of duties: a rule lists roles that no user may hold together in one environment
 * (where their legal entities overlap, for F&O).
 */

import { at, type Context, type Placed, type RawUser } from "./context.ts";
import type { DesiredUser, SodRule } from "./desired.ts";
import { quote } from "./diagnostics.ts";
import { diagnosticAt } from "./source.ts";

export function checkSod(ctx: Context, user: DesiredUser, placed: Placed<RawUser>, rules: SodRule[]): void {
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
