/**
 * The pull-request comment of a preview: what the pull request changes in declared access (the
 * users.yaml of the base branch against the pull request's), then what the engine will do (the
 * preview's own output). Pure: `d365-access preview-comment` reads the files, the workflow posts
 * the text (examples/github/access-preview.yml).
 */
import type { DesiredState } from "../model/desired.ts";
import { neutralize } from "../model/diagnostics.ts";
import { markdownText } from "./escape.ts";
import { type AccessMatrix, desiredMatrix } from "./matrix.ts";

/** First line of every comment: the workflow finds its own comment by it, to update it in place. */
export function commentMarker(stack: string): string {
  return `<!-- d365-access preview-comment stack=${stack} -->`;
}

/** The words of a privileged-outsider warning (matrix.ts `privilegedWarning`), found in the preview. */
const PRIVILEGED = " holds privileged role ";

/** GitHub refuses comment bodies over 65,536 characters; the rest of the preview stays in the log. */
export const MAX_COMMENT_LENGTH = 65_536;

/** One column of one user whose declared access changes. */
export interface ColumnChange {
  /** e.g. "Entra licenses", "contoso-demo · F&O". */
  column: string;
  granted: string[];
  revoked: string[];
}

/** A user whose declared access changes between the base and the pull request. */
export interface UserChange {
  upn: string;
  /** `added`: new in users.yaml; `removed`: no longer declared (its access is revoked). */
  kind: "added" | "removed" | "changed";
  /** Set when the account is enabled or disabled by the change. */
  enabled?: boolean;
  columns: ColumnChange[];
}

type Held = Map<string, { upn: string; enabled: boolean; cells: Map<string, string[]> }>;

function held(matrix: AccessMatrix | undefined): Held {
  const users: Held = new Map();
  for (const row of matrix?.rows ?? []) {
    const cells = new Map<string, string[]>();
    for (const column of matrix?.columns ?? []) {
      const entries = row.cells[column.key] ?? [];
      if (entries.length) cells.set(column.title, entries);
    }
    users.set(row.upn.toLowerCase(), { upn: row.upn, enabled: row.enabled, cells });
  }
  return users;
}

/** Entries of `a` not in `b`, compared case-insensitively (UPNs, role names). */
function minus(a: string[], b: string[]): string[] {
  const other = new Set(b.map((x) => x.toLowerCase()));
  return a.filter((x) => !other.has(x.toLowerCase()));
}

/**
 * The declared access changes, per user and column, sorted by UPN. `base` is undefined when the
 * base branch has no users.yaml yet (everything is added).
 */
export function accessChanges(base: DesiredState | undefined, head: DesiredState): UserChange[] {
  const before = held(base ? desiredMatrix(base) : undefined);
  const after = held(desiredMatrix(head));
  const changes: UserChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const old = before.get(key);
    const now = after.get(key);
    const titles = [...new Set([...(old?.cells.keys() ?? []), ...(now?.cells.keys() ?? [])])];
    const columns = titles
      .map((column) => {
        const was = old?.cells.get(column) ?? [];
        const is = now?.cells.get(column) ?? [];
        return { column, granted: minus(is, was), revoked: minus(was, is) };
      })
      .filter((c) => c.granted.length || c.revoked.length);
    const kind = !old ? "added" : !now ? "removed" : "changed";
    const enabledChanged = old && now && old.enabled !== now.enabled;
    if (kind === "changed" && !columns.length && !enabledChanged) continue;
    changes.push({
      upn: (now ?? old)?.upn ?? key,
      kind,
      ...(enabledChanged ? { enabled: now.enabled } : {}),
      columns,
    });
  }
  return changes;
}

/** How the preview step ended, as GitHub reports a step's outcome. */
export type PreviewOutcome = "success" | "failure" | "cancelled" | "skipped";

export interface PreviewCommentInput {
  stack: string;
  /** Declared changes; undefined when users.yaml of the pull request does not load. */
  changes?: UserChange[];
  /** The validator's messages when users.yaml of the pull request has errors. */
  errors?: string;
  /** The preview's output (ANSI colours are removed) and outcome. */
  preview: { output: string; outcome: PreviewOutcome };
  /** Link to the workflow run, for the full log. */
  runUrl?: string;
  /** Cap on the whole body; default {@link MAX_COMMENT_LENGTH}. */
  maxLength?: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Markdown-safe text for a table cell. */
const cell = markdownText;

/** A fenced block that the text cannot close early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${neutralize(text)}\n${fence}`;
}

/** The engine's closing `Resources:` block (`~ 2 to update`, `16 unchanged`), one line. */
export function resourceSummary(output: string): string | undefined {
  const lines = output.split("\n");
  const start = lines.findLastIndex((l) => /^Resources:\s*$/.test(l.trim()));
  if (start < 0) return undefined;
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) break;
    items.push(line.trim());
  }
  return items.length ? items.join(", ") : undefined;
}

function changesTable(changes: UserChange[]): string[] {
  if (!changes.length)
    return ["No declared access changes: users.yaml grants and revokes the same as on the base branch."];
  const users = changes.length === 1 ? "1 user" : `${changes.length} users`;
  const lines = [
    `**${users}** change access in users.yaml:`,
    "",
    "| User | Where | Granted | Revoked |",
    "|---|---|---|---|",
  ];
  for (const change of changes) {
    const label =
      change.kind === "added"
        ? `${change.upn} (new)`
        : change.kind === "removed"
          ? `${change.upn} (removed from users.yaml)`
          : change.upn;
    const rows: string[][] = change.columns.map((c) => [
      c.column,
      c.granted.map(cell).join("<br>"),
      c.revoked.map(cell).join("<br>"),
    ]);
    if (change.enabled !== undefined) {
      rows.unshift(
        change.enabled ? ["Account", "sign-in (enabled)", ""] : ["Account", "", "sign-in (disabled)"],
      );
    }
    if (!rows.length) rows.push(["—", "", ""]);
    rows.forEach(([where, granted, revoked], i) => {
      lines.push(
        `| ${i === 0 ? cell(label) : ""} | ${cell(where ?? "")} | ${granted || "—"} | ${revoked || "—"} |`,
      );
    });
  }
  return lines;
}

/**
 * Cuts lines out of the middle of `text` until it fits `budget` characters, keeping its start
 * (the resource steps) and its end (diagnostics, outputs, the Resources block) in equal shares.
 */
function shorten(text: string, budget: number): string {
  const lines = text.split("\n");
  const take = (from: string[]) => {
    const kept: string[] = [];
    let size = 0;
    for (const line of from) {
      if (size + line.length + 1 > budget / 2) break;
      kept.push(line);
      size += line.length + 1;
    }
    return kept;
  };
  const start = take(lines);
  const end = take(lines.slice(start.length).reverse()).reverse();
  const omitted = lines.length - start.length - end.length;
  return [
    ...start,
    `… ${omitted} lines left out to fit a comment; the run's log has them all …`,
    ...end,
  ].join("\n");
}

/** The whole comment, within {@link MAX_COMMENT_LENGTH}. */
export function renderPreviewComment(input: PreviewCommentInput): string {
  const { stack, preview } = input;
  const output = preview.output.replace(ANSI, "").replace(/\r\n?/g, "\n").trimEnd();
  const summary = preview.outcome === "success" ? resourceSummary(output) : undefined;
  const status =
    preview.outcome === "success"
      ? `preview succeeded${summary ? `: ${summary}` : ""}`
      : preview.outcome === "skipped"
        ? "not previewed"
        : preview.outcome === "cancelled"
          ? "preview cancelled"
          : "**preview failed**: nothing can be applied until it passes";

  const head = [commentMarker(stack), `## Access preview · stack \`${stack}\``, "", `${status}.`, ""];
  if (input.errors !== undefined) {
    head.push(
      "**users.yaml has errors** (annotated on the diff); nothing was previewed:",
      "",
      fenced(input.errors.trimEnd()),
      "",
    );
  } else if (input.changes) {
    head.push(...changesTable(input.changes), "");
  }
  const privileged = [
    ...new Set(
      output
        .split("\n")
        .filter((l) => l.includes(PRIVILEGED))
        .map((l) => l.trim()),
    ),
  ];
  if (privileged.length)
    head.push(
      `**Privileged access outside users.yaml** (${privileged.length}):`,
      "",
      ...privileged.map((l) => `- ⚠ ${cell(l.replace(/^warning:\s*/, ""))}`),
      "",
    );
  const footer = input.runUrl ? `\n[Full log of this run](${input.runUrl})\n` : "\n";
  if (preview.outcome === "skipped" || !output) return `${head.join("\n")}${footer}`;

  const title =
    preview.outcome === "success" ? "What the engine will do (pulumi preview)" : "The preview's output";
  const open = preview.outcome === "success" ? "<details>" : "<details open>";
  const frame = (text: string) =>
    `${head.join("\n")}\n${open}<summary>${title}</summary>\n\n${fenced(text)}\n\n</details>\n${footer}`;
  const max = input.maxLength ?? MAX_COMMENT_LENGTH;
  const text =
    frame(output).length > max ? shorten(output, Math.max(0, max - frame("").length - 100)) : output;
  return frame(text);
}
