/**
 * HTTPS listeners and the request pipeline, in one visible order:
 *
 *   request id → servicing window → auth by audience → admission (counted limits) → faults
 *   → route/handler → error renderer → journal
 *
 * One listener per origin on 127.0.0.1. The pipeline knows nothing about any service's routes
 * or error shapes: a refused token is rendered by the module's `unauthorized`, an injected fault
 * by its `throttled`/`unavailable`, a counted limit by its `admit`, an exception by a generic 500.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { PemPair } from "./certs.ts";
import { profileFor, servicingFor } from "./faults.ts";
import { journalPath } from "./journal.ts";
import { type SigningKey, verifyJwt } from "./jwt.ts";
import type {
  AuthFailure,
  JournalEntry,
  SandboxRequest,
  SandboxResponse,
  ServiceContext,
  ServiceModule,
  ServiceName,
  TokenClaims,
} from "./types.ts";

/** A module as the framework mounts it; the framework's own modules (login, admin) are anonymous. */
export interface MountedModule extends ServiceModule {
  /** No bearer token required (the token endpoint, the admin API). */
  anonymous?: boolean;
  /** For anonymous modules: the calling app the journal names (e.g. the token request's client_id). */
  caller?(req: SandboxRequest): string | undefined;
}

/** One origin to serve. */
export interface OriginSpec {
  /** Stable key: "login", "graph", "powerplatform", "admin", "dataverse:<env>", "fno:<env>". */
  key: string;
  service: ServiceName;
  environment?: string;
  module: MountedModule;
  /** 0 for an ephemeral port. */
  port: number;
  certificate: PemPair;
}

/** A listening origin. */
export interface Listener {
  key: string;
  url: string;
  port: number;
  server: Server;
}

/** What the pipeline needs from the sandbox. */
export interface PipelineDeps {
  context: ServiceContext;
  signingKey: SigningKey;
  random: () => number;
  log: (line: string) => void;
}

const MAX_BODY = 16 * 1024 * 1024;

/** Verified-signature cache: verifying RS256 on every request would dominate simple GETs. */
const verified = new Map<string, Record<string, unknown>>();

function authenticate(
  header: string | undefined,
  audiences: string[],
  deps: PipelineDeps,
): { ok: true; claims: TokenClaims } | { ok: false; failure: AuthFailure } {
  if (!header) return { ok: false, failure: { kind: "missing" } };
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  const token = match?.[1]?.trim();
  if (!token) return { ok: false, failure: { kind: "missing" } };
  let claims = verified.get(token);
  if (!claims) {
    const result = verifyJwt(token, deps.signingKey);
    if (!result.ok) return { ok: false, failure: { kind: result.failure } };
    claims = result.claims;
    if (verified.size > 5000) verified.clear();
    verified.set(token, claims);
  }
  const nowSeconds = Math.floor(deps.context.now() / 1000);
  if (typeof claims.exp !== "number" || typeof claims.aud !== "string")
    return { ok: false, failure: { kind: "malformed" } };
  // Entra tokens are refused once `exp` has passed; a not-yet-valid token is refused the same way.
  if (claims.exp <= nowSeconds || (typeof claims.nbf === "number" && claims.nbf > nowSeconds)) {
    return { ok: false, failure: { kind: "expired" } };
  }
  if (!audiences.includes(claims.aud))
    return { ok: false, failure: { kind: "wrongAudience", audience: claims.aud } };
  return { ok: true, claims: claims as TokenClaims };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, response: SandboxResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  const lower = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  let payload: Buffer | undefined;
  if (response.body !== undefined && response.status !== 204 && response.status !== 304) {
    if (typeof response.body === "string") {
      payload = Buffer.from(response.body, "utf8");
      if (!lower.has("content-type")) headers["content-type"] = "text/plain; charset=utf-8";
    } else if (Buffer.isBuffer(response.body)) {
      payload = response.body;
    } else {
      payload = Buffer.from(JSON.stringify(response.body), "utf8");
      if (!lower.has("content-type")) headers["content-type"] = "application/json; charset=utf-8";
    }
  }
  headers["content-length"] = String(payload?.length ?? 0);
  res.writeHead(response.status, headers);
  res.end(payload);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What a front end answers while the environment behind it is serviced or recycled: not the
 * service's own error shape, and the same with or without a valid token. The bodies are the IIS
 * defaults (UNCONFIRMED for F&O; see docs/fidelity.md): a client must not read this 404 as
 * "the record does not exist".
 */
function servicingResponse(status: 404 | 503): SandboxResponse {
  const text =
    status === 503
      ? "<h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p>"
      : "<h1>404 - File or directory not found.</h1><p>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</p>";
  return { status, headers: { "content-type": "text/html" }, body: text };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

async function answer(
  origin: OriginSpec,
  request: SandboxRequest,
  deps: PipelineDeps,
  hold: { release?: () => void },
): Promise<SandboxResponse> {
  const module = origin.module;
  const ctx = deps.context;
  // 2. Servicing window: the environment answers 404/503 before anything looks at the token.
  if (origin.service !== "admin") {
    const window = servicingFor(ctx.faults, origin.service, origin.environment, ctx.now());
    if (window) return servicingResponse(window.status);
  }
  // 3. Auth by audience.
  if (!module.anonymous) {
    const audiences = module.audiences(ctx, origin.environment);
    const auth = authenticate(request.headers.authorization, audiences, deps);
    if (!auth.ok) return module.unauthorized(auth.failure, request);
    request.token = auth.claims;
  }
  // 4. Admission: limits the service counts itself (released once the answer is ready).
  const admission = module.admit?.(request, ctx);
  if (admission && "refuse" in admission) return admission.refuse;
  if (admission) hold.release = admission.release;
  // 5. Faults: latency, then an injected 429 or 503 (per item instead, for a Graph $batch).
  if (origin.service !== "admin") {
    const profile = profileFor(ctx.faults, origin.service);
    const delay = profile.latencyMs + (profile.jitterMs > 0 ? deps.random() * profile.jitterMs : 0);
    if (delay > 0) await sleep(delay);
    if (!module.faultsPerItem?.(request)) {
      if (profile.rate429 > 0 && deps.random() < profile.rate429)
        return module.throttled(profile.retryAfterSeconds, request);
      if (profile.rate503 > 0 && deps.random() < profile.rate503) return module.unavailable(request);
    }
  }
  // 6. Route and handler (the module answers 501 itself for what it does not route).
  return await module.handle(request, ctx);
}

async function runPipeline(
  origin: OriginSpec,
  req: IncomingMessage,
  deps: PipelineDeps,
): Promise<SandboxResponse> {
  // 1. Request id.
  const requestId = randomUUID();
  const rawBody = await readBody(req);
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const base = `https://127.0.0.1:${(req.socket.address() as AddressInfo).port}`;
  const request: SandboxRequest = {
    method: req.method ?? "GET",
    url: new URL(req.url ?? "/", base),
    headers,
    body: undefined,
    rawBody: rawBody ?? "",
    requestId,
    token: undefined as unknown as TokenClaims,
  };
  if (origin.environment !== undefined) request.environment = origin.environment;
  if (rawBody === undefined) {
    return {
      status: 413,
      body: { error: { code: "RequestEntityTooLarge", message: "The request body is too large." } },
    };
  }
  if (rawBody !== "" && /json/i.test(headers["content-type"] ?? "")) {
    try {
      request.body = JSON.parse(rawBody);
    } catch {
      // Left undefined: each service renders its own malformed-JSON error from rawBody.
    }
  }
  const module = origin.module;
  const hold: { release?: () => void } = {};
  let response: SandboxResponse;
  try {
    response = await answer(origin, request, deps, hold);
  } catch (err) {
    // 7. Error renderer: a bug in a handler is a loud 500, never a hang.
    const message = err instanceof Error ? err.message : String(err);
    deps.log(`sandbox: ${origin.service} ${request.method} ${request.url.pathname} failed: ${message}`);
    response = {
      status: 500,
      headers: { "request-id": requestId },
      body: {
        error: {
          code: "InternalServerError",
          message: `sandbox: unhandled error in the ${origin.service} emulator: ${message}`,
          innerError: { "request-id": requestId },
        },
      },
    };
  } finally {
    hold.release?.();
  }
  // 8. Journal: what was asked and answered, never bodies, headers or secrets.
  if (origin.service !== "admin") {
    const appId = request.token?.appid ?? module.caller?.(request);
    const entry: JournalEntry = {
      time: new Date(deps.context.now()).toISOString(),
      service: origin.service,
      method: request.method,
      path: journalPath(request.url),
      status: response.status,
      requestId,
      write: module.isWrite ? module.isWrite(request) : !SAFE_METHODS.has(request.method.toUpperCase()),
    };
    if (origin.environment !== undefined) entry.environment = origin.environment;
    if (appId !== undefined) entry.appId = appId;
    deps.context.journal.record(entry);
  }
  return response;
}

/** Starts one HTTPS listener per origin on 127.0.0.1 and returns them once all listen. */
export async function listen(origins: OriginSpec[], deps: PipelineDeps): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const origin of origins) {
      const server = createServer(
        { cert: origin.certificate.cert, key: origin.certificate.key },
        (req, res) => {
          runPipeline(origin, req, deps).then(
            (response) => send(res, response),
            (err: unknown) => {
              deps.log(`sandbox: pipeline failure: ${(err as Error).message}`);
              if (!res.headersSent)
                send(res, {
                  status: 500,
                  body: { error: { code: "InternalServerError", message: "sandbox pipeline failure" } },
                });
            },
          );
        },
      );
      server.keepAliveTimeout = 30_000;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(origin.port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      const port = (server.address() as AddressInfo).port;
      listeners.push({ key: origin.key, url: `https://127.0.0.1:${port}`, port, server });
    }
  } catch (err) {
    await closeListeners(listeners);
    throw err;
  }
  return listeners;
}

/** Closes listeners, dropping idle keep-alive connections so `close` does not wait for clients. */
export async function closeListeners(listeners: Listener[]): Promise<void> {
  await Promise.all(
    listeners.map(
      (l) =>
        new Promise<void>((resolve) => {
          l.server.close(() => resolve());
          l.server.closeAllConnections();
        }),
    ),
  );
}
