/**
 * The OData lexer: turns a `$filter` text into tokens (identifiers, quoted strings with `''`
 * escapes, numbers, GUIDs, date-times, typed literals such as qualified enums) and reports the
 * position of anything it cannot read. OData v4.01 ABNF
 * (https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html).
 */

/** A `$filter`/query-option syntax error, with the 0-based position in the option's text. */
export class ODataSyntaxError extends Error {
  /** Position in `text` where parsing failed. */
  readonly position: number;
  /** The text that was being parsed. */
  readonly text: string;
  /** The query option at fault, e.g. `$filter`, when known. */
  option: string | undefined;
  constructor(message: string, text: string, position: number, option?: string) {
    super(message);
    this.name = "ODataSyntaxError";
    this.text = text;
    this.position = position;
    this.option = option;
  }
}

/** One token of a `$filter` text, with its 0-based position. */
export type Token =
  | { t: "ident"; v: string; pos: number }
  | { t: "string"; v: string; pos: number }
  | { t: "number"; v: string; pos: number }
  | { t: "guid"; v: string; pos: number }
  | { t: "datetime"; v: string; pos: number }
  | { t: "typed"; type: string; v: string; pos: number }
  | { t: "punct"; v: "(" | ")" | "," | "/" | ":"; pos: number }
  | { t: "end"; pos: number };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/;
/** A date or date-time literal (also how the evaluator recognises date strings). */
export const DATETIME =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?(?![\w:.-])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w.])/;
const IDENT = /^[A-Za-z_$@][A-Za-z0-9_.]*/;

/**
 * Reads the single-quoted literal whose opening quote is at `start`; `''` inside stands for one
 * quote (ABNF SQUOTE-in-string). `end` is the index after the closing quote; `undefined` means the
 * literal is unterminated (each caller reports that in its own service's terms).
 */
export function scanQuotedLiteral(text: string, start: number): { value: string; end: number } | undefined {
  let i = start + 1;
  let out = "";
  for (;;) {
    const ch = text[i];
    if (ch === undefined) return undefined;
    if (ch === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    out += ch;
    i++;
  }
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  const literal = scanQuotedLiteral(text, start);
  if (!literal) throw new ODataSyntaxError(`Unterminated string literal at position ${start}.`, text, start);
  return literal;
}

/** Tokenizes a `$filter` text; the last token is always `end`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === "," || ch === "/" || ch === ":") {
      tokens.push({ t: "punct", v: ch, pos: i });
      i++;
      continue;
    }
    if (ch === "'") {
      const { value, end } = readQuoted(text, i);
      tokens.push({ t: "string", v: value, pos: i });
      i = end;
      continue;
    }
    const rest = text.slice(i);
    const guid = GUID.exec(rest);
    if (guid) {
      tokens.push({ t: "guid", v: guid[0], pos: i });
      i += guid[0].length;
      continue;
    }
    const dt = DATETIME.exec(rest);
    if (dt && /[T-]/.test(dt[0].slice(4))) {
      tokens.push({ t: "datetime", v: dt[0], pos: i });
      i += dt[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ t: "number", v: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      const name = id[0];
      if (text[i + name.length] === "'") {
        // A typed literal: qualified enum `Ns.Type'Member'`, or `guid'…'` / `datetime'…'` (v3 forms).
        const { value, end } = readQuoted(text, i + name.length);
        tokens.push({ t: "typed", type: name, v: value, pos: i });
        i = end;
        continue;
      }
      if (name.endsWith(".")) {
        throw new ODataSyntaxError(`Syntax error at position ${i + name.length}: unexpected '.'.`, text, i);
      }
      tokens.push({ t: "ident", v: name, pos: i });
      i += name.length;
      continue;
    }
    throw new ODataSyntaxError(`Syntax error: character '${ch}' is not valid at position ${i}.`, text, i);
  }
  tokens.push({ t: "end", pos: text.length });
  return tokens;
}
