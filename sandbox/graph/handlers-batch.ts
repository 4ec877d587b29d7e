/**
 * JSON batching (https://learn.microsoft.com/graph/json-batching): at most 20 requests, unique
 * ids, `dependsOn` honoured (a request depending on a failed one gets 424), relative URLs with or
 * without the leading slash; each inner request is routed like a top-level one.
 */
import { randomUUID } from "node:crypto";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { graphError } from "./errors.ts";
import { ok } from "./views.ts";

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
    const result = await route(inner, ctx);
    statusById.set(id.toLowerCase(), result.status);
    const entry: { id: string; status: number; headers?: Record<string, string>; body?: unknown } = {
      id,
      status: result.status,
    };
    const contentType = Object.entries(result.headers ?? {}).find(
      ([h]) => h.toLowerCase() === "content-type",
    )?.[1];
    if (contentType) entry.headers = { "Content-Type": contentType };
    if (result.body !== undefined) entry.body = result.body;
    responses.push(entry);
  }
  return ok(req, 200, { responses });
}
