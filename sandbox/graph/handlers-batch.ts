/**
 * JSON batching (https://learn.microsoft.com/graph/json-batching): at most 20 requests, unique
 * ids, `dependsOn` honoured (a request depending on a failed one gets 424), relative URLs with or
 * without the leading slash; each inner request is routed like a top-level one.
 */
import { randomUUID } from "node:crypto";
import { profileFor } from "../core/faults.ts";
import { journalPath } from "../core/journal.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { graphError, graphThrottled, graphUnavailable } from "./errors.ts";
import { ok } from "./views.ts";

/** Journals one batch item as a request of its own, tied to its envelope. */
function journalItem(
  ctx: ServiceContext,
  envelope: SandboxRequest,
  item: SandboxRequest,
  status: number,
): void {
  ctx.journal.record({
    time: new Date(ctx.now()).toISOString(),
    service: "graph",
    method: item.method,
    path: journalPath(item.url),
    status,
    appId: envelope.token.appid,
    requestId: item.requestId,
    write: !["GET", "HEAD", "OPTIONS"].includes(item.method),
    batchOf: envelope.requestId,
  });
}

/** Routes one inner request of a batch (the service's own router). */
export type GraphDispatch = (
  req: SandboxRequest,
  ctx: ServiceContext,
) => SandboxResponse | Promise<SandboxResponse>;

/** `POST /$batch`. */
export async function batch(
  req: SandboxRequest,
  ctx: ServiceContext,
  route: GraphDispatch,
): Promise<SandboxResponse> {
  const body = req.body as { requests?: unknown } | undefined;
  if (!body || !Array.isArray(body.requests))
    return graphError(req, 400, "BadRequest", "Invalid batch payload: a 'requests' array is required.");
  const requests = body.requests as Record<string, unknown>[];
  if (requests.length === 0)
    return graphError(req, 400, "BadRequest", "Invalid batch payload: the batch contains no requests.");
  if (requests.length > 20)
    return graphError(req, 400, "BadRequest", "The number of batch requests exceeds the limit of 20.");
  const ids = new Set<string>();
  for (const item of requests) {
    const id = item?.id;
    if (typeof id !== "string" || id === "")
      return graphError(req, 400, "BadRequest", "Each batch request needs a string 'id'.");
    if (ids.has(id.toLowerCase()))
      return graphError(req, 400, "BadRequest", `Batch request ids must be unique; '${id}' is repeated.`);
    ids.add(id.toLowerCase());
    if (typeof item.method !== "string" || typeof item.url !== "string") {
      return graphError(req, 400, "BadRequest", `Batch request '${id}' needs 'method' and 'url'.`);
    }
    if (
      item.body !== undefined &&
      !Object.keys((item.headers as Record<string, string>) ?? {}).some(
        (h) => h.toLowerCase() === "content-type",
      )
    ) {
      return graphError(
        req,
        400,
        "BadRequest",
        `Batch request '${id}' has a body but no Content-Type header.`,
      );
    }
  }
  const statusById = new Map<string, number>();
  const responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] = [];
  for (const item of requests) {
    const id = item.id as string;
    const depends = Array.isArray(item.dependsOn) ? (item.dependsOn as string[]) : [];
    const failed = depends.find((d) => (statusById.get(d.toLowerCase()) ?? 424) >= 400);
    if (failed !== undefined) {
      statusById.set(id.toLowerCase(), 424);
      responses.push({
        id,
        status: 424,
        body: {
          error: {
            code: "FailedDependency",
            message: `Dependent request '${failed}' failed or did not run.`,
          },
        },
      });
      continue;
    }
    const relative = (item.url as string).replace(/^\/+/, "");
    const innerHeaders: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries((item.headers as Record<string, string>) ?? {}))
      innerHeaders[name.toLowerCase()] = value;
    const rawBody =
      item.body === undefined ? "" : typeof item.body === "string" ? item.body : JSON.stringify(item.body);
    const inner: SandboxRequest = {
      method: (item.method as string).toUpperCase(),
      url: new URL(`/v1.0/${relative}`, `${ctx.endpoints.graphUrl}/`),
      headers: innerHeaders,
      body: typeof item.body === "object" ? item.body : undefined,
      rawBody,
      requestId: randomUUID(),
      token: req.token,
    };
    // Items are throttled one by one: a 429 (or 503) inside the 200 envelope, with its own
    // Retry-After (https://learn.microsoft.com/graph/json-batching, "throttling and batching").
    const profile = profileFor(ctx.faults, "graph");
    let result: SandboxResponse;
    if (profile.rate429 > 0 && ctx.random() < profile.rate429)
      result = graphThrottled(profile.retryAfterSeconds, inner);
    else if (profile.rate503 > 0 && ctx.random() < profile.rate503) result = graphUnavailable(inner);
    else result = await route(inner, ctx);
    statusById.set(id.toLowerCase(), result.status);
    journalItem(ctx, req, inner, result.status);
    const entry: { id: string; status: number; headers?: Record<string, string>; body?: unknown } = {
      id,
      status: result.status,
    };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower === "content-type") headers["Content-Type"] = value;
      else if (lower === "retry-after") headers["Retry-After"] = value;
      else if (lower === "location") headers.Location = value;
    }
    if (Object.keys(headers).length > 0) entry.headers = headers;
    if (result.body !== undefined) entry.body = result.body;
    responses.push(entry);
  }
  return ok(req, 200, { responses });
}
