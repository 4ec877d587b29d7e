/**
 * The one removal rule (issue 11 item 5): what removing a person from users.yaml does, the same
 * in every system. Each system's pure plan calls {@link decideRemoval} with what it holds for the
 * person and its own definition of the owned scope, and turns the answer into its operations.
 *
 * 1. **The whole owned scope is revoked**, whoever granted it: every held entry inside the scope
 *    d365-access owns (Entra: direct assignments of managed SKUs; Dataverse: the direct roles in
 *    the user's business unit that the caller may assign; F&O: Manual, Enabled role rows except
 *    SYSTEMUSER). Not only "what a run granted": after `export` every role a person holds is
 *    declared, so a rule of "revoke what we granted" could never take access away from an
 *    exported person. Entries outside the scope (group licenses, team roles, rule-based rows,
 *    exclusions, unmanaged SKUs) are never touched.
 * 2. **Then the account, by provenance.** An account d365-access created is disabled, or with
 *    `onRemove: delete` disabled and then deleted (a refused delete leaves it disabled). An
 *    adopted account is never deleted, whatever `onRemove` says: the system either leaves it as
 *    found (Entra: the account serves Microsoft 365 too) or disables it (F&O: an enabled account
 *    keeps its rule-based roles). Systems whose accounts follow another system's (Dataverse
 *    follows Entra) never disable or delete.
 *
 * Pure; tested in test/core/removal.test.ts.
 */

/** Whether d365-access created the account or found it (adopted). */
export type Provenance = "created" | "adopted";

/**
 * What a system does with its account on removal:
 * - `keep-adopted`: an adopted account is left as found; a created one is disabled or deleted;
 * - `disable-adopted`: an adopted account is disabled; a created one is disabled or deleted;
 * - `none`: the accounts are not ours (they follow the identity system); never disabled or deleted.
 */
export type AccountPolicy = "keep-adopted" | "disable-adopted" | "none";

/** What {@link decideRemoval} needs to know. */
export interface RemovalInput<T> {
  /** What the system holds for the person now (live), in the order operations should run. */
  held: readonly T[];
  /** The system's owned scope: whether an entry is d365-access's to revoke. */
  owns: (entry: T) => boolean;
  /** Whether d365-access created the account or adopted it. */
  provenance: Provenance;
  /** users.yaml's `onRemove` for the person. */
  onRemove: "disable" | "delete";
  /** Whether the account is enabled now (a disabled account needs no disabling). */
  enabled: boolean;
  /** The system's account policy. */
  accounts: AccountPolicy;
}

/** What removal does, in order: revoke, then disable, then delete. */
export interface Removal<T> {
  /** Held entries of the owned scope, in the order given: all revoked. */
  revoke: T[];
  /** Held entries outside the owned scope: left as they are (for reports). */
  untouched: T[];
  /** Disable the account (after revoking; also before a delete, so a refused delete leaves it disabled). */
  disable: boolean;
  /** Delete the account (last; only an account d365-access created, with `onRemove: delete`). */
  delete: boolean;
}

/** The removal of one person from one system (see the module comment). */
export function decideRemoval<T>(input: RemovalInput<T>): Removal<T> {
  const revoke = input.held.filter((entry) => input.owns(entry));
  const untouched = input.held.filter((entry) => !input.owns(entry));
  const ours = input.accounts !== "none";
  const created = input.provenance === "created";
  const remove = ours && created && input.onRemove === "delete";
  const disable = ours && input.enabled && (created || input.accounts === "disable-adopted");
  return { revoke, untouched, disable, delete: remove };
}

/**
 * The provenance an output records, read safely: only an explicit "not adopted" from a state
 * d365-access wrote means created; anything missing or unknown counts as adopted (never deleted).
 */
export function provenanceOf(adopted: unknown): Provenance {
  return adopted === false ? "created" : "adopted";
}
