/**
 * Issue 17 item 4: the HTML access report is audit-grade — generated time, tenant, stack,
 * commit and files in its header, a legend, missing access in red and extra in amber (each also
 * marked in words), a role → users view, and every value escaped.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { renderHtml } from "../../src/report/html.ts";
import type { AccessMatrix } from "../../src/report/matrix.ts";
import { repo } from "../support/project.ts";

const matrix: AccessMatrix = {
  columns: [
    { key: "entra", system: "entra", title: "Entra licenses" },
    { key: "dataverse/env", system: "dataverse", environment: "env", title: "env · Dataverse" },
  ],
  rows: [
    {
      upn: "ann@contoso.example",
      displayName: `<script>alert("x")</script>`,
      enabled: true,
      personas: ["ap_clerk"],
      cells: { entra: ["DYN365_FINANCE"], "dataverse/env": ["Basic User", "R&D <Reader>"] },
      drift: {
        entra: { missing: [], extra: [] },
        "dataverse/env": { missing: ["R&D <Reader>"], extra: ["System Administrator"] },
      },
    },
    {
      upn: "bob@contoso.example",
      displayName: "Bob",
      enabled: false,
      personas: [],
      cells: { entra: [], "dataverse/env": ["Basic User"] },
      drift: { entra: { missing: [], extra: [] }, "dataverse/env": { missing: [], extra: [] } },
    },
  ],
};

const page = renderHtml(matrix, {
  generatedAt: new Date("2026-12-01T10:00:00Z"),
  tenant: "72f988bf-0000-4000-8000-00000000c0de",
  stack: "prod",
  commit: "0123456789abcdef",
  files: ["users.yaml"],
});

test("the header says when, from which tenant, stack, commit and files, and what was compared", () => {
  for (const fact of [
    "<dt>Generated</dt><dd>2026-12-01T10:00:00.000Z</dd>",
    "<dt>Tenant</dt><dd>72f988bf-0000-4000-8000-00000000c0de</dd>",
    "<dt>Stack</dt><dd>prod</dd>",
    "<dt>Commit</dt><dd>0123456789abcdef</dd>",
    "<dt>Declared in</dt><dd>users.yaml</dd>",
    "<dt>Compared with the live systems</dt><dd>yes: 1 missing, 1 extra</dd>",
  ])
    assert.ok(page.includes(fact), fact);
});

test("a legend, missing in red and extra in amber, each also said in words", () => {
  assert.match(page, /<h2>Legend<\/h2>/);
  assert.match(
    page,
    /<li class="missing">\+ entry \(missing\): declared in users.yaml, not held by the system \(red\)<\/li>/,
  );
  assert.match(
    page,
    /<li class="extra">− entry \(extra\): held by the system, not declared in users.yaml \(amber\)<\/li>/,
  );
  assert.match(page, /\.missing\{color:#b3261e;background:#fde7e9/, "missing is red");
  assert.match(page, /\.extra\{color:#7a4a00;background:#fff4ce/, "extra is amber");
  assert.ok(
    page.includes('<li class="missing" title="declared, not held">+ R&amp;D &lt;Reader&gt; (missing)</li>'),
  );
  assert.ok(
    page.includes('<li class="extra" title="held, not declared">− System Administrator (extra)</li>'),
  );
});

test("the role → users view lists, per system, each role with the users holding it", () => {
  const view = page.slice(page.indexOf("<h2>Access → users</h2>"));
  assert.match(
    view,
    /<h3>env · Dataverse<\/h3>[\s\S]*<tr><th scope="row">Basic User<\/th><td>2<\/td><td><ul><li>ann@contoso.example<\/li><li>bob@contoso.example<\/li><\/ul><\/td><\/tr>/,
  );
  assert.match(
    view,
    /<th scope="row">System Administrator<\/th><td>1<\/td><td><ul><li class="extra"[^>]*>− ann@contoso.example \(extra\)<\/li>/,
  );
  assert.match(view, /<th scope="row">DYN365_FINANCE<\/th><td>1<\/td>/);
});

test("every value is escaped", () => {
  assert.ok(!page.includes("<script>"), "a display name became markup");
  assert.ok(page.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  assert.ok(!/R&D|<Reader>/.test(page));
});

test("`report --format html` stamps the checkout's commit and the time it ran", () => {
  const before = Date.now();
  const out = execFileSync(path.join(repo, "bin", "d365-access"), ["report", "--format", "html"], {
    cwd: repo,
    encoding: "utf8",
  });
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
  assert.match(out, new RegExp(`<dt>Commit</dt><dd>${commit}( \\(with uncommitted changes\\))?</dd>`));
  const generated = /<dt>Generated<\/dt><dd>([^<]+)<\/dd>/.exec(out)?.[1] ?? "";
  assert.ok(Date.parse(generated) >= before - 1000 && Date.parse(generated) <= Date.now(), generated);
  assert.match(out, /<dt>Stack<\/dt><dd>not read \(declared access only\)<\/dd>/);
  assert.match(out, /<h2>Access → users<\/h2>/);
});
