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
import { isSignInError } from "../../providers/core/signin.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import { type DesiredState, formatDiagnostic, formatDiagnostics, loadDesiredState } from "../model/index.ts";
import { accessByUser, desiredMatrix, privilegedWarning } from "../report/matrix.ts";
import { readPrivilegedOutsiders } from "../report/privileged.ts";
import { declareUserAccess } from "./access.ts";
import { sayChanges } from "./changes.ts";
import { programError } from "./errors.ts";
import {
  type AppliedResource,
  declaredResources,
  fileGuards,
  guardRefusal,
  guardsInForce,
  OVERRIDE_VARIABLE,
  overridden,
  summarizeChange,
} from "./guards.ts";
import {
  GUARD_FACTS_OUTPUT,
  GUARDS_OUTPUT,
  guardFactsOutput,
  handedDeployment,
  type LastDeployment,
  lastDeployment,
  lastOfDeployment,
} from "./last.ts";
import { aliasRenames, findPeople, IDENTITIES_OUTPUT, type Person } from "./people.ts";
import { preflight } from "./preflight.ts";
import { readTenant } from "./seats.ts";
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

export { setAppliedDeployment } from "./last.ts";

/**
 * Why `destroy` of the exported deployment is refused (it revokes everything the stack
 * declared), or undefined when within the guards the last deployment recorded (the defaults
 * before any). `d365-access destroy` asks before it starts: the engine runs no program then.
 */
export function destroyRefusal(deployment: unknown): string | undefined {
  const last = lastOfDeployment(deployment);
  const recorded = last.guards ?? fileGuards({});
  const from = last.guards ? "last deployment" : "default";
  const inForce = Object.fromEntries(
    Object.entries(recorded).map(([k, limit]) => [k, { limit, from }]),
  ) as Parameters<typeof guardRefusal>[1];
  return guardRefusal(summarizeChange(last.applied, []), inForce, "destroy")?.message;
}

/**
 * Stops the program when the declared change exceeds a guard in force (a rename is no
 * removal); with the override, says what it lets through.
 */
function enforceGuards(
  state: DesiredState,
  declared: AppliedResource[],
  last: LastDeployment,
  renames: ReadonlyMap<string, string>,
): void {
  const before = last.applied.map((r) => ({ ...r, upn: renames.get(r.upn) ?? r.upn }));
  const summary = summarizeChange(before, declared);
  const refusal = guardRefusal(summary, guardsInForce(state.guards, last.guards));
  if (!refusal) return;
  if (overridden()) {
    pulumi.log.warn(
      `guards overridden for this run (${OVERRIDE_VARIABLE}): ${refusal.violations.join("; ")}`,
    );
    return;
  }
  throw new pulumi.RunError(refusal.message);
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
  const last = await lastDeployment();
  const rt = stackRuntime(config, state, pulumi.getStack());
  const read = await readTenant(rt);
  const people = read.tenant
    ? findPeople(state, read.tenant.users, last.identities, userResourceName)
    : undefined;
  for (const warning of people?.warnings ?? []) pulumi.log.warn(warning);
  const declaredFacts = declaredResources(state);
  if (people) enforceGuards(state, declaredFacts, last, people.renames);
  // The same credential signs in to every system: a refused sign-in is one line, not one per system.
  const signIn = read.failures.find(isSignInError);
  if (signIn) throw signIn;
  // Every system the change writes to, checked for the whole change before any write.
  await preflight(rt, state, read, people);
  if (!people) throw new pulumi.RunError("Entra ID could not be read; nothing was changed");

  aliasRenames(people.renames);
  const { declared, objectIds } = declareUsers(state, people.byUpn);
  // What up will change on each resource, said in the preview (changes.ts).
  const handed = handedDeployment();
  await sayChanges(
    rt,
    state,
    declared,
    new Map([...people.byUpn].map(([upn, p]) => [upn, p.objectId])),
    {
      ...(handed ? { deployment: handed.deployment } : {}),
      managed: new Set(last.identities.names.values()),
      renames: people.renames,
      refresh: handed?.refresh ?? false,
    },
    userResourceName,
  );
  for (const line of await readPrivilegedOutsiders(rt, state)) pulumi.log.warn(privilegedWarning(line));
  return {
    counts: {
      users: state.users.length,
      ...Object.fromEntries(
        Object.entries(declared).map(([system, resources]) => [system, resources.length]),
      ),
    },
    usersFiles: state.files.map((f) => path.relative(root, path.resolve(root, f)) || f),
    // The next run's guards: the stricter of these and its own file's are in force (guards.ts).
    [GUARDS_OUTPUT]: fileGuards(state.guards),
    // What each resource grants, for the guards of a run the official CLI starts (last.ts);
    // secret only so that a preview prints one line for it.
    [GUARD_FACTS_OUTPUT]: pulumi.secret(guardFactsOutput(declaredFacts)),
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
