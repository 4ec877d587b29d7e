/**
 * The Power Platform admin API's one error factory and JSON renderer: the ARM-style
 * `{"error":{"code","message"}}` body BAP uses, with its request-id headers. Codes other than
 * `userNotLicensed` are UNCONFIRMED (see docs/fidelity.md).
 */
import type { SandboxRequest, SandboxResponse } from "../core/types.ts";

export function json(
  req: SandboxRequest,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "x-ms-request-id": req.requestId,
      "x-ms-correlation-request-id": req.requestId,
      ...extra,
    },
    body,
  };
}

/** A BAP error. */
export function error(
  req: SandboxRequest,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
) {
  return json(req, status, { error: { code, message } }, extra);
}

export function unrouted(req: SandboxRequest): SandboxResponse {
  return error(
    req,
    501,
    "NotImplemented",
    `The sandbox does not emulate ${req.method} ${req.url.pathname} (Power Platform admin API).`,
  );
}
