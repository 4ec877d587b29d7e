/** Renders the access matrix as Markdown (pull-request comments); the HTML page is html.ts. */
import { markdownText as md } from "./escape.ts";
import type { AccessMatrix, MatrixRow } from "./matrix.ts";

/** How a user is named in the reports: UPN, display name, state and personas. */
export function userLabel(row: MatrixRow): string {
  const personas = row.personas.length ? ` — ${row.personas.join(", ")}` : "";
  return `${row.upn} (${row.displayName}${row.enabled ? "" : ", disabled"})${personas}`;
}

function driftCount(matrix: AccessMatrix): number {
  let n = 0;
  for (const row of matrix.rows) {
    for (const d of Object.values(row.drift ?? {})) n += d.missing.length + d.extra.length;
  }
  return n;
}

/** Markdown: one table row per user; with drift, `+x` = declared but missing live, `−x` = live but not declared. */
export function renderMarkdown(matrix: AccessMatrix, title = "Access report"): string {
  const live = matrix.rows.some((r) => r.drift);
  const lines = [`## ${title}`, ""];
  lines.push(
    `${matrix.rows.length} users across ${matrix.columns.length} system columns.` +
      (live
        ? ` Drift from the live systems: ${driftCount(matrix)} entries (\`+\` declared but missing, \`−\` held but not declared).`
        : ""),
    "",
  );
  lines.push(`| User | ${matrix.columns.map((c) => md(c.title)).join(" | ")} |`);
  lines.push(`|---|${matrix.columns.map(() => "---").join("|")}|`);
  for (const row of matrix.rows) {
    const cells = matrix.columns.map((c) => {
      const entries = (row.cells[c.key] ?? []).map(md);
      const drift = row.drift?.[c.key];
      const marks = drift
        ? [...drift.missing.map((x) => `**+${md(x)}**`), ...drift.extra.map((x) => `**−${md(x)}**`)]
        : [];
      return [...entries, ...marks].join("<br>") || "—";
    });
    lines.push(`| ${md(userLabel(row))} | ${cells.join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}
