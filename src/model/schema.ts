/**
 * Structural validation against schemas/users.schema.json with ajv (JSON Schema 2020-12), and
 * the translation of ajv's findings into plain-language diagnostics located in the YAML.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { Diagnostic } from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { diagnosticAt, type SourceFile } from "./source.ts";

/** Where the schema lives, relative to this module. */
export const SCHEMA_URL = new URL("../../schemas/users.schema.json", import.meta.url);

let compiled: ValidateFunction | undefined;

/** The compiled validator; the schema is read and compiled once per process. */
export function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(SCHEMA_URL, "utf8")) as Record<string, unknown>;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
  // Annotation keyword: the plain-language explanation shown when `pattern` fails.
  ajv.addKeyword({ keyword: "x-error", schemaType: "string" });
  compiled = ajv.compile(schema);
  return compiled;
}

function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const path: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

const typeWords: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  boolean: "true or false",
  integer: "a whole number",
  number: "a number",
  null: "nothing",
};

/** How a value from the input is described in messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return `${String(value)}`;
}

function expectedTypes(types: string[]): string {
  const words = [...new Set(types.flatMap((t) => t.split(",")).map((t) => typeWords[t] ?? t))];
  return words.length <= 1
    ? (words[0] ?? "another value")
    : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** Validates one file's value; returns diagnostics located in that file. */
export function validateSchema(source: SourceFile): Diagnostic[] {
  const validate = schemaValidator();
  if (validate(source.value)) return [];
  const errors = (validate.errors ?? []).slice();
  const drop = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, string>();
  // anyOf (licenses and F&O roles: "a name or a mapping"): keep the findings of the branch that
  // matches the value's type; if none matches, say which types are accepted.
  for (const any of errors.filter((e) => e.keyword === "anyOf")) {
    const at = any.instancePath;
    const typeErrors = errors.filter((e) => e.keyword === "type" && e.instancePath === at);
    const others = errors.filter(
      (e) =>
        e !== any &&
        !typeErrors.includes(e) &&
        (e.instancePath === at || e.instancePath.startsWith(`${at}/`)),
    );
    for (const e of typeErrors) drop.add(e);
    if (others.length > 0) drop.add(any);
    else
      replaced.set(
        any,
        `expected ${expectedTypes(typeErrors.map((e) => String(e.params.type)))}, got ${describeValue(any.data)}`,
      );
  }
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (drop.has(error) || error.keyword === "propertyNames") continue;
    const path = pointerToPath(error.instancePath, source.value);
    const d = translate(error, path, source, replaced.get(error));
    const key = `${d.line}:${d.col}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

function translate(
  error: ErrorObject,
  path: PathSegment[],
  source: SourceFile,
  override?: string,
): Diagnostic {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const data = error.data;
  const explain = typeof parent["x-error"] === "string" ? parent["x-error"] : "has an invalid format";
  const at = (message: string, code: string, p: PathSegment[] = path, target: "key" | "value" = "value") =>
    diagnosticAt(source, p, "error", code, message, target);
  if (override !== undefined) return at(override, "wrong-type");
  // A property name failed `propertyNames` (environment or persona names).
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    return at(
      `${quote(propertyName)} is not a valid name: it ${explain}`,
      "invalid-name",
      [...path, propertyName],
      "key",
    );
  }
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      return at(`unknown key ${quote(key)}${didYouMean(key, known)}`, "unknown-key", [...path, key], "key");
    }
    case "required":
      return at(`missing required key ${quote(params.missingProperty)}`, "missing-key");
    case "type": {
      const expected = String(params.type);
      const hint =
        expected === "string" && (typeof data === "number" || typeof data === "boolean")
          ? ` (put it in quotes: "${String(data)}")`
          : "";
      return at(`expected ${expectedTypes([expected])}, got ${describeValue(data)}${hint}`, "wrong-type");
    }
    case "enum": {
      const allowed = ((params.allowedValues as unknown[]) ?? []).map((v) => String(v));
      const suggestion = typeof data === "string" ? didYouMean(data, allowed) : "";
      return at(
        `${describeValue(data)} is not allowed; use one of ${allowed.map((v) => quote(v)).join(", ")}${suggestion}`,
        "invalid-value",
      );
    }
    case "const":
      return at(
        `must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(data)}`,
        "invalid-value",
      );
    case "pattern":
      return at(`${quote(data)} ${explain}`, "invalid-value");
    case "minLength":
      return at(
        params.limit === 1 ? "must not be empty" : `must be at least ${params.limit} characters`,
        "invalid-value",
      );
    case "maxLength":
      return at(
        `${quote(data)} is too long: ${String(data).length} characters, at most ${params.limit} allowed`,
        "too-long",
      );
    case "minItems":
      return at(`needs at least ${params.limit} items, has ${(data as unknown[]).length}`, "too-few");
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      const value = (data as unknown[])[later];
      return at(
        `duplicate item ${quote(typeof value === "string" ? value : JSON.stringify(value))} (same as item ${earlier})`,
        "duplicate",
        [...path, later],
      );
    }
    case "minimum":
      return at(`must be at least ${params.limit}, got ${describeValue(data)}`, "invalid-value");
    default:
      return at(`does not match the schema (${error.keyword} ${JSON.stringify(params)})`, "schema");
  }
}
