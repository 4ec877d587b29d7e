/**
 * One error type for every API the providers call (design.md principle 6, style.md principle 8).
 *
 * Code branches on {@link ApiError.kind}, never on message text. The only place that looks at
 * message text is {@link parseErrorBody}, and only where the service gives no better signal
 * (Graph reports "no free seats" as a plain `Request_BadRequest`).
 */

/** The systems the HTTP core talks to. */
export type ApiSystem = "entra" | "dataverse" | "powerplatform" | "fno";

/** Normalized error kinds that code branches on. */
export type ApiErrorKind =
  | "NotFound"
  | "Conflict"
  | "Throttled"
  | "Unauthorized"
  | "Forbidden"
  | "Invalid"
  | "Transient"
  | "Unlicensed";

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
  if (status >= 300 && status < 400) return "Unauthorized"; // a redirect to sign-in (F&O): see http.ts
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

type Json = Record<string, unknown>;

function asObject(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

function asString(v: unknown): string | undefined {
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
 * Parses a failed response of one of the four APIs into code, message, request id, kind and a
 * generic hint. Shapes (reference/*.md):
 * - Graph: `{"error":{"code","message","innerError":{"request-id","date"}}}`
 *   (https://learn.microsoft.com/graph/errors)
 * - Dataverse: `{"error":{"code":"0x80040217","message"}}`, request id in `x-ms-service-request-id`
 *   (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors)
 * - F&O: `{"error":{"code":"","message":"An error has occurred.","innererror":{"message","type"}}}`;
 *   the real cause is `innererror.message` (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata)
 * - Power Platform admin (BAP): `{"error":{"code","message"}}` (ARM style); some answers carry
 *   `errors[0].Description` (reference/dataverse.md §8.2; other shapes UNCONFIRMED, parsed leniently).
 */
export function parseErrorBody(
  system: ApiSystem,
  status: number,
  body: unknown,
  headers: Record<string, string | undefined> = {},
): ParsedError {
  const json = toJson(body);
  const root = asObject(json);
  const error = asObject(root?.error);
  let code = asString(error?.code) ?? "";
  let message = asString(error?.message) ?? "";
  let requestId: string | undefined;

  if (system === "entra") {
    const inner = asObject(error?.innerError) ?? asObject(error?.innererror);
    requestId = asString(inner?.["request-id"]) ?? asString(inner?.requestId);
  } else if (system === "fno") {
    const inner = asObject(error?.innererror) ?? asObject(error?.innerError);
    const innerMessage = asString(inner?.message);
    const innerType = asString(inner?.type);
    // F&O's top-level message is the generic "An error has occurred."; the cause is inside.
    if (innerMessage)
      message =
        message && !/^an error has occurred\.?$/i.test(message) ? `${message} ${innerMessage}` : innerMessage;
    if (!code && innerType) code = innerType.split(".").pop() ?? innerType;
  } else if (system === "powerplatform") {
    const errors = Array.isArray(root?.errors) ? root.errors : undefined;
    const first = asObject(errors?.[0]);
    message ||= asString(first?.Description) ?? asString(first?.description) ?? asString(root?.message) ?? "";
    code ||= asString(first?.Code) ?? asString(first?.code) ?? asString(root?.code) ?? "";
  }
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

  const kind = classify(system, status, code, message, root);
  return { code, message: redact(message), requestId, kind, hint: defaultHint(system, status, kind, code) };
}

function classify(
  system: ApiSystem,
  status: number,
  code: string,
  message: string,
  root: Json | undefined,
): ApiErrorKind {
  // Seats exhausted: Graph gives only Request_BadRequest plus this text (reference/graph.md §2.2);
  // the admin API's addUser answers `userNotLicensed` while a new license propagates (§8.2 of dataverse.md).
  if (/does not have any available licenses/i.test(message) || /userNotLicensed/i.test(code))
    return "Unlicensed";
  if (system === "entra") {
    const details = asObject(root?.error)?.details;
    if (Array.isArray(details) && details.some((d) => asObject(d)?.code === "ObjectConflict"))
      return "Conflict";
    if (code === "Request_ResourceNotFound") return "NotFound";
    if (code === "Authorization_RequestDenied") return "Forbidden";
  }
  if (system === "dataverse") {
    const hex = code.toLowerCase();
    if (hex === "0x80040217") return "NotFound"; // ObjectDoesNotExist
    if (hex === "0x80040237") return "Conflict"; // DuplicateRecord (412)
    if (hex === "0x80072322" || hex === "0x80072321" || hex === "0x80072326") return "Throttled"; // service protection
  }
  return kindFromStatus(status);
}

function defaultHint(
  system: ApiSystem,
  status: number,
  kind: ApiErrorKind,
  code: string,
): string | undefined {
  if (status >= 300 && status < 400) {
    return "the service redirected to sign-in instead of answering: the token was refused (for F&O, register the app under System administration > Setup > Microsoft Entra applications)";
  }
  if (kind === "Unauthorized") {
    if (system === "fno") {
      return "the token was refused: check the F&O environment URL is the token audience and the app is registered under System administration > Setup > Microsoft Entra applications";
    }
    return "the token was refused: check tenantId, authorityHost and that the scope matches this service's URL";
  }
  if (kind === "Forbidden") {
    if (system === "entra") {
      return "grant the app the Microsoft Graph application permissions User.ReadWrite.All and LicenseAssignment.ReadWrite.All, with admin consent";
    }
    if (system === "dataverse") {
      return code.toLowerCase() === "0x80072560"
        ? "the app has no enabled application user in this environment: add one with a security role"
        : "give the app's application user a security role that can read and assign users and roles";
    }
    if (system === "powerplatform") return "register the app as a Power Platform management application";
    return "give the app's F&O user the System administrator (or Security administrator) role";
  }
  if (kind === "Throttled")
    return "the service is throttling this app; retry later or lower the parallelism (--parallel)";
  return undefined;
}

/** Builds an {@link ApiError} from a failed response. */
export function errorFromResponse(
  system: ApiSystem,
  status: number,
  body: unknown,
  headers: Record<string, string | undefined>,
  operation?: string,
): ApiError {
  const parsed = parseErrorBody(system, status, body, headers);
  return new ApiError({ system, status, operation, ...parsed });
}
