/**
 * The sandbox's Dynamics 365 finance and operations OData service (`/data/` per environment).
 * See README.md in this folder for what is emulated and what is simplified.
 */

import type {
  AuthFailure,
  SandboxRequest,
  SandboxResponse,
  ServiceContext,
  ServiceModule,
} from "../core/types.ts";
import { FNO_ADMIN_ROUTES } from "./admin.ts";
import { fnoError } from "./errors.ts";
import { fnoUnauthorized } from "./handlers.ts";
import { routeFno } from "./routes.ts";
import { seedFno } from "./seed.ts";
import { seedLivedInFno } from "./seed-lived-in.ts";
import type { FnoEnvironmentState } from "./state.ts";

/** Microsoft Dynamics ERP's first-party application id, the client F&O's sign-in redirect names. */
const DYNAMICS_ERP_APP_ID = "00000015-0000-0000-c000-000000000000";

/**
 * Where F&O sends a caller without a token: a 302 to the Microsoft sign-in page rather than a 401
 * (reference fno-odata.md §8 item 11; clients must treat any 3xx on an API call as an auth
 * failure and never follow it). The exact query string is UNCONFIRMED.
 */
function signInRedirect(req: SandboxRequest): SandboxResponse {
  const location = new URL("https://login.microsoftonline.com/common/oauth2/authorize");
  location.searchParams.set("client_id", DYNAMICS_ERP_APP_ID);
  location.searchParams.set("response_type", "code id_token");
  location.searchParams.set("response_mode", "form_post");
  location.searchParams.set("redirect_uri", `${req.url.origin}/`);
  return { status: 302, headers: { location: location.href, "content-length": "0" } };
}

/** The F&O service module the sandbox framework mounts once per environment. */
export const fnoService: ServiceModule<Record<string, FnoEnvironmentState>> = {
  name: "fno",
  admin: { prefix: "fno", routes: FNO_ADMIN_ROUTES },
  audiences(ctx: ServiceContext, environment?: string): string[] {
    // The audience is the environment URL without a trailing slash (reference §4): a token for
    // one environment is refused by another.
    return ctx.endpoints.environments
      .filter((e) => environment === undefined || e.name === environment)
      .map((e) => e.fnoUrl);
  },
  unauthorized(failure: AuthFailure, req: SandboxRequest): SandboxResponse {
    if (failure.kind === "missing") return signInRedirect(req);
    // A present but invalid token (expired, bad signature, other audience): bare 401.
    return fnoUnauthorized();
  },
  throttled(retryAfterSeconds: number): SandboxResponse {
    // Priority-based throttling answers 429 with Retry-After in seconds
    // (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/priority-based-throttling).
    const response = fnoError(
      429,
      "This request could not be processed at this time due to system experiencing high resource utilization.",
      "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataThrottlingException",
    );
    return {
      ...response,
      headers: { ...response.headers, "retry-after": String(Math.ceil(retryAfterSeconds)) },
    };
  },
  unavailable(): SandboxResponse {
    return fnoError(503, "The service is temporarily unavailable.", "System.Web.HttpException");
  },
  handle(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
    return routeFno(req, ctx);
  },
  seed: (info) => (info.seed.name === "lived-in" ? seedLivedInFno(info) : seedFno(info)),
};
