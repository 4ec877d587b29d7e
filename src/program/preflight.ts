/**
 * One pre-flight before any write (issue 12 item 6, issue 16 item 3): every system the change
 * writes to is checked for the whole change, with the bulk reads the run needs anyway, and
 * EVERY problem is reported at once, each at its users.yaml file:line:col where one applies.
 * It runs in preview too, so CI shows the problems on the pull request; nothing is written
 * when any is found.
 *
 * - Entra ID: the token and the Graph permissions of the bulk reads (each refusal names the
 *   permission), the people (people.ts: users to adopt that do not exist, renames), the seats
 *   of the whole change (seats.ts).
 * - Each other system declares its own check in its registry entry (`preflight`, per
 *   environment): tokens and registration, privileges, names in its catalogues, UPNs it
 *   accepts. This module names no system.
 * - Segregation of duties on canonical roles: every rule's roles and every user's roles
 *   resolved through the catalogue the system's check read (so a label cannot sidestep a
 *   rule), and a rule naming a role the tenant does not have is an error at its line.
 *
 * Not checked here (no read can tell, and Microsoft says clients must not read its tokens):
 * whether a Graph app that may read users may also write them (User.Read.All instead of
 * User.ReadWrite.All); the first write then fails (docs/real-tenant.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { errorLine } from "../../providers/core/provider.ts";
import type { Runtime } from "../../providers/core/runtime.ts";
import type { Position, PreflightProblem, PreflightResult } from "../../providers/core/system.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import type { DesiredState, DesiredUser, SodRule } from "../model/index.ts";
import { heldRoles, ruleAt, sodConflicts } from "../model/sod.ts";
import type { People } from "./people.ts";
import { seatShortages, type TenantSnapshot } from "./seats.ts";

const place = (p: Position) => `${p.file}:${p.line}:${p.col}`;

/** One problem as a line: `file:line:col: message (also written at …)`. */
export function problemLine(problem: PreflightProblem): string {
  const [first, ...more] = problem.at ?? [];
  if (!first) return problem.message;
  const also = more.length > 0 ? ` (also written at ${more.map(place).join(", ")})` : "";
  return `${place(first)}: ${problem.message}${also}`;
}

/** What the program read of Entra before the pre-flight, and what went wrong reading it. */
export interface TenantRead {
  tenant?: TenantSnapshot;
  failures: unknown[];
}

/** The segregation-of-duties findings of one system's environment, on canonical roles. */
export function canonicalSod(
  rules: readonly SodRule[],
  users: readonly DesiredUser[],
  environment: string,
  label: string,
  roleKey: NonNullable<PreflightResult<DesiredUser>["roleKey"]>,
): { problems: PreflightProblem[]; warnings: string[] } {
  const problems: PreflightProblem[] = [];
  const warnings: string[] = [];
  for (const rule of rules) {
    rule.roles.forEach((role, j) => {
      if (roleKey(role) !== undefined) return;
      problems.push({
        message: `segregation of duties rule "${rule.name}" names role "${role}", which ${label} does not have`,
        at: [rule.roleSources?.[j] ?? rule.source],
      });
    });
    for (const user of users) {
      for (const scope of heldRoles(rule.system, user)) {
        if (scope.environment !== environment) continue;
        const pairs = sodConflicts(rule.roles, scope.held, (r) => roleKey(r, user));
        // Conflicts written the same way were found by validation already.
        if (pairs.length === 0 || sodConflicts(rule.roles, scope.held).length > 0) continue;
        const message =
          `segregation of duties rule "${rule.name}" (${ruleAt(rule)}) forbids holding ${pairs.join("; ")} ` +
          `in "${environment}": ${label} resolves them to the rule's roles`;
        if (rule.severity === "error") problems.push({ message, at: [user.source] });
        else warnings.push(`${place(user.source)}: ${message}`);
      }
    }
  }
  return { problems, warnings };
}

/**
 * Runs every check and stops the program, listing all problems, when any fails. `people` is
 * undefined when Entra could not be read.
 */
export async function preflight(
  rt: Runtime,
  state: DesiredState,
  read: TenantRead,
  people: People | undefined,
): Promise<void> {
  const lines: string[] = [];
  for (const failure of read.failures) lines.push(`Entra ID: ${errorLine(failure)}`);
  lines.push(...(people?.problems ?? []));
  if (read.tenant) lines.push(...seatShortages(state, read.tenant));

  const objectIds = new Map<string, string>();
  for (const [upn, person] of people?.byUpn ?? []) if (person.objectId) objectIds.set(upn, person.objectId);
  const input = {
    users: state.users,
    objectIds,
    where: (kind: string, name: string, environment?: string) =>
      state.names?.where(kind as never, name, environment) ?? [],
    at: (user: DesiredUser) => user.source,
  };
  const checks = SYSTEMS.flatMap((system) => {
    if (!system.preflight) return [];
    const environments =
      system.scope === "environment"
        ? [...new Set(state.users.flatMap((u) => system.environments(u)))].sort()
        : [undefined];
    return environments.map(async (environment) => {
      const users =
        environment === undefined
          ? state.users
          : state.users.filter((u) => system.environments(u).includes(environment));
      const check = system.preflight as (
        rt: Runtime,
        input: unknown,
        environment?: string,
      ) => Promise<PreflightResult<DesiredUser>>;
      try {
        return { system, environment, result: await check(rt, { ...input, users }, environment) };
      } catch (e) {
        const where = environment ? ` environment "${environment}"` : "";
        return {
          system,
          environment,
          result: { problems: [{ message: `${system.label}${where}: ${errorLine(e)}` }] },
        };
      }
    });
  });
  for (const { system, environment, result } of await Promise.all(checks)) {
    lines.push(...result.problems.map(problemLine));
    if (!result.roleKey || environment === undefined) continue;
    const rules = state.rules.sod.filter((r) => r.system === system.name);
    const users = state.users.filter((u) => system.environments(u).includes(environment));
    const sod = canonicalSod(
      rules,
      users,
      environment,
      `${system.label} environment "${environment}"`,
      result.roleKey,
    );
    lines.push(...sod.problems.map(problemLine));
    for (const warning of sod.warnings) pulumi.log.warn(warning);
  }
  const unique = [...new Set(lines)];
  if (unique.length > 0)
    throw new pulumi.RunError(
      `the pre-flight found ${unique.length} problem(s); nothing was changed:\n  ${unique.join("\n  ")}`,
    );
}
