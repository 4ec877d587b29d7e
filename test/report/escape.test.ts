/**
 * The reports with hostile names (issue 16 item 6): names reach the Markdown and HTML reports
 * from the live systems too (report --live reads roles anyone may have created), so whatever they
 * hold must stay text in its cell: no markup, no link, no raw HTML, no line break, and no
 * invisible character that reorders or hides what a reviewer reads.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderHtml } from "../../src/report/html.ts";
import type { AccessMatrix } from "../../src/report/matrix.ts";
import { renderMarkdown } from "../../src/report/render.ts";

const HOSTILE = {
  bidi: "Invoice \u202Efdp.exe",
  isolate: "Clerk\u2066 System Administrator\u2069",
  zeroWidth: "Adele\u200BVance",
  bom: "\uFEFFBasic User",
  c1: "Next\u0085Line",
  html: "<img src=x onerror=alert(1)>",
  link: "[click](https://evil.example)",
  image: "![x](https://evil.example/p.png)",
  emphasis: "**admin** _all_ ~~none~~",
  code: "`rm -rf`",
  pipe: "a | b",
  newline: "two\n| forged | row |",
  entity: "&lt;script&gt;",
  quote: `"onmouseover="alert(1)`,
};

const matrix: AccessMatrix = {
  columns: [{ key: "x", system: "dataverse", title: "crm · <b>Dataverse</b>" }],
  rows: [
    {
      upn: "a@contoso.example",
      displayName: HOSTILE.bidi,
      enabled: true,
      personas: [],
      cells: { x: Object.values(HOSTILE) },
      drift: { x: { missing: [HOSTILE.html], extra: [HOSTILE.zeroWidth] } },
    },
  ],
};
const INVISIBLE = /[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe("reports with hostile names", () => {
  it("Markdown: every name stays text in its own cell", () => {
    const text = renderMarkdown(matrix);
    assert.doesNotMatch(text, INVISIBLE);
    assert.match(text, /Invoice \\\\u202Efdp\.exe/);
    assert.doesNotMatch(text, /<img|<b>/);
    assert.doesNotMatch(text, /(?<!\\)\]\(/, "no link or image");
    const rows = text.split("\n").filter((l) => l.startsWith("| a@"));
    assert.equal(rows.length, 1, "a line break cannot start a row");
    const values = (rows[0] ?? "").split("<br>").slice(1, Object.keys(HOSTILE).length);
    for (const value of values)
      assert.doesNotMatch(
        value,
        /(?<!\\)\*|(?<!\\)`|(?<!\\)~/,
        `no emphasis, code or strikethrough: ${value}`,
      );
    assert.match(text, /&amp;lt;script&amp;gt;/, "an entity is shown as typed");
    // Every | inside a value is escaped: the row has exactly its two cells.
    assert.equal(rows[0]?.split(/(?<!\\)\|/).length, 4);
  });

  it("HTML: every name is element text, attributes cannot be opened", () => {
    const text = renderHtml(matrix, { generatedAt: new Date(0), files: ["users.yaml"] });
    assert.doesNotMatch(text, INVISIBLE);
    assert.doesNotMatch(text, /<img|<b>|onmouseover="/);
    assert.match(text, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(text, /&quot;onmouseover=&quot;alert\(1\)/);
    assert.match(text, /Adele\\u200BVance/);
  });
});
