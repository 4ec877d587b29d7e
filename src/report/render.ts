/** Renders the access matrix as Markdown (pull-request comments) or a self-contained HTML page. */
import { htmlText as html, markdownText as md } from "./escape.ts";
import type { AccessMatrix, MatrixRow } from "./matrix.ts";

function userLabel(row: MatrixRow): string {
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

/** A self-contained HTML page with the same content. */
export function renderHtml(matrix: AccessMatrix, title = "Access report"): string {
  const head = matrix.columns.map((c) => `<th>${html(c.title)}</th>`).join("");
  const body = matrix.rows
    .map((row) => {
      const cells = matrix.columns
        .map((c) => {
          const entries = (row.cells[c.key] ?? []).map((e) => `<li>${html(e)}</li>`);
          const drift = row.drift?.[c.key];
          const marks = drift
            ? [
                ...drift.missing.map(
                  (x) => `<li class="missing" title="declared, not held">+ ${html(x)}</li>`,
                ),
                ...drift.extra.map((x) => `<li class="extra" title="held, not declared">− ${html(x)}</li>`),
              ]
            : [];
          const items = [...entries, ...marks];
          return `<td>${items.length ? `<ul>${items.join("")}</ul>` : "—"}</td>`;
        })
        .join("");
      return `<tr><th scope="row">${html(userLabel(row))}</th>${cells}</tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.4rem .6rem;vertical-align:top;text-align:left}
thead th{background:#f3f3f3}ul{margin:0;padding-left:1rem}
.missing{color:#0a6b2d;font-weight:600}.extra{color:#b3261e;font-weight:600}
</style></head><body>
<h1>${html(title)}</h1>
<table><thead><tr><th>User</th>${head}</tr></thead>
<tbody>
${body}
</tbody></table></body></html>
`;
}
