import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, errorFromResponse, isApiError, parseErrorBody } from "../../providers/core/errors.ts";

describe("parseErrorBody", () => {
  it("reads Graph's code, message and innerError request-id", () => {
    const body = {
      error: {
        code: "Authorization_RequestDenied",
        message: "Insufficient privileges to complete the operation.",
        innerError: { "request-id": "rid-1", date: "x" },
      },
    };
    const p = parseErrorBody("entra", 403, JSON.stringify(body));
    assert.equal(p.code, "Authorization_RequestDenied");
    assert.equal(p.requestId, "rid-1");
    assert.equal(p.kind, "Forbidden");
    assert.match(p.hint ?? "", /User\.ReadWrite\.All/);
  });
  it("recognizes Graph's duplicate UPN and seats exhausted", () => {
    const dup = {
      error: {
        code: "Request_BadRequest",
        message: "Another object with the same value for property userPrincipalName already exists.",
        details: [{ target: "userPrincipalName", code: "ObjectConflict" }],
      },
    };
    assert.equal(parseErrorBody("entra", 400, dup).kind, "Conflict");
    const seats = {
      error: {
        code: "Request_BadRequest",
        message: "Subscription 55c9eb4e does not have any available licenses.",
      },
    };
    assert.equal(parseErrorBody("entra", 400, seats).kind, "Unlicensed");
  });
  it("reads Dataverse hex codes and the service request id header", () => {
    const p = parseErrorBody(
      "dataverse",
      404,
      { error: { code: "0x80040217", message: "Entity 'systemuser' With Id = x Does Not Exist" } },
      { "x-ms-service-request-id": "dv-1" },
    );
    assert.equal(p.kind, "NotFound");
    assert.equal(p.requestId, "dv-1");
    assert.equal(
      parseErrorBody("dataverse", 412, { error: { code: "0x80040237", message: "dup" } }).kind,
      "Conflict",
    );
    assert.equal(
      parseErrorBody("dataverse", 403, {
        error: { code: "0x80072560", message: "The user is not a member of the organization." },
      }).hint?.includes("application user"),
      true,
    );
  });
  it("takes F&O's real cause from innererror", () => {
    const body = {
      error: {
        code: "",
        message: "An error has occurred.",
        innererror: {
          message:
            "Write failed for table row of type 'SystemUserEntity'. Infolog: Error: Field 'UserInfo_language' must be filled in.",
          type: "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
          stacktrace: "at ...",
        },
      },
    };
    const p = parseErrorBody("fno", 400, body);
    assert.match(p.message, /UserInfo_language/);
    assert.equal(p.code, "AxODataWriteException");
    assert.equal(p.kind, "Invalid");
  });
  it("reads the admin API's shapes", () => {
    assert.equal(
      parseErrorBody("powerplatform", 400, { error: { code: "userNotLicensed", message: "x" } }).kind,
      "Unlicensed",
    );
    assert.equal(
      parseErrorBody("powerplatform", 400, { errors: [{ Code: "Bad", Description: "why" }] }).message,
      "why",
    );
  });
  it("survives empty and HTML bodies", () => {
    assert.equal(parseErrorBody("fno", 503, "").message, "Service unavailable");
    assert.equal(parseErrorBody("fno", 500, "<html>oops</html>").message, "Internal server error");
  });
});

describe("ApiError", () => {
  it("prints one actionable line without tokens", () => {
    const e = errorFromResponse(
      "entra",
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
