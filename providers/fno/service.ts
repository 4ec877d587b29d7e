/**
 * F&O OData (one origin per environment) as the HTTP core sees it: where it is, its token
 * scope, how its errors read and what to do about them, how many requests at once.
 * Errors: `{"error":{"code":"","message":"An error has occurred.","innererror":{"message","type"}}}`,
 * the real cause in `innererror.message`
 * (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata).
 * A refused token is answered with a redirect to the sign-in page. While an environment is being
 * serviced or recycled every request may answer 404 or 503 (an HTML page, not an OData error),
 * even with a valid token: such a 404 is transient, never "absent" (community operations notes; UNCONFIRMED
 * in its details, so the safe reading: only a 404 carrying an OData error means "not found").
 */
import { asObject, asString } from "../core/errors.ts";
import type { ServiceSpec } from "../core/service.ts";

const REGISTER_APP = "System administration > Setup > Microsoft Entra applications";

/** F&O OData of an environment (`environments[].fnoUrl`). */
export const fno: ServiceSpec = {
  name: "fno",
  endpoint: { kind: "environment", urlKey: "fnoUrl" },
  maxConcurrency: 8,
  errors: {
    parse({ error }, common) {
      const inner = asObject(error?.innererror) ?? asObject(error?.innerError);
      const innerMessage = asString(inner?.message);
      const innerType = asString(inner?.type);
      // The top-level message is the generic "An error has occurred."; the cause is inside.
      const message = !innerMessage
        ? common.message
        : common.message && !/^an error has occurred\.?$/i.test(common.message)
          ? `${common.message} ${innerMessage}`
          : innerMessage;
      const code = common.code || (innerType ? (innerType.split(".").pop() ?? innerType) : "");
      return { message, code };
    },
    classify({ status, root }) {
      if (status === 404 && asObject(root?.error) === undefined) return "Transient";
      return undefined;
    },
    hint({ status, kind }) {
      if (status === 404 && kind === "Transient") {
        return "F&O answered 404 without an OData error, as an environment does while it is being serviced or recycled: nothing was taken as absent; run again once the environment is back";
      }
      if (status >= 300 && status < 400) {
        return `the service redirected to sign-in instead of answering: the token was refused (register the app under ${REGISTER_APP})`;
      }
      if (kind === "Unauthorized") {
        return `the token was refused: check the F&O environment URL is the token audience and the app is registered under ${REGISTER_APP}`;
      }
      if (kind === "Forbidden") {
        return "give the app's F&O user the System administrator (or Security administrator) role";
      }
      return undefined;
    },
  },
};
