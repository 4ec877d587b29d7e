import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseErrorBody } from "../../providers/core/errors.ts";
import { requireServiceEndpoint } from "../../providers/core/settings.ts";
import { graph } from "../../providers/entra/service.ts";
import { settingsOf } from "../support/config.ts";

const settings = settingsOf;

describe("Graph errors", () => {
  it("reads Graph's code, message and innerError request-id", () => {
    const body = {
      error: {
        code: "Authorization_RequestDenied",
        message: "Insufficient privileges to complete the operation.",
        innerError: { "request-id": "rid-1", date: "x" },
      },
    };
    const p = parseErrorBody(graph, 403, JSON.stringify(body));
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
    assert.equal(parseErrorBody(graph, 400, dup).kind, "Conflict");
    const seats = {
      error: {
        code: "Request_BadRequest",
        message: "Subscription 55c9eb4e does not have any available licenses.",
      },
    };
    assert.equal(parseErrorBody(graph, 400, seats).kind, "Unlicensed");
  });
});

describe("Graph endpoint", () => {
  it("defaults per cloud, scope <origin>/.default", () => {
    assert.deepEqual(requireServiceEndpoint(settings(), graph), {
      origin: "https://graph.microsoft.com",
      scope: "https://graph.microsoft.com/.default",
    });
    const gov = settings({ "d365-access:authorityHost": "https://login.microsoftonline.us" });
    assert.equal(requireServiceEndpoint(gov, graph).origin, "https://graph.microsoft.us");
  });
  it("must be configured for an unknown authority, over https", () => {
    assert.throws(
      () => requireServiceEndpoint(settings({ "d365-access:authorityHost": "https://127.0.0.1:9" }), graph),
      /d365-access:graphUrl is required/,
    );
    assert.throws(
      () => requireServiceEndpoint(settings({ "d365-access:graphUrl": "http://x" }), graph),
      /must use https/,
    );
  });
});
