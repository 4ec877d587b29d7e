/**
 * The Pulumi program: users.yaml → one resource per user per system (per environment for the
 * per-environment systems), each system declaring its own (providers/registry.ts):
 *
 *   entra:User        <upn>                  licenses belong to it
 *   dataverse:User    <upn>/<environment>    business unit and roles; after the Entra user
 *   fno:User          <upn>/<environment>    UserID, company, roles with legal entities
 *
 * It stops before any resource is declared (so before any API write) when users.yaml has
 * errors, when users.yaml names an environment the stack does not map, when a declared person
 * cannot be found as users.yaml says (people.ts), or when the whole change needs more license
 * seats than the tenant has free.
 *
 * A person is their Entra object id (people.ts): a user renamed in Entra, with users.yaml
 * following, is declared under the new name with the old one as alias, so every system
 * updates it in place; the stack output `identities` records object id → resource name for the
 * next run.
 */
import path from "node:path";
import process from "node:process";
import * as pulumi from "@pulumi/pulumi";
import { SYSTEMS } from "../../providers/registry.ts";
import { type DesiredState, formatDiagnostic, formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { accessByUser, desiredMatrix } from "../report/matrix.ts";
import { declareUserAccess } from "./access.ts";
import { programError } from "./errors.ts";
import { appliedResources, declaredResources, guardViolations, summarizeChange } from "./guards.ts";
import {
  aliasRenames,
  findPeople,
  IDENTITIES_OUTPUT,
  identitiesOfDeployment,
  type Person,
  readIdentities,
} from "./people.ts";
import { checkSeatsForChange, readTenant } from "./seats.ts";
import { stackRuntime } from "./settings.ts";

/** The files the program reads: config `d365-access:usersFiles` (a list) or `users.yaml`. */
function usersFiles(config: pulumi.Config): string[] {
  return config.getObject<string[]>("usersFiles") ?? [config.get("usersFile") ?? "users.yaml"];
}

/** Loads users.yaml; on errors, stops the program with the validator's messages. */
export function loadOrStop(files: string[], root: string): DesiredState {
  const { state, diagnostics } = loadDesiredState(files, { cwd: root });
  if (!state) {
    throw new pulumi.RunError(
      `users.yaml has errors; nothing was changed:\n${formatDiagnostics(diagnostics, "text").trimEnd()}`,
    );
  }
  for (const warning of state.warnings) pulumi.log.warn(formatDiagnostic(warning));
  return state;
}

/** Resource name of a user: its UPN in lower case (UPNs compare case-insensitively). */
export function userResourceName(upn: string): string {
  return upn.toLowerCase();
}

/**
 * Declares the resources of the desired state, person by person with the building block every
 * program uses (access.ts); returns them per system name.
 *
 * @param people What the program found of each person (lower-cased UPN → object id and
 *   provenance). The other systems' resources get a known object id as a plain value, so a
 *   preview that updates an Entra user (say, a license) does not show its Dataverse and F&O
 *   resources as changing too, which an output of an updating resource (unknown during preview)
 *   would. Users still to be created get the identity resource's output.
 */
export function declareUsers(
  state: DesiredState,
  people: ReadonlyMap<string, Person> = new Map(),
): {
  declared: Record<string, pulumi.CustomResource[]>;
  objectIds: Map<string, pulumi.Input<string>>;
} {
  const declared: Record<string, pulumi.CustomResource[]> = Object.fromEntries(
    SYSTEMS.map((s) => [s.name, []]),
  );
  const objectIds = new Map<string, pulumi.Input<string>>();
  for (const user of state.users) {
    const person = people.get(user.upn.toLowerCase()) ?? {};
    const name = userResourceName(user.upn);
    const access = declareUserAccess(user, {
      name,
      objectId: person.objectId,
      ...(person.provenance ? { provenance: person.provenance } : {}),
    });
    for (const [system, resources] of Object.entries(access.declared)) declared[system]?.push(...resources);
    if (access.objectId !== undefined) objectIds.set(name, access.objectId);
  }
  return { declared, objectIds };
}

/** The previous deployment of the stack, handed over by `d365-access` before it runs the program. */
let applied: { deployment: unknown } | undefined;

/** Called by the d365-access CLI with `stack.exportStack().deployment`, so guards can be checked. */
export function setAppliedDeployment(deployment: unknown): void {
  applied = { deployment };
}

/** Stops the program when the declared change exceeds a guard of users.yaml (a rename is no removal). */
function enforceGuards(state: DesiredState, renames: ReadonlyMap<string, string>): void {
  if (Object.keys(state.guards).length === 0) return;
  if (!applied) {
    pulumi.log.warn(
      "users.yaml has guards; they are enforced when run through d365-access, which reads the stack state first",
    );
    return;
  }
  const before = appliedResources(applied.deployment).map((r) => ({
    ...r,
    upn: renames.get(r.upn) ?? r.upn,
  }));
  const summary = summarizeChange(before, declaredResources(state));
  const violations = guardViolations(summary, state.guards);
  if (violations.length) {
    throw new pulumi.RunError(
      `the change exceeds the guards of users.yaml; nothing was changed:\n  ${violations.join("\n  ")}\n` +
        "  If the change is intended, raise the guard in users.yaml in the same pull request.",
    );
  }
}

/**
 * The program run by `d365-access` (Automation API) and by the official CLI (main.ts). A failure
 * before any resource is declared is one line (errors.ts).
 */
export async function program(): Promise<Record<string, unknown>> {
  try {
    return await declareProgram();
  } catch (e) {
    throw programError(e, pulumi.getStack());
  }
}

async function declareProgram(): Promise<Record<string, unknown>> {
  const root = process.env.D365_ACCESS_ROOT ?? process.cwd();
  const config = new pulumi.Config("d365-access");
  const state = loadOrStop(usersFiles(config), root);
  const tenant = await readTenant(stackRuntime(config, state, pulumi.getStack()));
  const last = applied ? identitiesOfDeployment(applied.deployment) : await readIdentities();
  const people = findPeople(state, tenant.users, last, userResourceName);
  if (people.problems.length > 0)
    throw new pulumi.RunError(
      `users.yaml does not match the people in Entra; nothing was changed:\n  ${people.problems.join("\n  ")}`,
    );
  for (const warning of people.warnings) pulumi.log.warn(warning);
  enforceGuards(state, people.renames);
  checkSeatsForChange(state, tenant);

  aliasRenames(people.renames);
  const { declared, objectIds } = declareUsers(state, people.byUpn);
  return {
    counts: {
      users: state.users.length,
      ...Object.fromEntries(
        Object.entries(declared).map(([system, resources]) => [system, resources.length]),
      ),
    },
    usersFiles: state.files.map((f) => path.relative(root, path.resolve(root, f)) || f),
    // Object id → resource name: how the next run recognizes a renamed person (people.ts).
    // Marked secret only so that a preview prints one line for it, not the whole map, each
    // time someone is added or renamed; object ids are no secret.
    [IDENTITIES_OUTPUT]: pulumi.secret(
      pulumi
        .all([...objectIds].map(([name, id]) => pulumi.all([id, name])))
        .apply((pairs) => Object.fromEntries(pairs.filter(([id]) => typeof id === "string" && id !== ""))),
    ),
    // The access report, one output per user: a preview then lists only the users whose
    // access changes, each with the system columns of its row (`d365-access report` prints the
    // whole matrix).
    ...Object.fromEntries(
      Object.entries(accessByUser(desiredMatrix(state))).map(([upn, cells]) => [
        `access:${upn.toLowerCase()}`,
        Object.fromEntries(Object.entries(cells).map(([column, entries]) => [column, entries.join("; ")])),
      ]),
    ),
  };
}
