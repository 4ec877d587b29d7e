/**
 * Resource-path parsing for `/data/...`: the entity set, an optional key predicate and what
 * follows (`/$count`). Key predicates follow OData v4 URL conventions as F&O applies them
 * (reference fno-odata.md §8 item 2):
 *   - named keys `SystemUsers(UserID='jdoe')`, in any order for composite keys;
 *   - the positional shorthand `SystemUsers('jdoe')` for single-key sets only;
 *   - string literals with '' for a quote; enum keys as qualified literals
 *     `OrganizationType=Microsoft.Dynamics.DataEntities.OmInternalOrganizationType'LegalEntity'`.
 */

import { scanQuotedLiteral } from "../core/odata/index.ts";

/** One value in a key predicate. */
export type KeyLiteral =
  | { type: "string"; value: string }
  | { type: "enum"; enumType: string; value: string }
  | { type: "number"; value: number }
  | { type: "boolean"; value: boolean }
  | { type: "other"; raw: string };

/** A parsed key predicate. */
export type KeyPredicate =
  | { kind: "positional"; value: KeyLiteral }
  | { kind: "named"; pairs: { name: string; value: KeyLiteral }[] };

/** A parsed path below `/data/`. */
export interface ResourcePath {
  /** Entity set name as written (may be empty for the service document). */
  set: string;
  key?: KeyPredicate;
  /** The raw key predicate text (decoded), for error messages. */
  keyText?: string;
  /** Segments after the set or key, e.g. ["$count"]. */
  rest: string[];
}

/** Thrown for a malformed path; rendered as a 400 by the handler. */
export class KeySyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeySyntaxError";
  }
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  const literal = scanQuotedLiteral(text, start);
  if (!literal) throw new KeySyntaxError(`Unterminated string literal in key '${text}'.`);
  return literal;
}

function parseLiteral(text: string): KeyLiteral {
  const t = text.trim();
  if (t.startsWith("'")) {
    const { value, end } = readQuoted(t, 0);
    if (end !== t.length)
      throw new KeySyntaxError(`Unexpected text after a string literal in key '${text}'.`);
    return { type: "string", value };
  }
  const typed = /^([A-Za-z_][\w.]*)'/.exec(t);
  if (typed) {
    const typeName = typed[1] as string;
    const { value, end } = readQuoted(t, typeName.length);
    if (end !== t.length) throw new KeySyntaxError(`Unexpected text after a literal in key '${text}'.`);
    return { type: "enum", enumType: typeName, value };
  }
  if (/^-?\d+(\.\d+)?$/.test(t)) return { type: "number", value: Number(t) };
  if (t === "true" || t === "false") return { type: "boolean", value: t === "true" };
  return { type: "other", raw: t };
}

/** Splits the inside of a key predicate on commas outside string literals. */
function splitKeyParts(inner: string): string[] {
  const parts: string[] = [];
  let inString = false;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === "'") inString = !inString;
    else if (ch === "," && !inString) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts;
}

/** Parses the text between the parentheses of a key predicate. */
export function parseKeyPredicate(inner: string): KeyPredicate {
  if (inner.trim() === "") throw new KeySyntaxError("The key predicate is empty.");
  const parts = splitKeyParts(inner);
  const first = parts[0] as string;
  // A named pair starts with an identifier followed by '=' outside any literal.
  const named = /^\s*([A-Za-z_][\w]*)\s*=/.exec(first);
  if (!named) {
    if (parts.length > 1)
      throw new KeySyntaxError(`Positional composite keys are not supported: '${inner}'.`);
    return { kind: "positional", value: parseLiteral(first) };
  }
  const pairs = parts.map((part) => {
    const m = /^\s*([A-Za-z_][\w]*)\s*=(.*)$/s.exec(part);
    if (!m) throw new KeySyntaxError(`'${part.trim()}' is not 'name=value' in key '${inner}'.`);
    return { name: m[1] as string, value: parseLiteral(m[2] as string) };
  });
  return { kind: "named", pairs };
}

/**
 * Parses the path after `/data/` (still percent-encoded). Quotes, parentheses and slashes inside
 * string literals are respected after decoding.
 */
export function parseResourcePath(encodedPath: string): ResourcePath {
  let text: string;
  try {
    text = decodeURIComponent(encodedPath);
  } catch {
    throw new KeySyntaxError(`The path '${encodedPath}' is not valid percent-encoding.`);
  }
  let i = 0;
  while (i < text.length && text[i] !== "(" && text[i] !== "/") i++;
  const set = text.slice(0, i);
  const result: ResourcePath = { set, rest: [] };
  if (text[i] === "(") {
    const open = i;
    let inString = false;
    i++;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === "'") inString = !inString;
      else if (ch === ")" && !inString) break;
    }
    if (i >= text.length) throw new KeySyntaxError(`Missing ')' after the key in '${text}'.`);
    const inner = text.slice(open + 1, i);
    result.keyText = inner;
    result.key = parseKeyPredicate(inner);
    i++;
  }
  const tail = text.slice(i);
  if (tail !== "" && tail !== "/") {
    if (!tail.startsWith("/")) throw new KeySyntaxError(`Unexpected '${tail}' after the key.`);
    result.rest = tail
      .slice(1)
      .split("/")
      .filter((s) => s !== "");
  }
  return result;
}
