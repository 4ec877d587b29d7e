/**
 * Which port each origin listens on: ephemeral (port 0, for tests), the stable ports the CLI
 * uses so a restart keeps the same origins (and clients' config stays valid), or explicit ones.
 */
import type { SeedInfo } from "./types.ts";

/** Stable ports: admin, sign-in, Graph, Power Platform, then Dataverse and F&O per environment. */
export const STABLE_PORTS = {
  admin: 47300,
  login: 47301,
  graph: 47302,
  powerplatform: 47303,
  environmentBase: 47310,
} as const;

/** Origin keys: "admin", "login", "graph", "powerplatform", "dataverse:<env>", "fno:<env>". */
export type PortChoice = "ephemeral" | "stable" | Record<string, number>;

/** Stable ports by origin key, shifted so that `admin` listens on `base` (default 47300). */
export function stablePorts(info: SeedInfo, base: number = STABLE_PORTS.admin): Record<string, number> {
  const shift = base - STABLE_PORTS.admin;
  const ports: Record<string, number> = {
    admin: STABLE_PORTS.admin + shift,
    login: STABLE_PORTS.login + shift,
    graph: STABLE_PORTS.graph + shift,
    powerplatform: STABLE_PORTS.powerplatform + shift,
  };
  info.environments.forEach((e, i) => {
    ports[`dataverse:${e.name}`] = STABLE_PORTS.environmentBase + shift + 2 * i;
    ports[`fno:${e.name}`] = STABLE_PORTS.environmentBase + shift + 2 * i + 1;
  });
  return ports;
}

/** The port of origin `key` under `choice` (0 = ephemeral). */
export function portOf(choice: PortChoice | undefined, info: SeedInfo, key: string): number {
  if (typeof choice === "object") return choice[key] ?? 0;
  return choice === "stable" ? (stablePorts(info)[key] ?? 0) : 0;
}
