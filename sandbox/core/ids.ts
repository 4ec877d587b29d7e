import { createHash } from "node:crypto";

/**
 * A GUID derived from its parts, so the seed is identical after every reset while ids still
 * differ per environment and business unit, as they do in real organizations.
 */
export function stableGuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  // Shape it as an RFC 4122 version-4 GUID (variant bits 10xx).
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** True for a GUID in the 8-4-4-4-12 hex form Dataverse uses in keys and filters. */
export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
