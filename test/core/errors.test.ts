import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, errorFromResponse, isApiError, parseErrorBody } from "../../providers/core/errors.ts";

/** A service without a dialect: the common shape only. */
const PLAIN = { name: "plain" };

describe("parseErrorBody", () => {
  it("survives empty and HTML bodies", () => {
    assert.equal(parseErrorBody(PLAIN, 503, "").message, "Service unavailable");
    assert.equal(parseErrorBody(PLAIN, 500, "<html>oops</html>").message, "Internal server error");
  });
  it("reads the common OData shape, the request id headers and gives a generic hint", () => {
    const p = parseErrorBody(
      PLAIN,
      403,
      { error: { code: "Denied", message: "no" } },
      { "x-ms-request-id": "r-1" },
    );
    assert.deepEqual([p.code, p.message, p.requestId, p.kind], ["Denied", "no", "r-1", "Forbidden"]);
    assert.match(p.hint ?? "", /permission/);
    assert.match(parseErrorBody(PLAIN, 302, "").hint ?? "", /redirected to sign-in/);
  });
  it("lets a service dialect read its own fields, kinds and hints", () => {
    const dialect = {
      name: "x",
      errors: {
        parse: () => ({ requestId: "in-body" }),
        classify: ({ code }: { code: string }) => (code === "Gone" ? ("NotFound" as const) : undefined),
        hint: () => "do this",
      },
    };
    const p = parseErrorBody(dialect, 400, { error: { code: "Gone", message: "m" } }, { "request-id": "h" });
    assert.deepEqual([p.requestId, p.kind, p.hint], ["in-body", "NotFound", "do this"]);
  });
});

describe("ApiError", () => {
  it("prints one actionable line without tokens", () => {
    const e = errorFromResponse(
      { name: "entra" },
      401,
      {
        error: {
          code: "InvalidAuthenticationToken",
          message:
            "Access token validation failure.\nBearer eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln rejected",
        },
      },
      { "request-id": "r-9" },
      "GET /v1.0/users",
    );
    const line = e.toString();
    assert.equal(line.includes("\n"), false);
    assert.equal(line.includes("eyJ"), false);
    assert.match(
      line,
      /^entra 401 InvalidAuthenticationToken on GET \/v1\.0\/users: Access token validation failure\. Bearer <redacted> rejected \(request-id r-9\)\. Hint: /,
    );
  });
  it("is recognized by kind", () => {
    const e = new ApiError({ system: "fno", status: 404, message: "x" });
    assert.ok(isApiError(e, "NotFound"));
    assert.ok(!isApiError(e, "Conflict"));
    assert.ok(!isApiError(new Error("x")));
    assert.equal(new ApiError({ system: "fno", status: 302, message: "x" }).kind, "Unauthorized");
  });
});
