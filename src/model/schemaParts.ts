/**
 * The users.yaml schema is composed, not written in one piece: a core (schemas/users.core.json:
 * the file's frame, people, personas, environments, rules) plus each registered system's part
 * (`providers/<system>/users.schema.json`: its definitions and the keys it adds to the file's
 * top level (`file`), users, personas, defaults and environments), plus the UPN rule of providers/core/user.ts. Editors
 * load the composed file (schemas/users.schema.json, through the
 * `# yaml-language-server: $schema=` header), so it stays one static JSON file, written by
 * `npm run schema` (scripts/schema.ts); a test checks it equals what this composes.
 */
import { readFileSync } from "node:fs";
import { UPN_MAX_LENGTH, UPN_PATTERN, UPN_SHAPE } from "../../providers/core/user.ts";
import { SYSTEMS } from "../../providers/registry.ts";

type Json = Record<string, unknown>;

/** The schema objects a system part may add keys to. */
const EXTENSIBLE = ["user", "persona", "defaults", "environment"] as const;

/** The core part. */
export const CORE_SCHEMA_URL = new URL("../../schemas/users.core.json", import.meta.url);
/** The composed schema editors and the validator load. */
export const USERS_SCHEMA_URL = new URL("../../schemas/users.schema.json", import.meta.url);

const read = (url: URL): Json => JSON.parse(readFileSync(url, "utf8")) as Json;

/** Composes the users.yaml schema from the core and the registered systems' parts. */
export function composeUsersSchema(): Json {
  const { $comment: _, ...core } = read(CORE_SCHEMA_URL);
  const coreDefs = core.$defs as Record<string, Json>;
  const parts = SYSTEMS.map((system) => ({ system: system.name, part: read(system.usersYaml) }));

  // Definitions: the core's plain ones, then every system's, then the core's composite ones.
  const defs: Record<string, Json> = {};
  const add = (name: string, def: Json, from: string) => {
    if (name in defs || (name in coreDefs && from !== "core"))
      throw new Error(`users.yaml schema: ${from} defines $defs.${name} again`);
    defs[name] = structuredClone(def);
  };
  const composite = new Set<string>(EXTENSIBLE);
  const firstComposite = Object.keys(coreDefs).findIndex((k) => composite.has(k));
  const coreEntries = Object.entries(coreDefs);
  for (const [name, def] of coreEntries.slice(0, firstComposite)) add(name, def, "core");
  for (const { system, part } of parts)
    for (const [name, def] of Object.entries((part.$defs ?? {}) as Record<string, Json>))
      add(name, def, system);
  for (const [name, def] of coreEntries.slice(firstComposite)) add(name, def, "core");

  // Top-level keys (`file`): settings that hold for the whole users.yaml.
  const top = { ...(core.properties as Record<string, Json>) };
  for (const { system, part } of parts) {
    const extra = ((part.properties ?? {}) as Record<string, Record<string, Json>>).file ?? {};
    for (const [key, value] of Object.entries(extra)) {
      if (key in top) throw new Error(`users.yaml schema: ${system} adds the top-level key ${key} again`);
      top[key] = value;
    }
  }

  for (const target of EXTENSIBLE) {
    const properties = (defs[target] as { properties: Record<string, Json> }).properties;
    for (const { system, part } of parts) {
      const extra = ((part.properties ?? {}) as Record<string, Record<string, Json>>)[target] ?? {};
      for (const [key, value] of Object.entries(extra)) {
        if (key in properties) throw new Error(`users.yaml schema: ${system} adds ${target}.${key} again`);
        properties[key] = value;
      }
    }
  }
  Object.assign(defs.upn as Json, {
    maxLength: UPN_MAX_LENGTH,
    pattern: UPN_PATTERN,
    "x-error": `is not a valid user principal name: ${UPN_SHAPE}`,
  });
  return { ...core, properties: top, $defs: defs };
}
