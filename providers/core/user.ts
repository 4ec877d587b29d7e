/**
 * The rules about a declared person that the model (users.yaml) and the providers both apply,
 * each written once: the defaults, the user principal name rule, and "only a user d365-access
 * creates may be deleted". The users.yaml schema's UPN pattern is generated from here too
 * (scripts/schema.ts).
 */

/** A person as users.yaml declares them, before any system's access. */
export interface Person {
  /** User principal name as written; compared case-insensitively. */
  upn: string;
  displayName: string;
  /** ISO 3166-1 alpha-2 country code; required (by Entra) when the person has a license. */
  usageLocation: string;
  enabled: boolean;
  /** `adopt` an existing Entra user (default) or `create` it. */
  manage: "adopt" | "create";
  /** What removing the person from users.yaml does: `disable` (default) or `delete`. */
  onRemove: "disable" | "delete";
}

/** What a person gets when users.yaml says nothing. */
export const USER_DEFAULTS = {
  /** Sign-in enabled. */
  enabled: true,
  /** The Entra user must exist; d365-access adopts it (never creates it unasked). */
  manage: "adopt",
  /** Removing the person from users.yaml revokes what d365-access owns of them and disables, never deletes. */
  onRemove: "disable",
} as const satisfies { enabled: boolean; manage: "adopt" | "create"; onRemove: "disable" | "delete" };

/**
 * A user principal name: alias@domain, the alias at most 64 characters of letters, digits and
 * `' . - _ ! # ^ ~`, the domain made of DNS labels
 * (https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname).
 */
export const UPN_PATTERN =
  "^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/** The longest UPN Entra accepts (64 for the alias, `@`, 48 for the domain). */
export const UPN_MAX_LENGTH = 113;

/** What {@link UPN_PATTERN} requires, in words. */
export const UPN_SHAPE =
  "expected alias@domain, the alias made of letters, digits and ' . - _ ! # ^ ~ (no spaces or accents)";

const UPN = new RegExp(UPN_PATTERN);

/**
 * Why `upn` is not a valid user principal name, or undefined when it is. The message completes
 * `"<upn>" is not a valid user principal name: …`.
 */
export function upnProblem(upn: string): string | undefined {
  if (upn.length > UPN_MAX_LENGTH || !UPN.test(upn)) return UPN_SHAPE;
  const alias = upn.slice(0, upn.lastIndexOf("@"));
  if (alias.startsWith(".") || alias.endsWith(".") || alias.includes(".."))
    return "the alias cannot start or end with '.' or contain '..'";
  return undefined;
}

/**
 * Why a person's removal setting is refused, or undefined: `onRemove: delete` is for accounts
 * d365-access creates; an adopted account (mail, Teams, other apps) is left as found on removal,
 * apart from the access d365-access owns (removal.ts).
 */
export function deleteAdoptedProblem(
  manage: "adopt" | "create",
  onRemove: "disable" | "delete",
): string | undefined {
  return manage === "adopt" && onRemove === "delete"
    ? "applies only to users d365-access creates (manage: create); an adopted user is never deleted: set manage: create or onRemove: disable"
    : undefined;
}
