/**
 * HTTPS listeners and the request pipeline, in one visible order (style.md, principle 13):
 *
 *   request id → auth by audience → faults → route/handler → error renderer
 *
 * One listener per origin on 127.0.0.1. The pipeline knows nothing about any service's routes
 * or error shapes: a refused token is rendered by the module's `unauthorized`, an injected fault
 * by its `throttled`/`unavailable`, an exception by a generic 500.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { PemPair } from "./certs.ts";
import { profileFor } from "./faults.ts";
import { type SigningKey, verifyJwt } from "./jwt.ts";
import type {
  AuthFailure,
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
  try {
    // 2. Auth by audience.
    if (!module.anonymous) {
      const audiences = module.audiences(deps.context, origin.environment);
      const auth = authenticate(headers.authorization, audiences, deps);
      if (!auth.ok) return module.unauthorized(auth.failure, request);
      request.token = auth.claims;
    }
    // 3. Faults.
    if (origin.service !== "admin") {
      const profile = profileFor(deps.context.faults, origin.service);
      const delay = profile.latencyMs + (profile.jitterMs > 0 ? deps.random() * profile.jitterMs : 0);
      if (delay > 0) await sleep(delay);
      if (profile.rate429 > 0 && deps.random() < profile.rate429)
        return module.throttled(profile.retryAfterSeconds, request);
      if (profile.rate503 > 0 && deps.random() < profile.rate503) return module.unavailable(request);
    }
    // 4. Route and handler (the module answers 501 itself for what it does not route).
    return await module.handle(request, deps.context);
  } catch (err) {
    // 5. Error renderer: a bug in a handler is a loud 500, never a hang.
    const message = err instanceof Error ? err.message : String(err);
    deps.log(`sandbox: ${origin.service} ${request.method} ${request.url.pathname} failed: ${message}`);
    return {
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
  }
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
