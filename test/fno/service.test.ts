import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseErrorBody } from "../../providers/core/errors.ts";
import { requireServiceEndpoint } from "../../providers/core/settings.ts";
import { fno } from "../../providers/fno/service.ts";
import { settingsOf } from "../support/config.ts";

const settings = settingsOf;

describe("F&O errors", () => {
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
    const p = parseErrorBody(fno, 400, body);
    assert.match(p.message, /UserInfo_language/);
    assert.equal(p.code, "AxODataWriteException");
    assert.equal(p.kind, "Invalid");
  });
  it("reads only a 404 carrying an OData error as absent: a servicing page is transient", () => {
    const missing = { error: { code: "", message: "No resources found for the requested key." } };
    assert.equal(parseErrorBody(fno, 404, missing).kind, "NotFound");
    const page = "<h1>404 - File or directory not found.</h1>";
    const servicing = parseErrorBody(fno, 404, page);
    assert.equal(servicing.kind, "Transient");
    assert.match(servicing.hint ?? "", /being serviced or recycled: nothing was taken as absent/);
    assert.equal(parseErrorBody(fno, 404, "").kind, "Transient");
    assert.equal(parseErrorBody(fno, 503, page).kind, "Transient");
  });
  it("explains a redirect to sign-in and a refused token", () => {
    assert.match(parseErrorBody(fno, 302, "").hint ?? "", /Microsoft Entra applications/);
    assert.match(parseErrorBody(fno, 401, "").hint ?? "", /token audience/);
  });
});

describe("F&O endpoint", () => {
  it("is the environment's fnoUrl, or an error naming the key", () => {
    const s = settings({
      "d365-access:environments": JSON.stringify([
        { name: "prod", fnoUrl: "https://x.operations.dynamics.com" },
        { name: "dv" },
      ]),
    });
    assert.equal(requireServiceEndpoint(s, fno, "prod").scope, "https://x.operations.dynamics.com/.default");
    assert.throws(() => requireServiceEndpoint(s, fno, "dv"), /environment "dv" has no fnoUrl/);
  });
});
