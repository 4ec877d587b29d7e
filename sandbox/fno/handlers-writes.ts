/**
 * F&O write handlers: the request body is read into the entity type as F&O's deserializer does
 * (unknown or wrongly cased properties, wrong JSON types and unknown enum members are refused),
 * then rules.ts / rules-create.ts decide; POST answers 201 with the entity, PATCH and DELETE 204.
 * A set switched to ineffective writes (state.ts `IneffectiveWrite`) is validated and answered
 * the same way, on a scratch copy of the environment that is then thrown away.
 */
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { deserializationFailed, notFound } from "./errors.ts";
import {
  contextUrl,
  entityUrl,
  etagOf,
  findRow,
  json,
  keyText,
  notImplemented,
  renderRow,
} from "./handlers.ts";
import { FNO_ENUMS, type FnoEntitySetDef, findProperty, qualifiedType } from "./model.ts";
import { deleteEntity, findRecord, GUID, updateEntity, WRITABLE_SETS } from "./rules.ts";
import { createEntity } from "./rules-create.ts";
import type { FnoEnvironmentState, FnoValue } from "./state.ts";

/**
 * Reads a JSON request body into property values of `def`, as F&O's deserializer does: unknown
 * or wrongly cased property names, wrong JSON types and unknown enum members are refused.
 * `@odata.*` annotations are ignored. Strings are never stored as null (F&O returns "").
 */
export function deserializeBody(
  def: FnoEntitySetDef,
  rawBody: string,
  body: unknown,
): { ok: true; values: Record<string, FnoValue> } | { ok: false; response: SandboxResponse } {
  if (
    rawBody.trim() === "" ||
    body === undefined ||
    body === null ||
    typeof body !== "object" ||
    Array.isArray(body)
  ) {
    return {
      ok: false,
      response: deserializationFailed(
        rawBody.trim() === "" ? "The request body is empty." : "The request body is not a JSON object.",
      ),
    };
  }
  const values: Record<string, FnoValue> = {};
  const type = qualifiedType(def);
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name.startsWith("@odata.") || name.startsWith("@")) continue;
    const prop = findProperty(def, name);
    if (!prop) {
      return {
        ok: false,
        response: deserializationFailed(
          `The property '${name}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
        ),
      };
    }
    const bad = (expected: string) => ({
      ok: false as const,
      response: deserializationFailed(
        `Cannot convert the literal '${JSON.stringify(value)}' to the expected type '${expected}' of property '${name}'.`,
      ),
    });
    if (value === null) {
      if (!prop.nullable) {
        return {
          ok: false,
          response: deserializationFailed(
            `A null value was found for the property named '${name}', which has the expected type '${prop.type.kind}[Nullable=False]'. The expected type does not allow null values.`,
          ),
        };
      }
      values[name] = prop.type.kind === "string" ? "" : prop.defaultValue;
      continue;
    }
    switch (prop.type.kind) {
      case "string":
        if (typeof value !== "string") return bad("Edm.String");
        values[name] = value;
        break;
      case "boolean":
        if (typeof value !== "boolean") return bad("Edm.Boolean");
        values[name] = value;
        break;
      case "int32":
        if (typeof value !== "number" || !Number.isInteger(value)) return bad("Edm.Int32");
        values[name] = value;
        break;
      case "guid":
        if (typeof value !== "string" || !GUID.test(value)) return bad("Edm.Guid");
        values[name] = value.toLowerCase();
        break;
      case "enum": {
        const members = FNO_ENUMS[prop.type.enumName] ?? {};
        if (typeof value !== "string" || !Object.hasOwn(members, value)) {
          return {
            ok: false,
            response: deserializationFailed(
              `The value '${String(value)}' is not a valid member of enum type 'Microsoft.Dynamics.DataEntities.${prop.type.enumName}' (property '${name}').`,
            ),
          };
        }
        values[name] = value;
        break;
      }
    }
  }
  return { ok: true, values };
}

/**
 * The environment a write acts on: `env` itself, or a scratch copy when writes of this method to
 * this set are switched to answer success and change nothing.
 */
function target(
  req: SandboxRequest,
  ctx: ServiceContext,
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
): { env: FnoEnvironmentState; changed(): void } {
  const ineffective = (env.ineffectiveWrites ?? []).some(
    (w) => w.set === def.set && w.methods.includes(req.method.toUpperCase()),
  );
  if (!ineffective) return { env, changed: () => ctx.changed() };
  return { env: structuredClone(env), changed: () => undefined };
}

export function create(
  req: SandboxRequest,
  ctx: ServiceContext,
  live: FnoEnvironmentState,
  def: FnoEntitySetDef,
  session: { company: string },
): SandboxResponse {
  if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
  const body = deserializeBody(def, req.rawBody, req.body);
  if (!body.ok) return body.response;
  const { env, changed } = target(req, ctx, live, def);
  const result = createEntity(env, def, body.values, session);
  if (!result.ok) return result.response;
  changed();
  const row = findRow(def.rows(env), def, result.key);
  if (!row) throw new Error(`created ${def.set} row not found`);
  const location = entityUrl(req.url.origin, def, result.key);
  return json(
    201,
    { "@odata.context": contextUrl(req.url.origin, def, undefined, true), ...renderRow(row, undefined) },
    { location, etag: etagOf(row) },
  );
}

/** `PATCH Set(<key>)`: a partial update of the stored record behind `key`. */
export function patchEntity(
  req: SandboxRequest,
  ctx: ServiceContext,
  live: FnoEnvironmentState,
  def: FnoEntitySetDef,
  key: Record<string, FnoValue>,
): SandboxResponse {
  if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
  const body = deserializeBody(def, req.rawBody, req.body);
  if (!body.ok) return body.response;
  const { env, changed } = target(req, ctx, live, def);
  const record = findRecord(env, def, key);
  if (!record) return notFound(qualifiedType(def), keyText(key));
  const result = updateEntity(env, def, record, body.values);
  if (!result.ok) return result.response;
  changed();
  return { status: 204, headers: { "odata-version": "4.0" } };
}

/** `DELETE Set(<key>)`. */
export function removeEntity(
  req: SandboxRequest,
  ctx: ServiceContext,
  live: FnoEnvironmentState,
  def: FnoEntitySetDef,
  key: Record<string, FnoValue>,
): SandboxResponse {
  if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
  const { env, changed } = target(req, ctx, live, def);
  const record = findRecord(env, def, key);
  if (!record) return notFound(qualifiedType(def), keyText(key));
  const result = deleteEntity(env, def, record);
  if (!result.ok) return result.response;
  changed();
  return { status: 204, headers: { "odata-version": "4.0" } };
}
