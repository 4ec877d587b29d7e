/**
 * `GET /data/$metadata` (CSDL XML) and `GET /data/` (the service document), generated from the
 * model so they list exactly the sets, keys, properties and enum types the sandbox serves.
 * F&O declares its entity and enum types in namespace `Microsoft.Dynamics.DataEntities`
 * (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata).
 * The container name "Resources" is UNCONFIRMED.
 */

import { edmType, FNO_ENTITY_SETS, FNO_ENUMS, FNO_NAMESPACE, type FnoPropertyDef } from "./model.ts";

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function propertyXml(p: FnoPropertyDef): string {
  const attrs = [`Name="${p.name}"`, `Type="${edmType(p)}"`];
  if (!p.nullable) attrs.push(`Nullable="false"`);
  if (p.type.kind === "string" && p.type.maxLength !== undefined)
    attrs.push(`MaxLength="${p.type.maxLength}"`);
  return `<Property ${attrs.join(" ")} />`;
}

let cachedMetadata: string | undefined;

/** The CSDL document (built once; the model is static). */
export function metadataXml(): string {
  if (cachedMetadata) return cachedMetadata;
  const lines: string[] = [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">`,
    `<edmx:DataServices>`,
    `<Schema Namespace="${FNO_NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
  ];
  for (const def of FNO_ENTITY_SETS) {
    lines.push(`<EntityType Name="${def.entityType}">`);
    lines.push(`<Key>${def.keys.map((k) => `<PropertyRef Name="${k}" />`).join("")}</Key>`);
    for (const p of def.properties) lines.push(propertyXml(p));
    lines.push(`</EntityType>`);
  }
  for (const [name, members] of Object.entries(FNO_ENUMS)) {
    lines.push(`<EnumType Name="${xmlEscape(name)}">`);
    for (const [member, value] of Object.entries(members)) {
      lines.push(`<Member Name="${xmlEscape(member)}" Value="${value}" />`);
    }
    lines.push(`</EnumType>`);
  }
  lines.push(`<EntityContainer Name="Resources">`);
  for (const def of FNO_ENTITY_SETS) {
    lines.push(`<EntitySet Name="${def.set}" EntityType="${FNO_NAMESPACE}.${def.entityType}" />`);
  }
  lines.push(`</EntityContainer>`, `</Schema>`, `</edmx:DataServices>`, `</edmx:Edmx>`);
  cachedMetadata = lines.join("\n");
  return cachedMetadata;
}

/** The OData service document of `/data/`. */
export function serviceDocument(origin: string): Record<string, unknown> {
  return {
    "@odata.context": `${origin}/data/$metadata`,
    value: FNO_ENTITY_SETS.map((d) => ({ name: d.set, kind: "EntitySet", url: d.set })),
  };
}
