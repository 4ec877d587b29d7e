/**
 * The error factory of the F&O OData service: every error body has F&O's shape
 *
 *   {"error":{"code":"","message":"An error has occurred.",
 *             "innererror":{"message":"<real cause>","type":"<.NET type>","stacktrace":"..."}}}
 *
 * with the real cause in `innererror.message` (reference fno-odata.md §2.8 and §8 item 6;
 * https://github.com/microsoft/Dynamics-AX-Integration/issues/61 shows a real body;
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata).
 */

import type { SandboxResponse } from "../core/types.ts";

/** `innererror.type` of a business-logic write failure (validateWrite/insert/update infolog). */
export const AX_WRITE_EXCEPTION_TYPE =
  "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException";
/** `innererror.type` of a request body F&O could not deserialize (the shape of issue #61 above). */
export const DESERIALIZATION_EXCEPTION_TYPE = "System.Reflection.TargetInvocationException";
/** `innererror.type` of an invalid query option or URI (ODataLib's exception). UNCONFIRMED for F&O. */
export const ODATA_EXCEPTION_TYPE = "Microsoft.OData.ODataException";

/** Headers every F&O OData JSON response carries. */
export const ODATA_JSON_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; odata.metadata=minimal; odata.streaming=true",
  "odata-version": "4.0",
};

/** Any F&O error: `status` with the generic top-level message and the cause in `innererror`. */
export function fnoError(
  status: number,
  innerMessage: string,
  type: string,
  stacktrace = "",
  internalException?: { message: string; type: string },
): SandboxResponse {
  const innererror: Record<string, unknown> = { message: innerMessage, type, stacktrace };
  // ASP.NET Web API nests the inner exception of a TargetInvocationException this way
  // (UNCONFIRMED for F&O); clients should only rely on innererror.message/type.
  if (internalException) innererror.internalexception = { ...internalException, stacktrace: "" };
  return {
    status,
    headers: { ...ODATA_JSON_HEADERS },
    body: { error: { code: "", message: "An error has occurred.", innererror } },
  };
}

/**
 * A write rejected by the entity's validation (400, AxODataWriteException). The infolog lines
 * are joined the way the reference quotes them, e.g. "Write failed for table row of type
 * 'SystemUserEntity'. Infolog: Error: Field 'UserInfo_language' must be filled in.; Field
 * 'Helplanguage' must be filled in."
 */
export function writeFailed(axEntity: string, infolog: string[]): SandboxResponse {
  return fnoError(
    400,
    `Write failed for table row of type '${axEntity}'. Infolog: Error: ${infolog.join("; ")}`,
    AX_WRITE_EXCEPTION_TYPE,
    // The frame of the real response quoted in d365fo.integrations' Manage-Users notebook.
    "   at Microsoft.Dynamics.Platform.Integration.Services.OData.Update.UpdateProcessor.CreateEntity_Save(ChangeOperationContext context, ChangeInfo changeInfo)",
  );
}

/** A request body F&O could not read into the entity type (400, TargetInvocationException). */
export function deserializationFailed(cause: string): SandboxResponse {
  return fnoError(
    400,
    "Exception has been thrown by the target of an invocation.",
    DESERIALIZATION_EXCEPTION_TYPE,
    "   at Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataEntityDeserializer.ReadODataBodyAsType(HttpRequestMessage request, Type type)",
    { message: cause, type: ODATA_EXCEPTION_TYPE },
  );
}

/** An invalid URI or query option (400). Text after ASP.NET Web API OData; UNCONFIRMED for F&O. */
export function invalidQuery(cause: string): SandboxResponse {
  return fnoError(400, `The query specified in the URI is not valid. ${cause}`, ODATA_EXCEPTION_TYPE);
}

/** No entity with that key (404). The status is observed; the body is UNCONFIRMED (reference §2.8). */
export function notFound(entityType: string, keyText: string): SandboxResponse {
  return fnoError(
    404,
    `No resource of type '${entityType}' was found for key (${keyText}).`,
    ODATA_EXCEPTION_TYPE,
  );
}
