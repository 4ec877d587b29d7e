/**
 * The people users.yaml declares, as the program finds them before declaring anything
 * (issue 11 items 2 and 4): a person is their Entra object id, found in the tenant's bulk read
 * by UPN, and the last deployment says under which resource name each object id was managed.
 *
 * - **Renames.** When the object id of a declared user was managed under another name (the
 *   person was renamed in Entra and users.yaml follows), every resource of that user is declared
 *   with `aliases: [{ name: <old name> }]`, so the engine diffs the old state against the new
 *   inputs and the systems update in place (https://www.pulumi.com/docs/iac/concepts/options/aliases/).
 * - **Provenance.** A user found in the tenant whose create the last deployment still lists as
 *   pending (a run killed between Graph's answer and the state write), or that a killed
 *   skip-checkpoints run created (src/engine/recovery.ts), is passed on as created by us, not
 *   adopted, as is one the deployment records as created; any other user found is adopted. The decision travels as a resource input,
 *   so a pending operation always says what its run intended.
 * - **What stops the run before any write:** a declared UPN that Entra no longer has because the
 *   person it named was renamed (users.yaml must follow), a user to adopt that does not exist,
 *   and a rename that would collide with another declared user under the old name.
 * - **What is reported:** properties that on-premises AD masters for a synced user and that
 *   differ from users.yaml (they are never patched).
 *
 * The last deployment reaches the program two ways: `d365-access` hands over the exported
 * deployment (resources and pending operations); under the official CLI the program reads the
 * stack's own last `identities` output through a StackReference (no pending operations there:
 * a user created by a killed run is then adopted, the safe direction: it is never deleted).
 * (last.ts reads both). Pure; tested in test/program/people.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { InFlight } from "../../providers/core/inflight.ts";
import type { Provenance } from "../../providers/core/removal.ts";
import { driftLine, planUserChanges, type UserSnapshot } from "../../providers/entra/index.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import { inFlightOf } from "../engine/recovery.ts";
import type { DesiredState, DesiredUser } from "../model/index.ts";

/** The stack output that records, for the next run, which object id is managed under which name. */
export const IDENTITIES_OUTPUT = "identities";

/** What the last deployment says about the people it managed. */
export interface LastIdentities {
  /** Lower-cased object id → the resource name it was managed under. */
  names: Map<string, string>;
  /** Lower-cased object ids whose identity the deployment records as created by d365-access. */
  created?: Set<string>;
  /** Names of identity resources whose create (without a known object id) is still pending. */
  pendingCreates: Set<string>;
  /**
   * When a killed skip-checkpoints run started (its in-flight record, src/engine/recovery.ts):
   * a user to create that Entra shows as created since then, managed by no one, is ours.
   */
  since?: string;
}

/** No previous deployment. */
export const NO_IDENTITIES: LastIdentities = { names: new Map(), pendingCreates: new Set() };

/** The identity system: the first of the registry (it declares the object id the others follow). */
const identityType = () => SYSTEMS[0].resourceType;

const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** Reads the identities of an exported deployment (`stack.exportStack().deployment`). */
export function identitiesOfDeployment(deployment: unknown): LastIdentities {
  const d = (deployment ?? {}) as {
    resources?: { urn?: string; type?: string; outputs?: Record<string, unknown> }[];
    pending_operations?: {
      type?: string;
      resource?: { urn?: string; type?: string; inputs?: Record<string, unknown> };
    }[];
  };
  const names = new Map<string, string>();
  const created = new Set<string>();
  for (const r of d.resources ?? []) {
    const id = r.outputs?.objectId;
    if (r.type === identityType() && r.urn && typeof id === "string") {
      names.set(id.toLowerCase(), nameOfUrn(r.urn));
      if (r.outputs?.adopted === false) created.add(id.toLowerCase());
    }
  }
  const pendingCreates = new Set<string>();
  for (const op of d.pending_operations ?? []) {
    const r = op.resource;
    if (op.type === "creating" && r?.type === identityType() && r.urn && r.inputs?.objectId === undefined)
      pendingCreates.add(nameOfUrn(r.urn));
  }
  // What `recover` kept of pending operations, or what a killed skip-checkpoints run recorded.
  const record = inFlightOf(deployment);
  for (const name of record?.creates ?? []) pendingCreates.add(name);
  return {
    names,
    pendingCreates,
    ...(created.size > 0 ? { created } : {}),
    ...(record?.since ? { since: record.since } : {}),
  };
}

/** Reads the `identities` output of the stack's last update (`{objectId: resourceName}`). */
export function identitiesOfOutput(value: unknown, inFlight?: unknown): LastIdentities {
  const names = new Map<string, string>();
  if (value && typeof value === "object" && !Array.isArray(value))
    for (const [id, name] of Object.entries(value))
      if (typeof name === "string") names.set(id.toLowerCase(), name);
  const record = (inFlight && typeof inFlight === "object" ? inFlight : {}) as InFlight;
  return {
    names,
    pendingCreates: new Set(record.creates ?? []),
    ...(record.since ? { since: record.since } : {}),
  };
}

/** A user of the tenant as the program's bulk read found it. */
export type FoundUser = UserSnapshot & { objectId: string; createdDateTime?: string };

/** What the program knows about one declared person. */
export interface Person {
  /** The Entra object id, when the person exists. */
  objectId?: string;
  /** Who made that object (only when `objectId` is known). */
  provenance?: Provenance;
  /** The resource name the person was managed under before a rename. */
  previousName?: string;
}

/** The people of users.yaml, and what stops or is reported before any resource is declared. */
export interface People {
  /** Lower-cased UPN → what is known. */
  byUpn: Map<string, Person>;
  /** Old resource name → new one, for every rename. */
  renames: Map<string, string>;
  /** Problems that stop the program (nothing is written). */
  problems: string[];
  /** Lines to report (never stop). */
  warnings: string[];
}

const where = (u: DesiredUser) => `${u.source.file}:${u.source.line}:${u.source.col}`;

/**
 * Finds each declared person (pure). `name` is the resource-name rule of the program;
 * `tenant` the bulk read by lower-cased UPN.
 */
export function findPeople(
  state: DesiredState,
  tenant: Map<string, FoundUser>,
  last: LastIdentities,
  name: (upn: string) => string,
): People {
  const byId = new Map([...tenant.values()].map((u) => [u.objectId.toLowerCase(), u]));
  const managedUnder = new Map([...last.names].map(([id, n]) => [n, id]));
  const declared = new Set(state.users.map((u) => name(u.upn)));
  const people: People = { byUpn: new Map(), renames: new Map(), problems: [], warnings: [] };
  for (const user of state.users) {
    const key = user.upn.toLowerCase();
    const resource = name(user.upn);
    const found = tenant.get(key);
    if (!found) {
      const before = managedUnder.get(resource);
      const now = before ? byId.get(before) : undefined;
      if (now)
        people.problems.push(
          `${where(user)}: Entra user ${user.upn} was renamed to ${now.upn} (object id ${now.objectId}): ` +
            "write the new UPN in users.yaml; the person keeps their access (an update, not a replacement)",
        );
      else if (user.manage === "adopt")
        people.problems.push(
          `${where(user)}: Entra user ${user.upn} does not exist: fix the UPN, or set manage: create to create it`,
        );
      people.byUpn.set(key, {});
      continue;
    }
    const id = found.objectId.toLowerCase();
    const previous = last.names.get(id);
    const person: Person = { objectId: found.objectId, provenance: "adopted" };
    if (previous !== undefined && previous !== resource) {
      if (declared.has(previous))
        people.problems.push(
          `${where(user)}: Entra user ${user.upn} (object id ${found.objectId}) was managed as ${previous}, which ` +
            "users.yaml declares again for someone else: apply the rename on its own first, then declare the other user",
        );
      else {
        person.previousName = previous;
        people.renames.set(previous, resource);
      }
    }
    if (previous === undefined ? createdByInterruptedRun(user, found, resource, last) : last.created?.has(id))
      person.provenance = "created";
    people.byUpn.set(key, person);
    const drift = driftLine(user.upn, planUserChanges(user, found));
    if (drift) people.warnings.push(drift);
  }
  return people;
}

/**
 * Whether a found user that no deployment manages was created by an interrupted run of ours: its
 * create was pending, or (a killed skip-checkpoints run, which leaves no pending operations) it
 * is declared `manage: create` and Entra created it after that run started.
 */
function createdByInterruptedRun(
  user: DesiredUser,
  found: FoundUser,
  resource: string,
  last: LastIdentities,
): boolean {
  if (last.pendingCreates.has(resource)) return true;
  if (!last.since || user.manage !== "create" || !found.createdDateTime) return false;
  return Date.parse(found.createdDateTime) >= Date.parse(last.since);
}

/**
 * Declares the renames: every resource named `<new>` or `<new>/<environment>` gets the alias
 * `<old>` or `<old>/<environment>`. Registered before any resource is declared.
 */
export function aliasRenames(renames: ReadonlyMap<string, string>): void {
  if (renames.size === 0) return;
  const byNew = new Map([...renames].map(([from, to]) => [to, from]));
  pulumi.runtime.registerStackTransformation((args) => {
    const slash = args.name.indexOf("/");
    const base = slash < 0 ? args.name : args.name.slice(0, slash);
    const old = byNew.get(base);
    if (old === undefined) return undefined;
    const alias = { name: `${old}${args.name.slice(base.length)}` };
    return { props: args.props, opts: { ...args.opts, aliases: [...(args.opts.aliases ?? []), alias] } };
  });
}
