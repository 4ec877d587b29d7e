/**
 * The sandbox's own admin API, served on `adminUrl` (127.0.0.1 only, no auth: it is a local
 * test tool). Routes:
 *
 *   GET   /health                                  → {"status":"ok", ...}
 *   GET   /endpoints                               → the endpoints.json document
 *   GET   /faults                                  → current FaultSettings
 *   PATCH /faults   {latencyMs?, jitterMs?, rate429?, retryAfterSeconds?, rate503?,
 *                    syncDelaySeconds?, services?: {graph?: {...}|null, ...}}  → merged settings
 *   PUT   /faults   same body                      → defaults + body (replaces everything)
 *   POST  /reset                                   → restores the seed; 200 {"status":"reset"}
 *   GET   /state                                   → the whole state (debugging)
 *   POST  /tokens   {appId, audience, expiresInSeconds?, notBeforeSeconds?}
 *                                                  → {"access_token"} signed like the token endpoint's
 *                                                    (negative tests: expired / not-yet-valid tokens)
 *   GET   /journal?writes=true&service=&environment=&since=
 *                                                  → {"value":[JournalEntry]}: the requests answered
 *   DELETE /journal                                → 204, the journal emptied
 *   POST  /servicing {service, environment?, status: 404|503, seconds?}
 *                                                  → the fault settings: the environment answers
 *                                                    `status` to everything for `seconds` (or until cleared)
 *   DELETE /servicing                              → the fault settings, every servicing window closed
 *   *     /<service prefix>/...                    → the routes each service contributes to set up its
 *                                                    state (see sandbox/README.md)
 *   GET   /oidc/.well-known/openid-configuration   → the test OIDC issuer's discovery document
 *   GET   /oidc/keys                               → its JWKS
 *   POST  /oidc/token {subject, audience?, expiresInSeconds?}
 *                                                  → {"token"}: a client assertion from the test issuer
 *                                                    (issuer `${adminUrl}/oidc`), for workload identity
 */
import { AdminInputError } from "./admin-input.ts";
import { defaultFaults, type FaultUpdate, mergeFaults } from "./faults.ts";
import type { JournalFilter, RequestJournal } from "./journal.ts";
import { matchRoute } from "./routes.ts";
import type { MountedModule } from "./server.ts";
import type {
  FaultSettings,
  SandboxEndpoints,
  SandboxRequest,
  SandboxResponse,
  SandboxState,
  ServiceContext,
  ServiceModule,
  ServiceName,
} from "./types.ts";

/** What the admin API controls. */
export interface AdminController {
  endpoints(): SandboxEndpoints;
  state(): SandboxState;
  faults(): FaultSettings;
  setFaults(next: FaultSettings): void;
  reset(): Promise<void>;
  mintToken(input: {
    appId: string;
    audience: string;
    expiresInSeconds?: number;
    notBeforeSeconds?: number;
  }): string;
  oidcIssuer(): string;
  oidcJwks(): { keys: Record<string, string>[] };
  oidcToken(input: { subject: string; audience?: string; expiresInSeconds?: number }): string;
  startedAt: number;
  journal: RequestJournal;
  /** The context service handlers get (admin routes of services use it too). */
  context: ServiceContext;
  /** The mounted services, whose `admin` routes this module serves. */
  services: ServiceModule[];
}

const SERVICE_NAMES: readonly ServiceName[] = ["login", "graph", "powerplatform", "dataverse", "fno"];

function json(status: number, body: unknown): SandboxResponse {
  return { status, body };
}

function bad(message: string): SandboxResponse {
  return json(400, { error: { code: "BadRequest", message } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Serves `/<prefix>/...` from the service whose admin prefix it is; undefined when none matches. */
async function routeToService(
  admin: AdminController,
  req: SandboxRequest,
  path: string,
): Promise<SandboxResponse | undefined> {
  for (const service of admin.services) {
    if (!service.admin) continue;
    const prefix = `/${service.admin.prefix}`;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
    const found = matchRoute(service.admin.routes, req.method, path.slice(prefix.length) || "/");
    if (!found) return undefined;
    if (req.rawBody.trim() !== "" && !isRecord(req.body))
      return bad("Send a JSON object (Content-Type: application/json).");
    const body = isRecord(req.body) ? req.body : {};
    try {
      return await found.route.handler({ req, ctx: admin.context, body }, found.params);
    } catch (err) {
      if (err instanceof AdminInputError) return bad(err.message);
      throw err;
    }
  }
  return undefined;
}

/** Builds the admin module. */
export function createAdminModule(admin: AdminController): MountedModule {
  const handle = async (req: SandboxRequest): Promise<SandboxResponse> => {
    const path = req.url.pathname.replace(/\/+$/, "") || "/";
    const route = `${req.method} ${path}`;
    switch (route) {
      case "GET /health":
        return json(200, {
          status: "ok",
          pid: process.pid,
          uptimeSeconds: Math.round((Date.now() - admin.startedAt) / 1000),
        });
      case "GET /endpoints":
        return json(200, admin.endpoints());
      case "GET /faults":
        return json(200, admin.faults());
      case "PATCH /faults":
      case "PUT /faults": {
        if (!isRecord(req.body))
          return bad("Send a JSON object of fault settings (Content-Type: application/json).");
        try {
          const base = req.method === "PUT" ? defaultFaults() : admin.faults();
          const next = mergeFaults(base, req.body as FaultUpdate);
          admin.setFaults(next);
          return json(200, next);
        } catch (err) {
          return bad((err as Error).message);
        }
      }
      case "POST /reset":
        await admin.reset();
        return json(200, { status: "reset" });
      case "GET /state":
        return json(200, admin.state());
      case "POST /tokens": {
        const body = req.body;
        if (!isRecord(body) || typeof body.appId !== "string" || typeof body.audience !== "string") {
          return bad("Send {appId, audience, expiresInSeconds?, notBeforeSeconds?}.");
        }
        try {
          const input: Parameters<AdminController["mintToken"]>[0] = {
            appId: body.appId,
            audience: body.audience,
          };
          if (typeof body.expiresInSeconds === "number") input.expiresInSeconds = body.expiresInSeconds;
          if (typeof body.notBeforeSeconds === "number") input.notBeforeSeconds = body.notBeforeSeconds;
          return json(200, { access_token: admin.mintToken(input) });
        } catch (err) {
          return bad((err as Error).message);
        }
      }
      case "GET /oidc/.well-known/openid-configuration":
        return json(200, {
          issuer: admin.oidcIssuer(),
          jwks_uri: `${admin.oidcIssuer()}/keys`,
          response_types_supported: ["id_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      case "GET /oidc/keys":
        return json(200, admin.oidcJwks());
      case "POST /oidc/token": {
        const body = req.body;
        if (!isRecord(body) || typeof body.subject !== "string")
          return bad("Send {subject, audience?, expiresInSeconds?}.");
        const input: Parameters<AdminController["oidcToken"]>[0] = { subject: body.subject };
        if (typeof body.audience === "string") input.audience = body.audience;
        if (typeof body.expiresInSeconds === "number") input.expiresInSeconds = body.expiresInSeconds;
        return json(200, { token: admin.oidcToken(input) });
      }
      case "GET /journal": {
        const q = req.url.searchParams;
        const filter: JournalFilter = {};
        if (q.get("writes") === "true") filter.writesOnly = true;
        const service = q.get("service");
        if (service !== null) {
          if (!(SERVICE_NAMES as readonly string[]).includes(service))
            return bad(`unknown service '${service}'`);
          filter.service = service as ServiceName;
        }
        const environment = q.get("environment");
        if (environment !== null) filter.environment = environment;
        const since = q.get("since");
        if (since !== null) filter.since = since;
        return json(200, { value: admin.journal.entries(filter) });
      }
      case "DELETE /journal":
        admin.journal.clear();
        return { status: 204 };
      case "POST /servicing": {
        const body = req.body;
        if (!isRecord(body)) return bad("Send {service, environment?, status: 404|503, seconds?}.");
        const window: Record<string, unknown> = { service: body.service, status: body.status };
        if (body.environment !== undefined) window.environment = body.environment;
        if (body.seconds !== undefined) {
          if (typeof body.seconds !== "number" || body.seconds <= 0)
            return bad("'seconds' must be a positive number.");
          window.untilMs = admin.context.now() + body.seconds * 1000;
        }
        try {
          const next = mergeFaults(admin.faults(), {
            servicing: [...admin.faults().servicing, window] as FaultSettings["servicing"],
          });
          admin.setFaults(next);
          return json(200, next);
        } catch (err) {
          return bad((err as Error).message);
        }
      }
      case "DELETE /servicing": {
        const next = mergeFaults(admin.faults(), { servicing: [] });
        admin.setFaults(next);
        return json(200, next);
      }
      default: {
        const routed = await routeToService(admin, req, path);
        if (routed) return routed;
        return json(501, {
          error: {
            code: "NotImplemented",
            message: `The sandbox admin API does not route ${req.method} ${req.url.pathname}.`,
          },
        });
      }
    }
  };
  return {
    name: "admin",
    anonymous: true,
    audiences: () => [],
    unauthorized: () => json(401, {}),
    throttled: () => json(429, {}),
    unavailable: () => json(503, {}),
    handle,
  };
}
