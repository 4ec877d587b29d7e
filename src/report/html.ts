/**
 * The access report as a self-contained HTML page an auditor can file: when it was generated,
 * from which tenant, stack, commit and files; a legend; the users × systems matrix; and the
 * same access turned around, each role (license, account) → the users holding it. With live
 * drift, missing access (declared, not held) is red and extra access (held, not declared)
 * amber, each also marked by sign and words so the page reads without colour. Every value is
 * escaped.
 */
import { htmlText } from "./escape.ts";
import type { AccessMatrix, MatrixColumn, MatrixRow } from "./matrix.ts";
import { userLabel } from "./render.ts";

/** Where the report comes from, shown in its header. */
export interface ReportMeta {
  generatedAt: Date;
  /** The tenant read (live) or undefined when only users.yaml was read. */
  tenant?: string | undefined;
  /** The stack whose systems were read, or undefined. */
  stack?: string | undefined;
  /** The checkout's commit, e.g. `3f2c1ab (uncommitted changes)`; undefined outside git. */
  commit?: string | undefined;
  /** The users.yaml files the matrix was declared in. */
  files: string[];
}

/** Escapes text for HTML content and attribute values (escape.ts: invisible characters shown too). */
export const escapeHtml = htmlText;
const h = htmlText;

const missingItem = (x: string) => `<li class="missing" title="declared, not held">+ ${h(x)} (missing)</li>`;
const extraItem = (x: string) => `<li class="extra" title="held, not declared">− ${h(x)} (extra)</li>`;

function cellHtml(row: MatrixRow, column: MatrixColumn): string {
  const drift = row.drift?.[column.key];
  const missing = new Set((drift?.missing ?? []).map((x) => x.toLowerCase()));
  const items = [
    ...(row.cells[column.key] ?? []).map((e) =>
      missing.has(e.toLowerCase()) ? missingItem(e) : `<li>${h(e)}</li>`,
    ),
    ...(drift?.extra ?? []).map(extraItem),
  ];
  return `<td>${items.length ? `<ul>${items.join("")}</ul>` : "—"}</td>`;
}

/** Per column: entry → the users holding it (declared, missing or extra), in first-seen order. */
function byEntry(matrix: AccessMatrix, column: MatrixColumn): Map<string, { upn: string; state: string }[]> {
  const entries = new Map<string, { upn: string; state: string }[]>();
  const add = (entry: string, upn: string, state: string) => {
    const list = entries.get(entry) ?? [];
    list.push({ upn, state });
    entries.set(entry, list);
  };
  for (const row of matrix.rows) {
    const drift = row.drift?.[column.key];
    const missing = new Set((drift?.missing ?? []).map((x) => x.toLowerCase()));
    for (const e of row.cells[column.key] ?? [])
      add(e, row.upn, missing.has(e.toLowerCase()) ? "missing" : "");
    for (const e of drift?.extra ?? []) add(e, row.upn, "extra");
  }
  return new Map([...entries].sort(([a], [b]) => a.localeCompare(b)));
}

function roleView(matrix: AccessMatrix): string {
  return matrix.columns
    .map((column) => {
      const rows = [...byEntry(matrix, column)].map(([entry, users]) => {
        const list = users
          .map(({ upn, state }) =>
            state === "missing"
              ? missingItem(upn)
              : state === "extra"
                ? extraItem(upn)
                : `<li>${h(upn)}</li>`,
          )
          .join("");
        return `<tr><th scope="row">${h(entry)}</th><td>${users.length}</td><td><ul>${list}</ul></td></tr>`;
      });
      return `<h3>${h(column.title)}</h3>\n${
        rows.length
          ? `<table class="roles"><thead><tr><th>Access</th><th>Users</th><th>Who</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`
          : "<p>—</p>"
      }`;
    })
    .join("\n");
}

/** The HTML page. */
export function renderHtml(matrix: AccessMatrix, meta: ReportMeta, title = "Access report"): string {
  const live = matrix.rows.some((r) => r.drift);
  let missing = 0;
  let extra = 0;
  for (const row of matrix.rows)
    for (const d of Object.values(row.drift ?? {})) {
      missing += d.missing.length;
      extra += d.extra.length;
    }
  const facts: [string, string][] = [
    ["Generated", meta.generatedAt.toISOString()],
    ["Tenant", meta.tenant ?? "not read (declared access only)"],
    ["Stack", meta.stack ?? "not read (declared access only)"],
    ["Commit", meta.commit ?? "unknown (not a git checkout)"],
    ["Declared in", meta.files.join(", ")],
    [
      "Compared with the live systems",
      live ? `yes: ${missing} missing, ${extra} extra` : "no (run report --live to compare)",
    ],
  ];
  const head = matrix.columns.map((c) => `<th scope="col">${h(c.title)}</th>`).join("");
  const body = matrix.rows
    .map(
      (row) =>
        `<tr><th scope="row">${h(userLabel(row))}</th>${matrix.columns.map((c) => cellHtml(row, c)).join("")}</tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#1b1b1b}table{border-collapse:collapse;margin-bottom:1.5rem}
th,td{border:1px solid #ccc;padding:.4rem .6rem;vertical-align:top;text-align:left}
thead th{background:#f3f3f3}ul{margin:0;padding-left:1rem}dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dl.meta dt{font-weight:600}
.missing{color:#b3261e;background:#fde7e9;font-weight:600}.extra{color:#7a4a00;background:#fff4ce;font-weight:600}
</style></head><body>
<h1>${h(title)}</h1>
<dl class="meta">
${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join("\n")}
</dl>
<h2>Legend</h2>
<ul class="legend">
<li>plain entry: declared in users.yaml${live ? " and held" : ""}</li>
<li class="missing">+ entry (missing): declared in users.yaml, not held by the system (red)</li>
<li class="extra">− entry (extra): held by the system, not declared in users.yaml (amber)</li>
<li>—: nothing in that system</li>
</ul>
<h2>Users</h2>
<p>${matrix.rows.length} users across ${matrix.columns.length} system columns.</p>
<table class="matrix"><thead><tr><th scope="col">User</th>${head}</tr></thead>
<tbody>
${body}
</tbody></table>
<h2>Access → users</h2>
${roleView(matrix)}
</body></html>
`;
}
