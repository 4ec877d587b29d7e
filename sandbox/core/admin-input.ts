/**
 * Reading the JSON bodies of admin routes: each helper returns the typed field or throws an
 * `AdminInputError` naming it, which the admin API renders as a 400.
 */
import type { SandboxResponse } from "./types.ts";

/** A bad admin request (rendered 400 with its message). */
export class AdminInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminInputError";
  }
}

type Body = Record<string, unknown>;

/** A required (or, with `optional`, possibly absent) string field. */
export function text(body: Body, name: string): string;
export function text(body: Body, name: string, optional: true): string | undefined;
export function text(body: Body, name: string, optional = false): string | undefined {
  const value = body[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== "string" || value.trim() === "")
    throw new AdminInputError(`'${name}' must be a non-empty string`);
  return value;
}

/** An optional array of strings (default `[]`). */
export function texts(body: Body, name: string): string[] {
  const value = body[name] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw new AdminInputError(`'${name}' must be an array of strings`);
  return value as string[];
}

/** An optional boolean. */
export function flag(body: Body, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new AdminInputError(`'${name}' must be true or false`);
  return value;
}

/** An optional array of objects (default `[]`). */
export function records(body: Body, name: string): Body[] {
  const value = body[name] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "object" || v === null || Array.isArray(v)))
    throw new AdminInputError(`'${name}' must be an array of objects`);
  return value as Body[];
}

/** A JSON answer of the admin API. */
export function adminJson(status: number, body?: unknown): SandboxResponse {
  return body === undefined ? { status } : { status, body };
}
