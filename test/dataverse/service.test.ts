import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseErrorBody } from "../../providers/core/errors.ts";
import { requireServiceEndpoint } from "../../providers/core/settings.ts";
import { dataverse, powerPlatform } from "../../providers/dataverse/service.ts";
import { settingsOf } from "../support/config.ts";

const settings = settingsOf;

describe("Dataverse and Power Platform admin errors", () => {
  it("reads Dataverse hex codes and the service request id header", () => {
    const p = parseErrorBody(
      dataverse,
      404,
      { error: { code: "0x80040217", message: "Entity 'systemuser' With Id = x Does Not Exist" } },
      { "x-ms-service-request-id": "dv-1" },
    );
    assert.equal(p.kind, "NotFound");
    assert.equal(p.requestId, "dv-1");
    assert.equal(
      parseErrorBody(dataverse, 412, { error: { code: "0x80040237", message: "dup" } }).kind,
      "Conflict",
    );
    assert.equal(
      parseErrorBody(dataverse, 403, {
        error: { code: "0x80072560", message: "The user is not a member of the organization." },
      }).hint?.includes("application user"),
      true,
    );
  });
  it("reads the admin API's shapes", () => {
    assert.equal(
      parseErrorBody(powerPlatform, 400, { error: { code: "userNotLicensed", message: "x" } }).kind,
      "Unlicensed",
    );
    const nested = JSON.stringify({ errors: [{ code: "userNotLicensed", description: "no licence" }] });
    assert.equal(
      parseErrorBody(powerPlatform, 400, {
        error: { code: "BadRequest", message: `${nested} The tracking Id is t.` },
      }).kind,
      "Unlicensed",
      "the condition inside the message, as the service also sends it",
    );
    assert.equal(
      parseErrorBody(powerPlatform, 400, { errors: [{ Code: "Bad", Description: "why" }] }).message,
      "why",
    );
  });
});

describe("Dataverse and Power Platform admin endpoints", () => {
  it("takes the environment's URL and the admin API's fixed audience", () => {
    const s = settings({
      "d365-access:environments": JSON.stringify([
        { name: "prod", dataverseUrl: "https://org.crm.dynamics.com/" },
      ]),
    });
    assert.equal(requireServiceEndpoint(s, dataverse, "prod").scope, "https://org.crm.dynamics.com/.default");
    assert.equal(requireServiceEndpoint(s, powerPlatform).scope, "https://service.powerapps.com//.default");
    const sandbox = settings({
      "d365-access:authorityHost": "https://127.0.0.1:9",
      "d365-access:powerPlatformUrl": "https://127.0.0.1:10/x",
    });
    assert.deepEqual(requireServiceEndpoint(sandbox, powerPlatform), {
      origin: "https://127.0.0.1:10",
      scope: "https://service.powerapps.com//.default",
    });
    assert.throws(
      () => requireServiceEndpoint(s, dataverse, "test"),
      /"test" is not in config d365-access:environments/,
    );
  });
});
