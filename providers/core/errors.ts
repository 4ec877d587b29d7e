/**
 * One error type for every API the providers call.
 *
 * Code branches on {@link ApiError.kind}, never on message text. The only places that look at
 * message text are the services' error dialects (service.ts), and only where a service gives no
 * better signal.
 */
import type { Json, ServiceSpec } from "./service.ts";

/** The name of the service that answered, as its system declares it (service.ts). */
export type ApiSystem = string;

/**
 * Normalized error kinds that code branches on. `Stale`: the service refused the request in a
 * way that also happens while a replica has not yet seen an earlier write (eventual
 * consistency); a named wait after that write retries it, anywhere else it is a refusal.
 */
export type ApiErrorKind =
  | "NotFound"
  | "Conflict"
  | "Throttled"
  | "Unauthorized"
  | "Forbidden"
  | "Invalid"
  | "Transient"
  | "Unlicensed"
  | "Stale";

/** Constructor options of {@link ApiError}. */
export interface ApiErrorOptions {
  /** The system that answered (or was being called). */
  system: ApiSystem;
  /** HTTP status; 0 when no response was received (network error, token acquisition). */
  status: number;
  /** The API's own error code (Graph `Request_ResourceNotFound`, Dataverse `0x80040217`, …); "" when none. */
  code?: string;
  /** The API's message, cleaned to one line. */
  message: string;
  /** The service's request id, for support tickets. */
  requestId?: string;
  /** What the user can do about it (e.g. the missing permission). */
  hint?: string;
  /** Normalized kind; derived from status and code when omitted. */
  kind?: ApiErrorKind;
  /** The HTTP method and path (no query, no host) of the failing request, for context. */
  operation?: string;
}

// A JWT (three base64url parts, the first starting with `eyJ` = '{"') or a bearer header value.
const TOKEN_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER_PATTERN = /(bearer\s+)[^\s"',;]+/gi;
const SECRET_PARAM = /((?:client_secret|client_assertion|access_token|password|sig)=)[^&\s"']+/gi;

/**
 * Removes anything that looks like a token or secret and folds the text to one line.
 * Applied to every message and hint an {@link ApiError} carries.
 */
export function redact(text: string): string {
  return text
    .replace(TOKEN_PATTERN, "<redacted-token>")
    .replace(BEARER_PATTERN, "$1<redacted>")
    .replace(SECRET_PARAM, "$1<redacted>")
    .replace(/\s*[\r\n]+\s*/g, " ")
    .trim();
}

/** The error every client method throws for a failed call. */
export class ApiError extends Error {
  /** The system that answered. */
  readonly system: ApiSystem;
  /** HTTP status; 0 when no response was received. */
  readonly status: number;
  /** The API's error code, "" when none. */
  readonly code: string;
  /** The service's request id, when it sent one. */
  readonly requestId: string | undefined;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** Normalized kind that code branches on. */
  readonly kind: ApiErrorKind;
  /** Method and path of the failing request, when known. */
  readonly operation: string | undefined;

  constructor(options: ApiErrorOptions) {
    super(redact(options.message || "(no message)"));
    this.name = "ApiError";
    this.system = options.system;
    this.status = options.status;
    this.code = options.code ?? "";
    this.requestId = options.requestId || undefined;
    this.hint = options.hint ? redact(options.hint) : undefined;
    this.kind = options.kind ?? kindFromStatus(options.status);
    this.operation = options.operation ? redact(options.operation) : undefined;
  }

  /**
   * One line a user can act on, e.g.
   * `entra 403 Authorization_RequestDenied on POST /v1.0/users: Insufficient privileges … (request-id …). Hint: grant …`.
   */
  override toString(): string {
    const status = this.status ? ` ${this.status}` : "";
    const code = this.code ? ` ${this.code}` : "";
    const op = this.operation ? ` on ${this.operation}` : "";
    const rid = this.requestId ? ` (request-id ${this.requestId})` : "";
    const hint = this.hint ? ` Hint: ${this.hint.replace(/[.\s]+$/, "")}.` : "";
    const message = this.message.replace(/[.\s]+$/, "");
    return `${this.system}${status}${code}${op}: ${message}${rid}.${hint}`;
  }

  /** Returns a copy with a different hint (client methods know which permission an operation needs). */
  withHint(hint: string): ApiError {
    return new ApiError({ ...this.toOptions(), hint });
  }

  /** The options this error was built from. */
  toOptions(): ApiErrorOptions {
    return {
      system: this.system,
      status: this.status,
      code: this.code,
      message: this.message,
      requestId: this.requestId,
      hint: this.hint,
      kind: this.kind,
      operation: this.operation,
    };
  }
}

/** Type guard; with `kind`, also checks the normalized kind. */
export function isApiError(e: unknown, kind?: ApiErrorKind): e is ApiError {
  return e instanceof ApiError && (kind === undefined || e.kind === kind);
}

/** The kind an HTTP status implies before looking at the body. */
export function kindFromStatus(status: number): ApiErrorKind {
  if (status === 0) return "Transient";
  if (status >= 300 && status < 400) return "Unauthorized"; // a redirect to a sign-in page: see http.ts
  if (status === 401) return "Unauthorized";
  if (status === 403) return "Forbidden";
  if (status === 404 || status === 410) return "NotFound";
  if (status === 409 || status === 412) return "Conflict";
  if (status === 429) return "Throttled";
  if (status === 408 || status >= 500) return "Transient";
  return "Invalid";
}

/** What {@link parseErrorBody} extracts from an error response. */
export interface ParsedError {
  code: string;
  message: string;
  requestId: string | undefined;
  kind: ApiErrorKind;
  hint: string | undefined;
}

/** The object, or undefined for anything else (for error dialects reading a body). */
export function asObject(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The non-empty string, or undefined. */
export function asString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function toJson(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function header(headers: Record<string, string | undefined>, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = headers[name] ?? headers[name.toLowerCase()];
    if (v) return v;
  }
  return undefined;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  412: "Precondition failed",
  429: "Too many requests",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service unavailable",
  504: "Gateway timeout",
};

/**
 * Parses a failed response into code, message, request id, kind and a hint. The common shape is
 * OData's and ARM's `{"error":{"code","message"}}`; a service's {@link ErrorDialect} reads what
 * it adds (an inner message, a request id in the body), names kinds its codes imply and gives
 * hints. Request ids come from the usual headers when the body has none.
 */
export function parseErrorBody(
  service: Pick<ServiceSpec, "name" | "errors">,
  status: number,
  body: unknown,
  headers: Record<string, string | undefined> = {},
): ParsedError {
  const json = toJson(body);
  const root = asObject(json);
  const error = asObject(root?.error);
  const common = {
    code: asString(error?.code) ?? "",
    message: asString(error?.message) ?? "",
    requestId: undefined,
  };
  let { code, message, requestId } = { ...common, ...service.errors?.parse?.({ root, error }, common) };
  if (!message && typeof json === "string" && json.trim() && !json.trimStart().startsWith("<")) {
    message = json.trim().slice(0, 300);
  }
  message ||= STATUS_TEXT[status] ?? `HTTP ${status}`;
  requestId ??= header(
    headers,
    "request-id",
    "x-ms-request-id",
    "x-ms-service-request-id",
    "client-request-id",
  );
  const kind = service.errors?.classify?.({ status, code, message, root }) ?? kindFromStatus(status);
  const hint = service.errors?.hint?.({ status, kind, code }) ?? genericHint(status, kind);
  return { code, message: redact(message), requestId, kind, hint };
}

function genericHint(status: number, kind: ApiErrorKind): string | undefined {
  if (status >= 300 && status < 400) {
    return "the service redirected to sign-in instead of answering: the token was refused";
  }
  if (kind === "Unauthorized") {
    return "the token was refused: check tenantId, authorityHost and that the scope matches this service's URL";
  }
  if (kind === "Forbidden") return "the app lacks a permission this call needs in this service";
  if (kind === "Throttled")
    return "the service is throttling this app; retry later or lower the parallelism (--parallel)";
  return undefined;
}

/** Builds an {@link ApiError} from a failed response. */
export function errorFromResponse(
  service: Pick<ServiceSpec, "name" | "errors">,
  status: number,
  body: unknown,
  headers: Record<string, string | undefined>,
  operation?: string,
): ApiError {
  const parsed = parseErrorBody(service, status, body, headers);
  return new ApiError({ system: service.name, status, operation, ...parsed });
}
