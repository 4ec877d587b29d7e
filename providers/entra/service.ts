/**
 * Microsoft Graph as the HTTP core sees it: where it is per cloud, its token scope, how its
 * errors read and what to do about them, how many requests at once.
 * Errors: https://learn.microsoft.com/graph/errors (`{"error":{"code","message","innerError":
 * {"request-id","date"}}}`). National clouds: https://learn.microsoft.com/graph/deployments.
 */
import { asObject, asString } from "../core/errors.ts";
import type { ServiceSpec } from "../core/service.ts";

/** Microsoft Graph (users and licenses). */
export const graph: ServiceSpec = {
  name: "entra",
  endpoint: {
    kind: "tenant",
    urlKey: "graphUrl",
    scopeKey: "graphScope",
    // DoD uses https://dod-graph.microsoft.us under the same authority: configure graphUrl there.
    clouds: {
      "login.microsoftonline.com": { url: "https://graph.microsoft.com" },
      "login.microsoftonline.us": { url: "https://graph.microsoft.us" },
      "login.chinacloudapi.cn": { url: "https://microsoftgraph.chinacloudapi.cn" },
    },
  },
  maxConcurrency: 8,
  errors: {
    parse({ error }) {
      const inner = asObject(error?.innerError) ?? asObject(error?.innererror);
      return { requestId: asString(inner?.["request-id"]) ?? asString(inner?.requestId) };
    },
    classify({ code, message, root }) {
      // Seats exhausted: Graph gives only Request_BadRequest plus this text
      // (https://learn.microsoft.com/graph/api/user-assignlicense).
      if (/does not have any available licenses/i.test(message)) return "Unlicensed";
      // Also answered for a while right after the usage location was set, until the replica
      // assignLicense reaches has seen it (eventual consistency; the message is Graph's only
      // signal: https://learn.microsoft.com/graph/api/user-assignlicense).
      if (/invalid usage location/i.test(message)) return "Stale";
      const details = asObject(root?.error)?.details;
      if (Array.isArray(details) && details.some((d) => asObject(d)?.code === "ObjectConflict"))
        return "Conflict";
      if (code === "Request_ResourceNotFound") return "NotFound";
      if (code === "Authorization_RequestDenied") return "Forbidden";
      return undefined;
    },
    hint({ kind }) {
      if (kind === "Stale")
        return "set the user's usageLocation (users.yaml usageLocation or defaults.usageLocation): Graph assigns licenses only to users with one";
      return kind === "Forbidden"
        ? "grant the app the Microsoft Graph application permissions User.ReadWrite.All and LicenseAssignment.ReadWrite.All, with admin consent"
        : undefined;
    },
  },
};
