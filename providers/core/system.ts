/**
 * What a system declares once for the rest of the project (style.md principle 15): a registry
 * entry. Each system folder exports one `System` from its `system.ts`; `providers/registry.ts`
 * lists them; the program, the report, the guards and the CLI loop over that list and name no
 * system. The core defines the shape only.
 *
 * `U` is the declared user as the model normalizes it (a system reads its own part of it, e.g.
 * `user.fno`), `E` a declared environment.
 */
import type * as pulumi from "@pulumi/pulumi";
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

/** What `report --live` learns while reading, shared between systems. */
export interface LiveContext<U> {
  /** The declared users. */
  users: readonly U[];
  /** Lower-cased Entra object id → lower-cased UPN, filled by the identity system. */
  objectIds: Map<string, string>;
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
  /**
   * Warnings about the stack's mapping of an environment the users use, e.g. an optional id
   * missing (a missing URL of a per-environment service is an error the program reports).
   */
  environmentWarnings?(environment: EnvironmentSettings): string[];
  /** The access report's column. */
  readonly report: {
    /** Column title, e.g. `contoso-demo · F&O`. */
    title(environment?: string): string;
    /** The declared entries of the user in the column, sorted. */
    cell(user: U, environment?: string): string[];
    /** What the system holds now for the declared users, in the same words: upn (lower case) → entries. */
    live?(rt: Runtime, context: LiveContext<U>, environment?: string): Promise<Map<string, string[]>>;
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
