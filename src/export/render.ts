/**
 * `export`, the writing part: an {@link ExportResult} as users.yaml text, built with the `yaml`
 * package's Document API so that comments sit where they belong (above a user, above `users`),
 * short lists stay on one line, and sections are separated by a blank line, as the repository's
 * own users.yaml is written. With a split key, one main file (environments, personas, defaults)
 * and one included file of users per value of the key.
 */
import path from "node:path";
import { Document, isMap, isScalar, isSeq, visit, type YAMLMap } from "yaml";
import type { ExportedUser, ExportResult } from "./build.ts";

/** A rendered file: its path relative to the output directory, and its text. */
export interface RenderedFile {
  file: string;
  text: string;
}

/** Options of {@link renderExport}. */
export interface RenderOptions {
  /** Absolute path of the main file. */
  out: string;
  /** Absolute path of the repository's schemas/users.schema.json (for the header line). */
  schema: string;
  /** Group users into included files by this attribute (e.g. `company`). */
  splitBy?: string;
  /** Lines for the header, after the schema line (what was read, when). */
  header: string[];
}

/** How the repository writes YAML: no wrapping, `[a, b]` without inner padding. */
const FORMAT = { lineWidth: 0, flowCollectionPadding: false } as const;

const LEFT_OUT =
  "Left out on purpose (Microsoft's preconfigured accounts: https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/pre-configured-system-accounts):";

const comment = (lines: readonly string[]) => lines.map((l) => (l ? ` ${l}` : "")).join("\n");

function schemaLine(file: string, schema: string): string {
  const relative = path.relative(path.dirname(file), schema).split(path.sep).join("/");
  return `yaml-language-server: $schema=${relative.startsWith(".") ? relative : `./${relative}`}`;
}

function newDocument(value: unknown, header: string[]): Document {
  const doc = new Document(value);
  doc.commentBefore = comment(header);
  // Lists of scalars on one line ([a, b]); mappings and lists of mappings in block style.
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items.slice(1)) {
      if (isScalar(pair.key)) pair.key.spaceBefore = true;
    }
  }
  return doc;
}

/** Puts each user's comments above its entry. */
function annotateUsers(doc: Document, users: readonly ExportedUser[], skipped: readonly string[]): void {
  const seq = doc.get("users", true);
  if (!isSeq(seq)) return;
  seq.items.forEach((item, i) => {
    const lines = users[i]?.comments ?? [];
    if (lines.length && isMap(item)) (item as YAMLMap).commentBefore = comment(lines);
  });
  const pair = isMap(doc.contents)
    ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "users")
    : undefined;
  if (pair && isScalar(pair.key) && skipped.length)
    pair.key.commentBefore = comment([LEFT_OUT, ...skipped.map((s) => `  ${s}`)]);
}

/** A file name for a split value: lower case, letters, digits and `-`. */
export function splitFileName(value: string | undefined): string {
  const name = (value ?? "")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `${name || "unassigned"}.yaml`;
}

/** Renders the export as one file, or as a main file and one included file per split value. */
export function renderExport(result: ExportResult, options: RenderOptions): RenderedFile[] {
  const users = result.users.map((u) => u.body);
  const main: Record<string, unknown> = { version: 1, ...result.top };
  if (Object.keys(result.environments).length) main.environments = result.environments;
  if (Object.keys(result.defaults).length) main.defaults = result.defaults;
  if (result.personas.length)
    main.personas = Object.fromEntries(result.personas.map((p) => [p.name, p.body]));
  const header = [schemaLine(options.out, options.schema), "", ...options.header];
  if (!options.splitBy) {
    const doc = newDocument({ ...main, users }, header);
    annotateUsers(doc, result.users, result.skipped);
    return [{ file: path.basename(options.out), text: doc.toString(FORMAT) }];
  }
  const key = options.splitBy;
  const groups = new Map<string, ExportedUser[]>();
  for (const u of result.users) {
    const file = path.posix.join("users", splitFileName(u.attributes[key]));
    groups.set(file, [...(groups.get(file) ?? []), u]);
  }
  const files = [...groups.keys()].sort();
  const mainDoc = newDocument({ ...main, include: files }, [
    ...header,
    "",
    `Users are in the included files, one per ${key}.`,
    ...(result.skipped.length ? ["", LEFT_OUT] : []),
    ...result.skipped.map((s) => `  ${s}`),
  ]);
  const out: RenderedFile[] = [{ file: path.basename(options.out), text: mainDoc.toString(FORMAT) }];
  for (const file of files) {
    const members = groups.get(file) ?? [];
    const absolute = path.join(path.dirname(options.out), file);
    const doc = newDocument({ users: members.map((u) => u.body) }, [
      schemaLine(absolute, options.schema),
      "",
      `Users whose ${key} is ${members[0]?.attributes[key] ?? "not set"} (included by ${path.basename(options.out)}).`,
    ]);
    annotateUsers(doc, members, []);
    out.push({ file, text: doc.toString(FORMAT) });
  }
  return out;
}
