/**
 * The shape of every service's route table: a list of `{ method, path, handler }` read top to
 * bottom, so a service's whole surface is visible in one file (`routes.ts` in each folder).
 */
import type { SandboxResponse } from "./types.ts";

/** One route: an HTTP method (`*` for any) and a path pattern whose capture groups become `params`. */
export interface Route<Call> {
  method: string;
  path: RegExp;
  handler: (call: Call, params: string[]) => SandboxResponse | Promise<SandboxResponse>;
}

/** The first route matching `method` and `path`, with the path's capture groups. */
export function matchRoute<Call>(
  routes: readonly Route<Call>[],
  method: string,
  path: string,
): { route: Route<Call>; params: string[] } | undefined {
  const upper = method.toUpperCase();
  for (const route of routes) {
    if (route.method !== "*" && route.method !== upper) continue;
    const m = route.path.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => p ?? "") };
  }
  return undefined;
}
