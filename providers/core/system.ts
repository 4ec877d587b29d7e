/**
 * What a system declares once for the rest of the project: a registry entry. Each system folder
 * exports one `System` from its `system.ts`; `providers/registry.ts` lists them; the program, the
 * report, the guards and the CLI loop over that list and name no system. The core defines the
 * shape only.
 *
 * `U` is the declared user as the model normalizes it (a system reads its own part of it, e.g.
 * `user.fno`), `E` a declared environment.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Change } from "./describe.ts";
import type { Provenance } from "./removal.ts";
import type { Runtime } from "./runtime.ts";
import type { ServiceSpec } from "./service.ts";
import type { EnvironmentSettings } from "./settings.ts";

/** What a system's resource declaration gets from the program. */
export interface DeclareContext {
  /** The user's resource name (its lower-cased UPN); per-environment resources append `/<environment>`. */
  name: string;
  /** The Entra object id: known for existing users, else the identity resource's output. */
  objectId: pulumi.Input<string> | undefined;
  /**
   * Who made the identity `objectId` names, when the program found it: `created` when a run of
   * d365-access created it (recorded so, or interrupted before recording it: a pending create,
   * or a killed skip-checkpoints run), else `adopted`. Undefined for a person still to be created.
   */
  provenance?: Provenance;
  /** Resources this user's resources follow (the identity the systems sync from). */
  dependsOn: pulumi.Resource[];
  /** The component resource the user's resources belong to (src/program/access.ts); none for the program's. */
  parent?: pulumi.Resource;
}

/** The resources a system declared for one user. */
export interface Declared {
  resources: pulumi.CustomResource[];
  /** Set by the system that owns the identity: its object id, which the others receive. */
  objectId?: pulumi.Input<string>;
}

/** Declares one user's resources of a system. */
export type Declarer<U> = (user: U, context: DeclareContext) => Declared;

/** One resource in the guards' terms (users.yaml `guards`): what it grants and what else changes access. */
export interface GuardFacts {
  /** License or role keys, lower case, sorted. */
  grants: string[];
  /** Anything else that changes access when it changes (enabled, business unit, company), as text. */
  settings: string;
}

/** One declared resource, as {@link Describer} sees it. */
export interface DescribeDeclared<U> {
  /** The resource name (`<upn>` or `<upn>/<environment>`). */
  name: string;
  user: U;
  /** The environment of a per-environment system. */
  environment?: string;
  /** The Entra object id the program found; undefined for a person still to be created. */
  objectId?: string;
  /** The outputs the last deployment recorded under this name (after renames); undefined: a create. */
  last?: Record<string, unknown>;
  /** The resource id the last deployment recorded (with `last`). */
  lastId?: string;
}

/** What the program asks a system to describe at preview. */
export interface DescribeRequest<U> {
  declared: DescribeDeclared<U>[];
  /** Resources of the last deployment that users.yaml no longer declares: name and outputs. */
  removed: { name: string; id: string; outputs: Record<string, unknown> }[];
  /**
   * Whether the run refreshes first: the engine then compares the live state with users.yaml,
   * so drift alone updates; without it, only a declared change does.
   */
  refresh: boolean;
}

/** The environments a per-environment system's request concerns, sorted. */
export function environmentsOf(request: DescribeRequest<unknown>): string[] {
  const all = [
    ...request.declared.map((d) => d.environment ?? ""),
    ...request.removed.map((r) => String(r.outputs.environment ?? "")),
  ];
  return [...new Set(all)].filter((e) => e !== "").sort();
}

/**
 * Reads what the system holds for the request's users (bulk reads) and says, per resource name,
 * what `up` will do there: the system's pure plans, described (its describe.ts). A resource the
 * engine will not create, update or delete has no entry.
 */
export type Describer<U> = (rt: Runtime, request: DescribeRequest<U>) => Promise<Map<string, Change>>;

/** A place in users.yaml. */
export interface Position {
  file: string;
  line: number;
  col: number;
}

/** One problem a pre-flight found: what, and where users.yaml wrote it when one place applies. */
export interface PreflightProblem {
  message: string;
  at?: Position[];
}

/** What a system's pre-flight gets from the program (src/program/preflight.ts). */
export interface PreflightInput<U> {
  /** The declared users that have access in the system (in the environment, per environment). */
  users: readonly U[];
  /** Lower-cased UPN → Entra object id, for the people the tenant has. */
  objectIds: ReadonlyMap<string, string>;
  /** Where users.yaml writes a name (`kind`: dataverse-role, business-unit, fno-role, legal-entity). */
  where(kind: string, name: string, environment?: string): Position[];
  /** Where a user is declared. */
  at(user: U): Position;
}

/** What a system's pre-flight answers. */
export interface PreflightResult<U = unknown> {
  problems: PreflightProblem[];
  /**
   * The canonical key of a role as the tenant's catalogue knows it (F&O: the AOT identifier,
   * Dataverse: the role within the user's business unit), for segregation of duties; undefined
   * when the catalogue does not have it.
   */
  roleKey?(role: string, user?: U): string | undefined;
}

/** What `report --live` learns while reading, shared between systems. */
export interface LiveContext<U> {
  /** The declared users. */
  users: readonly U[];
  /** Lower-cased Entra object id → lower-cased UPN, filled by the identity system. */
  objectIds: Map<string, string>;
}

/**
 * What `export` shares between systems while it reads a live tenant (src/cli/export.ts).
 * Bulk reads only: each system reads its users, roles and assignments page by page.
 */
export interface ExportContext {
  /** Lower-cased Entra object id → UPN of every identity, filled by the identity system. */
  objectIds: Map<string, string>;
  /** Lower-cased UPN → lower-cased object id, filled with `objectIds`. */
  upns: Map<string, string>;
  /** Whether a license SKU (part number) is one users.yaml manages. */
  managedSku(partNumber: string): boolean;
}

/** One person's part in one system (and environment), in users.yaml's words. */
export interface ExportedPart {
  /**
   * The fields the part writes: the user's own (identity system: upn, displayName, …), or, for a
   * per-environment system, those under `<system>.<environment>` (business unit, company, …).
   */
  fields: Record<string, unknown>;
  /**
   * What a persona may carry instead (users.yaml items: licenses, roles), sorted; a persona's
   * key is the system's `grants` field. Written with `fields` when no persona takes them.
   */
  grants: unknown[];
  /** The grants in readable words (role labels, SKU part numbers), for persona names. */
  labels: string[];
  /** User-level values every system must agree on (`displayName`, `enabled`). */
  shared: Record<string, unknown>;
  /** YAML comments about what is left undeclared (group licenses, team roles, rule rows). */
  notes: string[];
  /** False when the person is present but nothing of theirs is the system's to declare. */
  declare: boolean;
  /** Whether the person has anything of Dynamics here (the identity system: a managed license). */
  footprint: boolean;
  /** Values `--split-by` may group people by (e.g. `company`, `department`). */
  attributes: Record<string, string>;
}

/** Everything a system holds, read for `export`. */
export interface ExportedSystem {
  /** Per person: lower-cased Entra object id → its part. */
  parts: Map<string, ExportedPart>;
  /** Accounts left out on purpose (Microsoft's, our app's, ones without an Entra user), e.g. `user Admin: …`. */
  skipped: string[];
  /** Its values for the environment (`environments.<name>`), e.g. `{ fno: true, defaultCompany }`. */
  environment?: Record<string, unknown>;
  /** Top-level users.yaml keys it adds (e.g. `managedLicenses`). */
  topLevel?: Record<string, unknown>;
}

/** A registry entry. */
export interface System<U, E> {
  /** The type token's module and the name in errors and counts, e.g. `fno`. */
  readonly name: string;
  /** How people call it, e.g. `F&O`. */
  readonly label: string;
  /** The APIs it calls (config keys, token scope, errors, concurrency). */
  readonly services: readonly ServiceSpec[];
  /** Its resource type token, e.g. `pulumi-nodejs:dynamic/fno:User`. */
  readonly resourceType: string;
  /**
   * Its part of the users.yaml schema: `$defs`, and `properties` it adds to `user`, `persona`,
   * `defaults` and `environment` (composed by src/model/schemaParts.ts).
   */
  readonly usersYaml: URL;
  /** Once per user (`tenant`) or once per user and environment (`environment`). */
  readonly scope: "tenant" | "environment";
  /** Whether a declared environment has this system (per-environment systems). */
  inEnvironment(environment: E): boolean;
  /** The environments the user has access in, sorted (per-environment systems; [] otherwise). */
  environments(user: U): string[];
  /**
   * Loads the function that declares a user's resources (the identity system's returns the
   * object id). Loaded on demand: only the program needs the resource classes and the Pulumi
   * SDK behind them, not `validate` or `report`.
   */
  declarer(): Promise<Declarer<U>>;
  /** Loads the function that describes, at preview, what `up` will change (describe.ts). */
  describer(): Promise<Describer<U>>;
  /**
   * Warnings about the stack's mapping of an environment the users use, e.g. an optional id
   * missing (a missing URL of a per-environment service is an error the program reports).
   */
  environmentWarnings?(environment: EnvironmentSettings): string[];
  /**
   * Checks, with one bulk read per catalogue and no write, everything a run will need of the
   * system for the whole change: tokens, permissions or privileges, names in catalogues, UPNs
   * the system accepts. Per environment for per-environment systems.
   */
  preflight?(rt: Runtime, input: PreflightInput<U>, environment?: string): Promise<PreflightResult<U>>;
  /** The access report's column. */
  readonly report: {
    /** Column title, e.g. `contoso-demo · F&O`. */
    title(environment?: string): string;
    /** The declared entries of the user in the column, sorted. */
    cell(user: U, environment?: string): string[];
    /** What the system holds now for the declared users, in the same words: upn (lower case) → entries. */
    live?(rt: Runtime, context: LiveContext<U>, environment?: string): Promise<Map<string, string[]>>;
    /**
     * People users.yaml does not declare who hold a privileged role (the system's own, and any
     * of `extra`, by name), one line each: `<who> holds privileged role <role>` (issue 12 item 3).
     * Run after the identity system's `live` filled `context.objectIds`.
     */
    privileged?(
      rt: Runtime,
      context: LiveContext<U> & { extra: readonly string[] },
      environment?: string,
    ): Promise<string[]>;
  };
  /** `export`: reading what the system holds, in bulk, as users.yaml (src/cli/export.ts). */
  readonly export?: {
    /** The user and persona field its grants go in: `licenses`, `roles`. */
    grants: string;
    /** Reads everything it holds (the identity system first: it fills the context). */
    read(rt: Runtime, context: ExportContext, environment?: string): Promise<ExportedSystem>;
  };
  /** The guards' summary of its resources. */
  readonly guard: {
    /** Whether its grants count as license or role changes. */
    counts: "licenses" | "roles";
    /** Whether removing its resource removes the user (the identity system). */
    removesUser: boolean;
    /** The facts of a declared resource. */
    declared(user: U, environment?: string): GuardFacts;
    /** The facts of an applied resource, from the inputs the previous state recorded. */
    applied(inputs: Record<string, unknown>): GuardFacts;
  };
}

/** Lower-cased, sorted keys (the guards compare grants this way). */
export function grantKeys(keys: readonly string[]): string[] {
  return keys.map((k) => k.toLowerCase()).sort();
}
