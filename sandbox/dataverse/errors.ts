/**
 * Dataverse Web API responses and errors as the service renders them.
 *
 * Error body `{"error":{"code":"0x…","message":"…"}}`, `Content-Type: application/json;
 * odata.metadata=minimal`, `OData-Version: 4.0`; with `Prefer: odata.include-annotations="*"` the
 * error gains the `@Microsoft.PowerApps.CDS.*` annotations
 * (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors;
 * reference dataverse.md §5).
 */
import type { SandboxRequest, SandboxResponse } from "../core/types.ts";

/** Hex codes the sandbox emits, with the reference's evidence. */
export const DataverseErrorCode = {
  /** ObjectDoesNotExist, 404 [DOC]. */
  objectDoesNotExist: "0x80040217",
  /** DuplicateRecord, 412 [DOC]. */
  duplicateRecord: "0x80040237",
  /** "The user is not a member of the organization.", 403 [DOC]. */
  notMemberOfOrganization: "0x80072560",
  /** URL/query parse error; unknown segment or property [TF/COMMUNITY]. */
  queryParse: "0x80060888",
  /** Alternate-key miss [COMMUNITY]. */
  alternateKeyNotFound: "0x80060891",
  /** DuplicateApplicationUser [DOC]. */
  duplicateApplicationUser: "0x8004F511",
  /** PrivilegeDenied: "The user does not hold the necessary privileges." [DOC]. */
  privilegeDenied: "0x80040220",
  /** unManagedidsusernotenabled: "The specified user is either disabled or is not a member of any business unit." [DOC]. */
  userDisabled: "0x80040225",
  /** UserInWrongBusiness: the role's business unit is not the user's [DOC]; status UNCONFIRMED. */
  userInWrongBusiness: "0x80041409",
  /** UserCannotEnableWithoutLicense: "Cannot enable an unlicensed user" [DOC]. */
  userCannotEnableWithoutLicense: "0x8004D24C",
  /** Generic invalid argument; used where the reference leaves the code UNCONFIRMED. */
  invalidArgument: "0x80040203",
  /** Service protection: number of requests [DOC api-limits]. */
  throttledRequests: "0x80072322",
  /** Service protection: concurrent requests [DOC api-limits]. */
  throttledConcurrency: "0x80072326",
} as const;

/** Headers every Dataverse response carries. */
export function dataverseHeaders(
  req: SandboxRequest,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "OData-Version": "4.0",
    REQ_ID: req.requestId,
    "x-ms-service-request-id": req.requestId,
    ...extra,
  };
}

/** A JSON success response with Dataverse's headers. */
export function dataverseJson(
  req: SandboxRequest,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: dataverseHeaders(req, { "Content-Type": "application/json; odata.metadata=minimal", ...extra }),
    body,
  };
}

/** A bodiless response (204) with Dataverse's headers. */
export function dataverseNoContent(req: SandboxRequest, extra: Record<string, string> = {}): SandboxResponse {
  return { status: 204, headers: dataverseHeaders(req, extra) };
}

function wantsAnnotations(req: SandboxRequest): boolean {
  const prefer = req.headers.prefer ?? "";
  return /odata\.include-annotations\s*=\s*"?(\*|[^"]*Microsoft\.PowerApps\.CDS)/i.test(prefer);
}

/** Renders a Dataverse error. */
export function dataverseError(
  req: SandboxRequest,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): SandboxResponse {
  const error: Record<string, unknown> = { code, message };
  if (wantsAnnotations(req)) {
    error["@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus"] = "0";
    error["@Microsoft.PowerApps.CDS.HelpLink"] =
      `http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a${code.slice(2)}&client=platform`;
    error["@Microsoft.PowerApps.CDS.TraceText"] = "";
    error["@Microsoft.PowerApps.CDS.InnerError.Message"] = message;
  }
  return dataverseJson(req, status, { error }, extra);
}

/**
 * A loud 501 for what the sandbox does not emulate. Deliberately bare (no Dataverse headers): it is
 * the sandbox speaking, not an answer real Dataverse would give.
 */
export function notEmulated(message: string): SandboxResponse {
  return {
    status: 501,
    headers: { "Content-Type": "application/json" },
    body: { error: { code: DataverseErrorCode.queryParse, message } },
  };
}

/** A thrown error that the module renders as a Dataverse error response. */
export class DataverseHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "DataverseHttpError";
    this.status = status;
    this.code = code;
  }
}

/** 404 `0x80040217` "Entity '<entity>' With Id = <id> Does Not Exist". */
export function notFound(entity: string, id: string): DataverseHttpError {
  return new DataverseHttpError(
    404,
    DataverseErrorCode.objectDoesNotExist,
    `Entity '${entity}' With Id = ${id} Does Not Exist`,
  );
}

/** 400 `0x80060888` for URL and query errors. */
export function badQuery(message: string, status = 400): DataverseHttpError {
  return new DataverseHttpError(status, DataverseErrorCode.queryParse, message);
}
