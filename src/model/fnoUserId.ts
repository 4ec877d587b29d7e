/**
 * F&O UserID derivation. F&O stores UserID in 20 characters (UserInfo.ID); the common import
 * convention is the alias (local part) of the e-mail/UPN, truncated to 20 (`Import-D365AadUser`
 * of https://github.com/d365collaborative/d365fo.tools, `Add-FscmUser` of
 * https://github.com/d365collaborative/d365bap.tools). Which characters F&O accepts in a UserID
 * is not documented (UNCONFIRMED), so the derivation keeps only lower-case letters, digits, '.',
 * '_' and '-', which both tools produce.
 */
import { createHash } from "node:crypto";

/** Longest F&O UserID. */
export const FNO_USER_ID_MAX = 20;

/** The UserID a UPN maps to before collisions are considered: deterministic, ≤ 20 characters. */
export function deriveFnoUserId(upn: string): string {
  const at = upn.lastIndexOf("@");
  // Guest UPNs look like `jane_fabrikam.com#EXT#@contoso.onmicrosoft.com`: drop the marker.
  const alias = (at < 0 ? upn : upn.slice(0, at)).replace(/#EXT#$/i, "").toLowerCase();
  const cleaned = alias.replace(/[^a-z0-9._-]/g, "").replace(/^[._-]+/, "");
  const id = cleaned.slice(0, FNO_USER_ID_MAX).replace(/[._-]+$/, "");
  return id === "" ? "user" : id;
}

/**
 * The UserID for a UPN whose derived id is already taken: the derived id shortened to 15
 * characters plus `-` and 4 hex digits of a hash of the lower-case UPN (more digits if that is
 * taken too). It depends only on the UPN, so it does not change when other users are added.
 */
export function disambiguateFnoUserId(upn: string, taken: (id: string) => boolean): string {
  const base = deriveFnoUserId(upn);
  const hash = createHash("sha256").update(upn.toLowerCase()).digest("hex");
  for (let digits = 4; digits <= 12; digits++) {
    const suffix = `-${hash.slice(0, digits)}`;
    const head = base.slice(0, FNO_USER_ID_MAX - suffix.length).replace(/[._-]+$/, "");
    const id = `${head}${suffix}`;
    if (!taken(id)) return id;
  }
  // 12 hex digits of SHA-256 colliding within one file does not happen in practice.
  throw new Error(`cannot find a free F&O user id for ${upn}`);
}
