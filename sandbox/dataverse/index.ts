/**
 * The Dataverse Web API service module: one organization per environment, served at
 * `<dataverseUrl>/api/data/v9.2/` (v9.0 and v9.1 paths are accepted too, as Dataverse does).
 * See README.md in this folder for what is emulated and how faithfully.
 */
import type {
  AuthFailure,
  SandboxRequest,
  SandboxResponse,
  ServiceContext,
  ServiceModule,
} from "../core/types.ts";
import { DATAVERSE_ADMIN_ROUTES } from "./admin.ts";
import { DataverseErrorCode, DataverseHttpError, dataverseError, notEmulated } from "./errors.ts";
import { admitDataverse } from "./limits.ts";
import { routeDataverse } from "./routes.ts";
import { seedDataverse } from "./seed.ts";
import { seedLivedInDataverse } from "./seed-lived-in.ts";
import type { DataverseEnvironmentState } from "./state.ts";
import { runDataverseSync } from "./sync.ts";

export type { DataverseEnvironmentState } from "./state.ts";
export { runDataverseSync } from "./sync.ts";

/** How often the background sync observes Entra (ms); bounds how late a delayed change can be. */
export const SYNC_TICK_MS = 200;

/**
 * The authority each Dataverse origin's 401 challenge names, learnt when the framework asks for
 * the origin's audiences (`unauthorized` gets no context).
 */
const challengeByOrigin = new Map<string, string>();

function environmentOrigin(ctx: ServiceContext, environment: string | undefined): string | undefined {
  return ctx.endpoints.environments.find((e) => e.name === environment)?.dataverseUrl;
}

/** The Dataverse Web API for every environment of the sandbox. */
export const dataverseService: ServiceModule<Record<string, DataverseEnvironmentState>> = {
  name: "dataverse",

  audiences(ctx, environment) {
    const origin = environmentOrigin(ctx, environment);
    if (!origin) return [];
    challengeByOrigin.set(
      origin,
      `${ctx.endpoints.authorityHost}/${ctx.endpoints.tenantId}/oauth2/authorize`,
    );
    // A v1 token's aud is the resource exactly as requested: `<origin>/.default` gives the origin,
    // and the resource with a trailing slash is accepted by Dataverse as well.
    return [origin, `${origin}/`];
  },

  unauthorized(_failure: AuthFailure, req: SandboxRequest): SandboxResponse {
    // Dataverse answers a missing or refused token with 401, an empty body and a Bearer challenge
    // naming the authority and the resource (UNCONFIRMED beyond common observation).
    const authority =
      challengeByOrigin.get(req.url.origin) ?? "https://login.microsoftonline.com/common/oauth2/authorize";
    return {
      status: 401,
      headers: {
        "WWW-Authenticate": `Bearer authorization_uri=${authority}, resource_id=${req.url.origin}/`,
        REQ_ID: req.requestId,
      },
    };
  },

  throttled(retryAfterSeconds, req) {
    // An injected 429 reads like the request-count limit; Dataverse sends whole seconds
    // (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
    return dataverseError(
      req,
      429,
      DataverseErrorCode.throttledRequests,
      "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
      { "Retry-After": String(Math.ceil(retryAfterSeconds)) },
    );
  },

  unavailable(req) {
    // The docs say `code` is frequently empty; 503 carries no documented code.
    return dataverseError(req, 503, "", "Service Unavailable");
  },

  handle(req, ctx) {
    const env = req.environment ? ctx.state.dataverse[req.environment] : undefined;
    const match = /^\/api\/data\/v9\.[0-2]\/(.*)$/.exec(req.url.pathname);
    if (!env || !match) {
      return notEmulated(`The sandbox does not emulate ${req.method} ${req.url.pathname}.`);
    }
    try {
      runDataverseSync(ctx);
      const apiBase = `${req.url.origin}/api/data/v9.2`;
      const rest = (match[1] as string).split("/").filter((s) => s !== "");
      return routeDataverse(req, ctx, env, rest, apiBase);
    } catch (e) {
      if (e instanceof DataverseHttpError) return dataverseError(req, e.status, e.code, e.message);
      if (e instanceof URIError)
        return dataverseError(req, 400, DataverseErrorCode.queryParse, "Malformed URL.");
      throw e;
    }
  },

  admit: admitDataverse,
  admin: { prefix: "dataverse", routes: DATAVERSE_ADMIN_ROUTES },

  seed(info) {
    return info.seed.name === "lived-in" ? seedLivedInDataverse(info) : seedDataverse(info);
  },

  background(ctx) {
    const timer = setInterval(() => runDataverseSync(ctx), SYNC_TICK_MS);
    timer.unref();
    return () => clearInterval(timer);
  },
};
