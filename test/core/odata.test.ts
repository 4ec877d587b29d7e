import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveUrl } from "../../providers/core/http.ts";
import {
  buildQuery,
  filter,
  odataEnum,
  odataGuid,
  odataKey,
  odataString,
} from "../../providers/core/odata.ts";

const HOSTILE = [
  "O'Brien",
  "a''b",
  "x' or 1 eq 1 or 'y",
  "a&b=c",
  "#frag",
  "a/b",
  "50%",
  "a+b c",
  "Zoë 名前 🙂",
  "tab\there",
  "nl\nx",
  "?q",
];

describe("odataString", () => {
  it("doubles single quotes and keeps everything else for the URL layer", () => {
    assert.equal(odataString("O'Brien"), "'O''Brien'");
    assert.equal(odataString("x' or 1 eq 1 or 'y"), "'x'' or 1 eq 1 or ''y'");
    assert.equal(odataString(""), "''");
  });
  it("round-trips every hostile string through a query (decode, then unquote)", () => {
    for (const s of HOSTILE) {
      const url = new URL(
        resolveUrl("https://h.test/data", "SystemUsers", { $filter: filter.eq("Alias", s).text }),
      );
      assert.equal(url.searchParams.size, 1, s); // nothing leaked into another parameter
      const f = url.searchParams.get("$filter") ?? "";
      assert.equal(url.hash, "", s);
      const m = /^Alias eq '(.*)'$/s.exec(f);
      assert.ok(m, `${s} -> ${f}`);
      assert.equal(m[1]?.replace(/''/g, "'"), s);
    }
  });
});

describe("odataGuid and odataEnum", () => {
  it("accepts only GUIDs and lower-cases them", () => {
    assert.equal(odataGuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"), "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    assert.throws(() => odataGuid("3f2504e0' or 'x"), /not a GUID/);
  });
  it("renders enum literals and refuses injection", () => {
    assert.equal(
      odataEnum("Microsoft.Dynamics.DataEntities", "NoYes", "Yes"),
      "Microsoft.Dynamics.DataEntities.NoYes'Yes'",
    );
    assert.throws(() => odataEnum("Microsoft.Dynamics.DataEntities", "NoYes", "Yes' or 'x"));
  });
});

describe("filter builder", () => {
  it("combines clauses with parentheses where needed", () => {
    const f = filter.and(
      filter.eq("a", 1),
      filter.or(filter.eq("b", true), filter.eq("c", null)),
      filter.eq("d", filter.guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301")),
    );
    assert.equal(f.text, "a eq 1 and (b eq true or c eq null) and d eq 3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    assert.equal(filter.anyOf("Name", ["x", "y'"]).text, "Name eq 'x' or Name eq 'y'''");
  });
  it("refuses property names that could inject", () => {
    assert.throws(() => filter.eq("a eq 1 or b", "x"), /invalid property/);
    assert.throws(() => filter.and("x eq 1" as never), /filter expressions/);
  });
});

describe("odataKey", () => {
  it("quotes, escapes and percent-encodes single and composite keys", () => {
    assert.equal(odataKey("abc"), "('abc')");
    assert.equal(odataKey("O'Brien"), "('O''Brien')");
    assert.equal(odataKey("a/b#c%d&e"), "('a%2Fb%23c%25d%26e')");
    assert.equal(
      odataKey({ UserId: "admin", SecurityRoleIdentifier: "-SYSADMIN-" }),
      "(UserId='admin',SecurityRoleIdentifier='-SYSADMIN-')",
    );
    assert.equal(
      odataKey(filter.guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301")),
      "(3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
    );
  });
  it("keeps hostile keys inside one path segment", () => {
    for (const s of HOSTILE) {
      const url = new URL(`https://h.test/data/SystemUsers${odataKey(s)}`);
      assert.equal(url.pathname.split("/").length, 3, s);
      assert.equal(url.search, "", s);
      assert.equal(
        decodeURIComponent(url.pathname.slice("/data/SystemUsers".length)),
        `('${s.replace(/'/g, "''")}')`,
      );
    }
  });
});

describe("buildQuery", () => {
  it("keeps $ readable in keys and encodes values", () => {
    assert.equal(
      buildQuery({ $select: "id,displayName", $top: "999" }),
      "?$select=id%2CdisplayName&$top=999",
    );
    assert.equal(buildQuery({}), "");
  });
});
