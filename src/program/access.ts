/**
 * The program's building block: one person's access across the systems (providers/registry.ts),
 * declared by each system in registry order, the identity system first, whose object id the
 * others receive. The program (index.ts) declares every users.yaml user with it; another Pulumi
 * program declares a person with the {@link UserAccess} component, e.g. chaining the object id
 * of a user it creates with `@pulumi/azuread`:
 *
 *   const user = new azuread.User("ann", { userPrincipalName: "ann@contoso.com", … });
 *   new UserAccess("ann@contoso.com", {
 *     objectId: user.objectId,
 *     upn: "ann@contoso.com",
 *     displayName: "Ann",
 *     dataverse: [{ environment: "prod", roles: ["Basic User"] }],
 *     fno: [{ environment: "prod", company: "USMF", roles: [{ role: "HCMEMPLOYEE" }] }],
 *   });
 *
 * The resources the component declares are its children; the program's are at the stack's root
 * (their URNs are those of every deployment so far).
 */
import * as pulumi from "@pulumi/pulumi";
import type { DeclareContext, Declarer } from "../../providers/core/system.ts";
import { USER_DEFAULTS } from "../../providers/core/user.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import type { DesiredUser } from "../model/desired.ts";
import { deriveFnoUserId } from "../model/fnoUserId.ts";

/** What every system reads of a person: the normalized users.yaml user, without its source. */
export type AccessUser = Omit<DesiredUser, "source" | "personas">;

/** Each system's declarer, in registry order (loaded once; the SDK parts load with them). */
export const DECLARERS: readonly { name: string; scope: string; declare: Declarer<AccessUser> }[] =
  await Promise.all(
    SYSTEMS.map(async (system) => ({
      name: system.name,
      scope: system.scope,
      declare: (await system.declarer()) as Declarer<AccessUser>,
    })),
  );

/** Who the person is, for {@link declareUserAccess}. */
export interface AccessContext {
  /** The resource name (the lower-cased UPN); per-environment resources append `/<environment>`. */
  name: string;
  /** The Entra object id when known (a found person, another resource's output); else the identity resource's. */
  objectId?: pulumi.Input<string> | undefined;
  provenance?: DeclareContext["provenance"];
  /** The component the resources belong to; none for the program's. */
  parent?: pulumi.Resource;
}

/**
 * Declares one person's resources, system by system; returns them per system and the object id
 * the systems used.
 */
export function declareUserAccess(
  user: AccessUser,
  access: AccessContext,
  declarers: readonly { name: string; declare: Declarer<AccessUser> }[] = DECLARERS,
): { declared: Record<string, pulumi.CustomResource[]>; objectId: pulumi.Input<string> | undefined } {
  const known = access.objectId;
  let context: DeclareContext = {
    name: access.name,
    objectId: known,
    ...(known !== undefined && access.provenance ? { provenance: access.provenance } : {}),
    ...(access.parent ? { parent: access.parent } : {}),
    dependsOn: [],
  };
  const declared: Record<string, pulumi.CustomResource[]> = {};
  for (const system of declarers) {
    const result = system.declare(user, context);
    declared[system.name] = result.resources;
    // The other systems follow the identity: the user must exist, enabled and licensed, before
    // Dataverse can sync it; F&O imports it by its Entra identity.
    if (result.objectId !== undefined)
      context = { ...context, objectId: known ?? result.objectId, dependsOn: result.resources };
  }
  return { declared, objectId: context.objectId };
}

/** Arguments of {@link UserAccess}: a person by Entra object id, and their access per system. */
export interface UserAccessArgs {
  /** The person's Entra object id, e.g. `azuread.User#objectId`. */
  objectId: pulumi.Input<string>;
  /** Their user principal name (compared case-insensitively). */
  upn: string;
  displayName: string;
  /** Whether they may sign in; false disables their Dataverse and F&O users. Default true. */
  enabled?: boolean;
  /** What deleting this component does to an F&O user d365-access created: disable (default) or delete. */
  onRemove?: "disable" | "delete";
  /**
   * Direct Entra licenses. Without it no `entra:User` is declared: the identity stays whoever's
   * manages it (an `azuread.User`); with it, an `entra:User` adopts the person by object id and
   * holds these licenses (and display name, usage location and sign-in as given here).
   */
  entra?: {
    usageLocation: string;
    licenses: { sku: string; disabledPlans?: string[] }[];
    /** SKUs this component owns (default: the ones in `licenses`); others are never touched. */
    managedLicenses?: string[];
  };
  /** Dataverse security roles per environment (a logical name the stack maps), in a business unit (default: root). */
  dataverse?: { environment: string; businessUnit?: string; roles: string[] }[];
  /** F&O roles per environment, each in legal entities (none = all); `userId` default derived from the UPN. */
  fno?: {
    environment: string;
    company: string;
    userId?: string;
    roles: { role: string; legalEntities?: string[] }[];
  }[];
}

/** The args as the systems read a person (users.yaml's normalized form). */
export function accessUser(args: UserAccessArgs): AccessUser {
  const licenses = (args.entra?.licenses ?? []).map((l) => ({
    sku: l.sku,
    disabledPlans: l.disabledPlans ?? [],
  }));
  return {
    upn: args.upn,
    displayName: args.displayName,
    usageLocation: args.entra?.usageLocation ?? "",
    enabled: args.enabled ?? USER_DEFAULTS.enabled,
    manage: "adopt",
    onRemove: args.onRemove ?? USER_DEFAULTS.onRemove,
    licenses,
    managedLicenses: args.entra?.managedLicenses ?? licenses.map((l) => l.sku),
    dataverse: (args.dataverse ?? []).map((d) => ({
      environment: d.environment,
      ...(d.businessUnit ? { businessUnit: d.businessUnit } : {}),
      roles: [...d.roles].sort(),
    })),
    fno: (args.fno ?? []).map((f) => ({
      environment: f.environment,
      userId: f.userId ?? deriveFnoUserId(args.upn),
      company: f.company.toUpperCase(),
      roles: f.roles
        .map((r) => ({
          role: r.role,
          legalEntities: (r.legalEntities ?? []).map((e) => e.toUpperCase()).sort(),
        }))
        .sort((a, b) => a.role.localeCompare(b.role, undefined, { sensitivity: "base" })),
    })),
  };
}

/** One person's Dataverse and F&O access (and Entra licenses, if given), for a person managed elsewhere. */
export class UserAccess extends pulumi.ComponentResource {
  /** The object id the systems were given. */
  readonly objectId: pulumi.Output<string>;
  /** The resources declared, per system (`entra`, `dataverse`, `fno`). */
  readonly resources: Readonly<Record<string, pulumi.CustomResource[]>>;

  constructor(name: string, args: UserAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("d365-access:index:UserAccess", name, {}, opts);
    // The tenant-wide (identity) system only when licenses are declared: the person's identity
    // is otherwise someone else's to manage.
    const declarers = DECLARERS.filter((d) => d.scope !== "tenant" || args.entra !== undefined);
    const { declared } = declareUserAccess(
      accessUser(args),
      { name, objectId: args.objectId, parent: this },
      declarers,
    );
    this.objectId = pulumi.output(args.objectId);
    this.resources = declared;
    this.registerOutputs({ objectId: this.objectId });
  }
}
