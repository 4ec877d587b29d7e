/**
 * Reading one YAML file with positions kept: size and encoding checks, the `yaml` document API
 * (duplicate keys, alias bound, string keys), and mapping paths back to line:col.
 */
import { readFileSync, statSync } from "node:fs";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { Diagnostic } from "./desired.ts";
import { formatPath, type PathSegment, quote } from "./diagnostics.ts";

/** Largest file accepted; a 10,000-user file is about 2 MiB, so this leaves room without inviting abuse. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Most alias expansions `yaml` performs while building values (its count × nested-alias count).
 * Sharing a role list through an anchor across a few thousand users stays well below it; an
 * exponential "billion laughs" document exceeds it after a few levels.
 */
export const MAX_ALIAS_COUNT = 10_000;

/** One parsed YAML file. */
export interface SourceFile {
  /** Path as shown in diagnostics: relative to the working directory, forward slashes. */
  file: string;
  /** Absolute path. */
  absPath: string;
  /** The parsed document (undefined when the file could not be read). */
  doc?: ReturnType<typeof parseDocument>;
  lineCounter: LineCounter;
  /** Plain JavaScript value of the document; undefined when reading or parsing failed. */
  value?: unknown;
}

/** A position plus the path it was computed for. */
export interface Located {
  line: number;
  col: number;
}

function fileDiagnostic(file: string, code: string, message: string, line = 1, col = 1): Diagnostic {
  return { severity: "error", code, file, line, col, path: "", message };
}

const yamlMessages: Record<string, string> = {
  TAB_AS_INDENT: "tab character used for indentation; YAML indents with spaces only",
  MULTIPLE_DOCS:
    "the file holds more than one YAML document ('---'); use one document per file and `include` for more",
  NON_STRING_KEY: "mapping keys must be plain strings",
  BLOCK_AS_IMPLICIT_KEY:
    "': ' inside a value starts a nested mapping, which is not allowed here; put the value in quotes",
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line (is a ':' missing, or a quote not closed?)",
  BAD_DQ_ESCAPE: "invalid escape sequence in a double-quoted string",
  KEY_OVER_1024_CHARS: "a key is longer than 1024 characters",
  BAD_ALIAS: "alias to an anchor that is not defined before it",
  TAG_RESOLVE_FAILED: "custom YAML tags are not supported; remove the tag",
};

/** Reads and parses one file, appending diagnostics for anything that stops it from being used. */
export function readSourceFile(absPath: string, file: string, diagnostics: Diagnostic[]): SourceFile {
  const lineCounter = new LineCounter();
  const source: SourceFile = { file, absPath, lineCounter };
  let bytes: Buffer;
  try {
    const size = statSync(absPath).size;
    if (size > MAX_FILE_BYTES) {
      diagnostics.push(
        fileDiagnostic(
          file,
          "file-too-large",
          `the file is ${(size / 1048576).toFixed(1)} MiB; the limit is ${MAX_FILE_BYTES / 1048576} MiB (split it with \`include\`)`,
        ),
      );
      return source;
    }
    bytes = readFileSync(absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : `cannot read the file (${code ?? "error"})`;
    diagnostics.push(fileDiagnostic(file, "file-unreadable", why));
    return source;
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    diagnostics.push(fileDiagnostic(file, "encoding", "the file is UTF-16; save it as UTF-8"));
    return source;
  }
  // A UTF-8 byte order mark is accepted and dropped: editors on Windows add it, and it is
  // invisible, so columns are counted as the editor shows them (after the mark).
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start));
  } catch {
    diagnostics.push(fileDiagnostic(file, "encoding", "the file is not valid UTF-8 text"));
    return source;
  }
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    stringKeys: true,
    merge: false,
    schema: "core",
  });
  source.doc = doc;
  const pos = (offset: number) => lineCounter.linePos(offset);
  const reported = new Set<number>();
  for (const problem of [...doc.errors, ...doc.warnings]) {
    // One finding per place: a single slip often trips several parser rules at once.
    if (reported.has(problem.pos[0])) continue;
    reported.add(problem.pos[0]);
    const { line, col } = pos(problem.pos[0]);
    const own = problem.message.split("\n")[0] ?? "";
    let message =
      yamlMessages[problem.code] ?? `YAML syntax error: ${own.charAt(0).toLowerCase()}${own.slice(1)}`;
    if (problem.code === "DUPLICATE_KEY")
      message = duplicateKeyMessage(doc, problem.pos[0], text, lineCounter);
    if (problem.code === "TAG_RESOLVE_FAILED")
      message = `${message} (${quote(text.slice(problem.pos[0], problem.pos[1]).split(/\s/)[0])})`;
    diagnostics.push(fileDiagnostic(file, "yaml-syntax", message, line, col));
  }
  if (doc.errors.length > 0 || doc.warnings.length > 0) return source;
  if (doc.contents === null) {
    // Read as "no users", an emptied file would revoke everyone: say so instead.
    diagnostics.push(
      fileDiagnostic(
        file,
        "empty-file",
        "the file is empty (nothing but comments or blank lines), so it declares nobody; " +
          "write `version: 1` and the `users:` it manages (`users: []` to remove everyone on purpose)",
        1,
        1,
      ),
    );
    return source;
  }
  try {
    source.value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError && /excessive alias count/i.test(err.message)) {
      const at = firstAlias(doc);
      const where = at === undefined ? { line: 1, col: 1 } : pos(at);
      diagnostics.push(
        fileDiagnostic(
          file,
          "alias-bomb",
          `anchors and aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias expansions); refusing a possible alias bomb`,
          where.line,
          where.col,
        ),
      );
    } else {
      const unresolved = /Unresolved alias.*?: (.*)$/.exec((err as Error).message)?.[1];
      const offset = unresolved === undefined ? undefined : firstAlias(doc, unresolved);
      const where = offset === undefined ? { line: 1, col: 1 } : pos(offset);
      diagnostics.push(
        fileDiagnostic(
          file,
          "yaml-syntax",
          unresolved !== undefined
            ? `alias *${unresolved} refers to no anchor &${unresolved} defined before it`
            : `YAML error: ${(err as Error).message}`,
          where.line,
          where.col,
        ),
      );
    }
  }
  return source;
}

function firstAlias(doc: ReturnType<typeof parseDocument>, name?: string): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (name !== undefined && node.source !== name) return undefined;
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

function duplicateKeyMessage(
  doc: ReturnType<typeof parseDocument>,
  offset: number,
  text: string,
  lc: LineCounter,
): string {
  let message: string | undefined;
  visit(doc, {
    Map(_, map) {
      const index = map.items.findIndex((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (index < 0) return undefined;
      const pair = map.items[index];
      const key = isScalar(pair?.key) ? String(pair.key.value) : text.slice(offset, offset + 40);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const firstAt = isScalar(first?.key) && first.key.range ? lc.linePos(first.key.range[0]) : undefined;
      message = `duplicate key ${quote(key)}${firstAt ? ` (first defined at line ${firstAt.line})` : ""}`;
      return visit.BREAK;
    },
  });
  return message ?? "duplicate key in a mapping";
}

/**
 * Position of the node at `path` (`target: "key"` = the mapping key, for unknown and duplicate
 * keys). Aliases are followed into their anchor. When the path does not fully exist, the deepest
 * existing node is used.
 */
export function locate(
  source: SourceFile,
  path: readonly PathSegment[],
  target: "key" | "value" = "value",
): Located {
  const doc = source.doc;
  if (!doc) return { line: 1, col: 1 };
  let node: unknown = doc.contents;
  let offset = 0;
  const at = (n: unknown): number | undefined => (n as Node | null)?.range?.[0];
  offset = at(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (!pair) break;
      const keyAt = at(pair.key);
      if (last && target === "key") {
        offset = keyAt ?? offset;
        break;
      }
      const valueAt = at(pair.value);
      // `key:` with no value: point at the key, the value has no text of its own.
      offset =
        valueAt !== undefined && isScalar(pair.value) && pair.value.value === null && pair.value.source === ""
          ? (keyAt ?? offset)
          : (valueAt ?? keyAt ?? offset);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = at(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, col };
}

/** Builds a diagnostic located at `path` in `source`. */
export function diagnosticAt(
  source: SourceFile,
  path: readonly PathSegment[],
  severity: Diagnostic["severity"],
  code: string,
  message: string,
  target: "key" | "value" = "value",
): Diagnostic {
  const { line, col } = locate(source, path, target);
  return { severity, code, file: source.file, line, col, path: formatPath(path), message };
}
